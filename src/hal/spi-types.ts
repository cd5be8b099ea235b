/** The SPI interface: a bus device that clocks bytes both ways (the real backend and the fake implement it). */
export interface SpiOptions {
  /** SPI mode 0..3 (CPOL, CPHA); the ADS1299 uses mode 1. */
  mode: number;
  /** Clock, Hz. */
  speedHz: number;
  /** spidev bus and chip select (/dev/spidevBUS.CS): spi-device opens by numbers. */
  bus: number;
  chipSelect: number;
}

export interface SpiDevice {
  readonly path: string;
  /** Clocks tx out and rx in, the same length, with chip select held for the whole transfer. */
  transfer(tx: Uint8Array, rx: Uint8Array): void;
  close(): void;
}
