import type { SampleBlock } from '../core/block.js';

/**
 * The predictor's input window from a feature stream: the last `samples` feature
 * samples of every channel, CHANNEL-MAJOR (as the Predictor and ControlLoop.pushWindow
 * take it). Preallocated; `push` calls `onWindow` once per new feature sample with the
 * window ending at it (the array is reused: copy or hand it on before returning).
 */
export class FeatureWindow {
  readonly channels: number;
  readonly samples: number;
  readonly window: Float32Array;
  /** Feature samples seen; the window is complete once this reaches `samples`. */
  seen = 0;

  constructor(channels: number, samples: number) {
    if (!Number.isInteger(channels) || channels < 1 || !Number.isInteger(samples) || samples < 1) {
      throw new RangeError(`a feature window needs whole channels >= 1 and samples >= 1, got ${channels} x ${samples}`);
    }
    this.channels = channels;
    this.samples = samples;
    this.window = new Float32Array(channels * samples);
  }

  /** Append a block of features; returns how many complete windows it produced. */
  push(block: SampleBlock, onWindow: (w: Float32Array, block: SampleBlock, index: number) => void): number {
    if (block.channels !== this.channels) throw new RangeError(`feature block has ${block.channels} channels, the window ${this.channels}`);
    const S = this.samples;
    const w = this.window;
    let made = 0;
    for (let i = 0; i < block.samples; i++) {
      for (let c = 0; c < this.channels; c++) {
        const base = c * S;
        w.copyWithin(base, base + 1, base + S);
        w[base + S - 1] = block.data[c * block.samples + i]!;
      }
      this.seen++;
      if (this.seen >= S) {
        made++;
        onWindow(w, block, i);
      }
    }
    return made;
  }

  reset(): void {
    this.window.fill(0);
    this.seen = 0;
  }
}
