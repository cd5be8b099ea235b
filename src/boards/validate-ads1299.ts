/** The `ads1299` source of a board file (boards/board.schema.json, "source"; docs/ads1299.md). */
import type { Validator } from '../core/validate.js';
import type { Ads1299Gain, Ads1299Input, Ads1299Rate, SourceDef } from './types.js';

/** Data rates of CONFIG1 DR[2:0] (ADS1299 datasheet, CONFIG1), SPS. */
export const ADS1299_RATES: readonly Ads1299Rate[] = [250, 500, 1000, 2000, 4000, 8000, 16000];
/** PGA gains of CHnSET GAIN[2:0]. */
export const ADS1299_GAINS: readonly Ads1299Gain[] = [1, 2, 4, 6, 8, 12, 24];
export const ADS1299_INPUTS: readonly Ads1299Input[] = ['normal', 'shorted', 'test'];
/** Channels of an ADS1299 (the -8 part: ID 0x3E). */
export const ADS1299_CHANNELS = 8;

function member<T extends number>(v: Validator, raw: unknown, path: string, options: readonly T[]): T {
  // A rate or gain the chip has no setting for would silently become another one: refuse it.
  if (typeof raw !== 'number' || !options.includes(raw as T)) v.fail(path, `must be one of ${options.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

export function validateAds1299Source(v: Validator, s: Record<string, unknown>): SourceDef {
  v.onlyKeys(s, 'source', ['kind', 'rate', 'channels', 'gain', 'input', 'gains', 'inputs', 'blockSamples']);
  const channels = v.integer(s.channels, 'source.channels', [1, ADS1299_CHANNELS]);
  const src: Extract<SourceDef, { kind: 'ads1299' }> = { kind: 'ads1299', rate: member(v, s.rate, 'source.rate', ADS1299_RATES), channels };
  if (s.gain !== undefined) src.gain = member(v, s.gain, 'source.gain', ADS1299_GAINS);
  if (s.input !== undefined) src.input = v.oneOf(s.input, 'source.input', ADS1299_INPUTS);
  if (s.gains !== undefined) {
    src.gains = v.array(s.gains, 'source.gains').map((g, i) => member(v, g, `source.gains[${i}]`, ADS1299_GAINS));
    if (src.gains.length !== channels) v.fail('source.gains', `has ${src.gains.length} entries for ${channels} channels: give one per channel`);
  }
  if (s.inputs !== undefined) {
    src.inputs = v.array(s.inputs, 'source.inputs').map((m, i) => v.oneOf(m, `source.inputs[${i}]`, ADS1299_INPUTS));
    if (src.inputs.length !== channels) v.fail('source.inputs', `has ${src.inputs.length} entries for ${channels} channels: give one per channel`);
  }
  if (s.blockSamples !== undefined) src.blockSamples = v.integer(s.blockSamples, 'source.blockSamples', [1, 255]);
  return src;
}
