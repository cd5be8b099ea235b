/**
 * ADS1299 register map and commands (TI SBAS499, "SPI Command Definitions" and "Register Map"),
 * and the register values a board's `ads1299` source asks for.
 */
import type { Ads1299Gain, Ads1299Input, Ads1299Rate, SourceDef } from '../../boards/types.js';

export const Cmd = {
  WAKEUP: 0x02,
  STANDBY: 0x04,
  RESET: 0x06,
  START: 0x08,
  STOP: 0x0a,
  RDATAC: 0x10,
  SDATAC: 0x11,
  RDATA: 0x12,
  /** First byte 001r rrrr (start address), second 000n nnnn (registers - 1). */
  RREG: 0x20,
  WREG: 0x40,
} as const;

export const Reg = {
  ID: 0x00,
  CONFIG1: 0x01,
  CONFIG2: 0x02,
  CONFIG3: 0x03,
  LOFF: 0x04,
  /** CH1SET; CHnSET is CH1SET + n - 1. */
  CH1SET: 0x05,
  BIAS_SENSP: 0x0d,
  BIAS_SENSN: 0x0e,
  MISC1: 0x15,
  CONFIG4: 0x17,
} as const;

/** ID of an 8-channel ADS1299: REV_ID 001, bit 4 = 1, DEV_ID 11, NU_CH 10. */
export const ADS1299_8_ID = 0x3e;
/** 24-bit status word + 8 channels of 24 bits. */
export const FRAME_BYTES = 27;
export const CHANNELS = 8;
/** Internal reference, volts (CONFIG3 PD_REFBUF = 1). */
export const VREF_V = 4.5;

/** CONFIG1 DR[2:0] per rate: fMOD / 4096 (000, 16 kSPS) ... fMOD / 256... down to 110 (250 SPS). */
const DR: Record<Ads1299Rate, number> = { 16000: 0, 8000: 1, 4000: 2, 2000: 3, 1000: 4, 500: 5, 250: 6 };
const GAIN_BITS: Record<Ads1299Gain, number> = { 1: 0, 2: 1, 4: 2, 6: 3, 8: 4, 12: 5, 24: 6 };
/** MUX[2:0]: 000 normal electrode input, 001 input shorted, 101 test signal. */
const MUX_BITS: Record<Ads1299Input, number> = { normal: 0, shorted: 1, test: 5 };

/** CONFIG1: bit 7 reserved 1, DAISY_EN' = 1 (multiple readback), CLK_EN = 0, bits 4:3 reserved 10, then DR. */
export function config1(rate: Ads1299Rate): number {
  return 0x90 | DR[rate];
}

/** CONFIG2: reserved 110 in bits 7:5; INT_CAL = 1 so "test" inputs see the internal square wave (1x, fCLK / 2^21). */
export const CONFIG2_TEST = 0xd0;
/** CONFIG3: PD_REFBUF = 1 (internal 4.5 V reference), reserved 11, bias off: 0xE0. */
export const CONFIG3_REF = 0xe0;

/** CHnSET for an on channel: PD = 0, GAIN, SRB2 = 0, MUX. */
export function chset(gain: Ads1299Gain, input: Ads1299Input): number {
  return (GAIN_BITS[gain] << 4) | MUX_BITS[input];
}
/** A powered-down channel with its inputs shorted (the datasheet's advice for unused channels): 0x81. */
export const CHSET_OFF = 0x81;

export type Ads1299SourceDef = Extract<SourceDef, { kind: 'ads1299' }>;

/** Per channel gain and input the board asks for (defaults: gain 24, normal input). */
export function channelSettings(src: Ads1299SourceDef): Array<{ gain: Ads1299Gain; input: Ads1299Input }> {
  return Array.from({ length: src.channels }, (_, i) => ({ gain: src.gains?.[i] ?? src.gain ?? 24, input: src.inputs?.[i] ?? src.input ?? 'normal' }));
}

/**
 * The register writes of a setup, in order: CONFIG3 (reference on first: the datasheet's start-up
 * flow powers the reference before conversions), CONFIG1, CONFIG2, then CH1SET..CH8SET in one WREG.
 */
export function setupWrites(src: Ads1299SourceDef): Array<{ reg: number; values: number[] }> {
  const ch = channelSettings(src);
  const chsets = Array.from({ length: CHANNELS }, (_, i) => (i < ch.length ? chset(ch[i]!.gain, ch[i]!.input) : CHSET_OFF));
  return [
    { reg: Reg.CONFIG3, values: [CONFIG3_REF] },
    { reg: Reg.CONFIG1, values: [config1(src.rate)] },
    { reg: Reg.CONFIG2, values: [CONFIG2_TEST] },
    { reg: Reg.CH1SET, values: chsets },
  ];
}

/** µV per count at `gain`: LSB = 2 * VREF / gain / 2^24. */
export function uvPerCount(gain: number): number {
  return ((2 * VREF_V) / gain / 2 ** 24) * 1e6;
}

/** Big-endian 24-bit two's complement at `off`. */
export function int24(buf: Uint8Array, off: number): number {
  const v = (buf[off]! << 16) | (buf[off + 1]! << 8) | buf[off + 2]!;
  return (v << 8) >> 8;
}
