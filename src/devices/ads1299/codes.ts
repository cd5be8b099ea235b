/** Error codes of the ADS1299 source (docs/errors.md, "devices/ads1299"). */
export const Ads1299Codes = {
  /** The ADC on the SPI bus did not identify as an 8-channel ADS1299 (ID register). */
  id: 'E_ADS1299_ID',
  /** The ADC's data-ready line gave no edge for the stall timeout: the chip is re-initialised. */
  stall: 'E_ADS1299_STALL',
  /** The reader thread (the one that services data-ready and reads frames) died: the source stops streaming. */
  reader: 'E_ADS1299_READER',
} as const;
