import type { SampleBlock } from '../core/block.js';
import { BlockBuffer } from './block-buffer.js';
import { SettingsReader } from './settings.js';
import type { Unit, UnitKind } from './types.js';

/** Full-wave rectification takes no settings. */
export type RectifySettings = Record<string, never>;

export class Rectify implements Unit<RectifySettings> {
  readonly kind = 'rectify';
  readonly settings: Readonly<RectifySettings> = Object.freeze({});
  readonly #out = new BlockBuffer();

  process(input: SampleBlock): SampleBlock {
    const out = this.#out.like(input);
    const x = input.data;
    const y = out.data;
    for (let i = 0; i < x.length; i++) y[i] = Math.abs(x[i]!);
    return out;
  }

  reset(): void {}
}

export const rectifyKind: UnitKind<RectifySettings> = {
  kind: 'rectify',
  summary: 'full-wave rectification |x|',
  parse(raw, at) {
    new SettingsReader(raw, at, []);
    return {};
  },
  create: () => new Rectify(),
};
