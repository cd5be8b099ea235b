/**
 * OpenBCI Cyton byte format, as given by OpenBCI's "Cyton Data Format" document
 * (docs.openbci.com/Cyton/CytonDataFormat, firmware v2.0.0 and later). See docs/cyton.md.
 *
 *   byte 0       0xA0 header
 *   byte 1       sample number, u8, wraps
 *   bytes 2..25  8 channels x 24-bit big-endian two's complement (ADS1299 counts)
 *   bytes 26..31 6 aux bytes, meaning given by the footer
 *   byte 32      footer 0xCX; X selects the aux layout (0..6 defined)
 */
export const CYTON_PACKET_BYTES = 33;
export const CYTON_HEADER = 0xa0;
export const CYTON_CHANNELS = 8;
export const CYTON_RATE_HZ = 250;
export const CYTON_BAUD = 115200;
/** One sample period in microseconds at 250 Hz. */
export const CYTON_PERIOD_US = 4000;
export const CYTON_DEFAULT_GAIN = 24;

/**
 * With a Daisy module (document, "16 Channel Data with Daisy Module"): the board still sends
 * 250 packets a second, odd sample numbers carrying the board's 8 channels and even ones the
 * Daisy's, each the average of two consecutive ADS1299 readings; one odd packet and the even
 * packet after it make one 16-channel sample, so 125 samples a second.
 */
export const DAISY_CHANNELS = 16;
export const DAISY_RATE_HZ = 125;
/** One 16-channel sample period in microseconds at 125 Hz (two packets). */
export const DAISY_PERIOD_US = 8000;
/** ADS1299 gains the board accepts (x1 .. x24). */
export const CYTON_GAINS: readonly number[] = [1, 2, 4, 6, 8, 12, 24];

/** Footer values by the document's names. */
export const Footer = {
  /** Standard with accel: 3 x int16 BE (X, Y, Z). */
  STANDARD_ACCEL: 0xc0,
  /** Standard with raw aux: 6 user bytes. */
  RAW_AUX: 0xc1,
  /** User defined: 6 user bytes. */
  USER_DEFINED: 0xc2,
  /** Time stamped *set* with accel: AC, AV, T3..T0. */
  TIME_SET_ACCEL: 0xc3,
  /** Time stamped with accel: AC, AV, T3..T0. */
  TIME_ACCEL: 0xc4,
  /** Time stamped *set* with raw aux: 2 user bytes, T3..T0. */
  TIME_SET_RAW_AUX: 0xc5,
  /** Time stamped with raw aux: 2 user bytes, T3..T0. */
  TIME_RAW_AUX: 0xc6,
} as const;

/** True for any 0xC0..0xCF byte: the document frames every packet with 0xCX. */
export function isFooter(b: number): boolean {
  return (b & 0xf0) === 0xc0;
}

/** µV per count: 4.5 V / gain / (2^23 - 1), in microvolts (OpenBCI's scale factor). */
export function microvoltsPerCount(gain: number): number {
  if (!CYTON_GAINS.includes(gain)) {
    throw new RangeError(`Cyton gain ${gain} is not one of ${CYTON_GAINS.join(', ')}: fix "gain" in the board file`);
  }
  return (4.5 / gain / (2 ** 23 - 1)) * 1e6;
}

/** g per accelerometer count: 0.002 / 2^4 (LIS3DH at ±4 g, 12-bit left-justified). */
export const ACCEL_G_PER_COUNT = 0.002 / 16;

/** Signed 24-bit big-endian at `o`. */
export function readInt24BE(b: Uint8Array, o: number): number {
  const v = (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
  return (v << 8) >> 8;
}

/** Signed 16-bit big-endian at `o`. */
export function readInt16BE(b: Uint8Array, o: number): number {
  const v = (b[o]! << 8) | b[o + 1]!;
  return (v << 16) >> 16;
}

/** Unsigned 32-bit big-endian at `o` (T3 is the most significant byte). */
export function readUint32BE(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}
