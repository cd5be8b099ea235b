/**
 * The runtime's window path for the benches, step for step as src/runtime/chain.ts
 * `SampleChain.onSamples` does it: a clock-mapped block goes through the model's units pipeline into
 * an Aligner, and the time-major window ending at the block's last feature sample goes to
 * the loop if it is complete and valid. Blocks the clock model left unmapped are dropped,
 * as the runtime drops them.
 */
import { Aligner } from '../src/align/aligner.js';
import type { SampleBlock } from '../src/core/block.js';
import { readModelMeta } from '../src/predict/metadata.js';
import { buildPipeline } from '../src/units/registry.js';

export class RuntimeWindows {
  readonly aligner: Aligner;
  readonly windowMs: number;
  /** Reused for every window: hand it on (pushWindow copies) before the next push. */
  readonly window: Float32Array;
  readonly #pipeline: ReturnType<typeof buildPipeline>;
  windows = 0;
  invalid = 0;
  unmapped = 0;

  /** `sourceRate`: the raw EMG rate the model's pipeline runs on. */
  constructor(modelDir: string, sourceRate: number) {
    const meta = readModelMeta(modelDir);
    const { channels, samples, rateHz, windowMs } = meta.input;
    this.#pipeline = buildPipeline((meta.features as { pipeline: unknown[] }).pipeline, { at: 'features', input: { rate: sourceRate, channels } });
    // Same capacity and stream as the runtime's aligner.
    this.aligner = new Aligner({ capacitySeconds: Math.max(2, (windowMs / 1000) * 4) });
    this.aligner.addEmg('emg', { channels, rate: rateHz });
    this.windowMs = windowMs;
    this.window = new Float32Array(samples * channels);
  }

  /** One raw, clock-mapped block in; `onWindow` gets the new window (and its end time) if there is one. */
  push(block: SampleBlock, onWindow: (w: Float32Array, endMs: number) => void): void {
    if (!Number.isFinite(block.hostTimeMs)) {
      this.unmapped++;
      return;
    }
    const feat = this.#pipeline.process(block);
    if (feat.samples === 0) return;
    this.aligner.pushBlock(feat);
    const endMs = feat.hostTimeMs + (feat.samples - 1) * feat.hostPeriodMs;
    if (!this.aligner.window(endMs, this.windowMs, this.window)) {
      this.invalid++;
      return;
    }
    this.windows++;
    onWindow(this.window, endMs);
  }
}
