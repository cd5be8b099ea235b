/**
 * The per-sample path of a run: each clock-mapped EMG block through the model's feature units
 * into the aligner, and the window ending at the block's last sample on to the loop; tracker
 * samples into the aligner beside it. Raw, feature and tracker telemetry go out on the way.
 *
 * The pipeline and aligner are rebuilt when the model changes; per sample nothing is allocated.
 */
import { Aligner } from '../align/aligner.js';
import type { BoardDef } from '../boards/types.js';
import type { SampleBlock } from '../core/block.js';
import type { Counters } from '../core/counters.js';
import { ReflexError } from '../core/errors.js';
import type { TrackerSample } from '../devices/tracker/types.js';
import type { ControlLoop } from '../loop/loop.js';
import type { ReflexModelMeta } from '../predict/metadata.js';
import type { SetValue } from '../telemetry/control-protocol.js';
import type { TelemetryPublisher } from '../telemetry/publisher.js';
import type { TopicBodies } from '../telemetry/topics.js';
import { buildPipeline, type Pipeline } from '../units/index.js';
import { emgChannels, emgRateHz, trackerShape } from './board-facts.js';
import type { RunConfig } from './config.js';
import { RuntimeCodes } from './codes.js';

export interface SampleChainOptions {
  config: RunConfig;
  board: BoardDef;
  counters: Counters;
  pub: TelemetryPublisher;
  /** The loop windows go to, looked up per block: a model switch replaces it, and it is null without a model. */
  loop: () => ControlLoop | null;
}

export class SampleChain {
  readonly #config: RunConfig;
  readonly #board: BoardDef;
  readonly #counters: Counters;
  readonly #pub: TelemetryPublisher;
  readonly #loop: () => ControlLoop | null;
  #meta: ReflexModelMeta | null = null;
  #pipeline: Pipeline | null = null;
  #aligner!: Aligner;
  // Preallocated hot-path buffer; re-made only when the model (and so the window shape) changes.
  #windowTimeMajor = new Float32Array(0);
  /** Reused for every tracker sample: one message per sample, no body object per sample. */
  #trackerBody: TopicBodies['tracker'] | null = null;

  constructor(opts: SampleChainOptions) {
    this.#config = opts.config;
    this.#board = opts.board;
    this.#counters = opts.counters;
    this.#pub = opts.pub;
    this.#loop = opts.loop;
  }

  /** The metadata of the model the chain is built for; null without a model. */
  get meta(): ReflexModelMeta | null {
    return this.#meta;
  }

  /** Builds for a model (or none): its metadata fixes the feature pipeline and the window the aligner must hold. */
  setModel(meta: ReflexModelMeta | null): void {
    this.#meta = meta;
    this.#pipeline = featurePipeline(featureSpecs(meta), this.#board);
    this.#aligner = new Aligner({ capacitySeconds: Math.max(2, ((meta?.input.windowMs ?? 200) / 1000) * 4) });
    const rate = meta?.input.rateHz ?? emgRateHz(this.#board);
    // Units keep the stream name, so features arrive as "emg" at the model's rate.
    this.#aligner.addEmg('emg', { channels: emgChannels(this.#board), rate });
    const t = trackerShape(this.#config, this.#board);
    if (t) this.#aligner.addTracker('tracker', { dims: t.dims, maxRateHz: 1000 });
  }

  /** Makes the window buffer for a loop taking `meta`'s input shape. */
  sizeWindow(meta: ReflexModelMeta): void {
    this.#windowTimeMajor = new Float32Array(meta.input.samples * meta.input.channels);
  }

  onSamples(block: SampleBlock): void {
    this.#counters.inc('blocks');
    this.#pub.publishBlock('emg.raw', block);
    if (!Number.isFinite(block.hostTimeMs)) {
      // The clock model rejected this block's time: it must not reach the aligner as if it were good.
      this.#counters.inc('unmapped_blocks');
      return;
    }
    let feat = block;
    if (this.#pipeline) {
      feat = this.#pipeline.process(block);
      if (feat.samples === 0) return;
      this.#pub.publishBlock('emg.features', feat);
    }
    this.#aligner.pushBlock(feat);
    const loop = this.#loop();
    if (!loop || !this.#meta) return;
    const endMs = feat.hostTimeMs + (feat.samples - 1) * feat.hostPeriodMs;
    if (!this.#aligner.window(endMs, this.#meta.input.windowMs, this.#windowTimeMajor)) {
      this.#counters.inc('invalid_windows');
      return;
    }
    // Time-major, as the loop and the model take it: handed on as is.
    loop.pushWindow(this.#windowTimeMajor, endMs);
  }

  onTracker(s: TrackerSample): void {
    this.#aligner.pushTracker('tracker', s);
    let b = this.#trackerBody;
    if (b === null) {
      const t = trackerShape(this.#config, this.#board);
      // The sim firmware sends its pose at 100 Hz (firmware-bridge/README.md); an external feed
      // has the rate its configuration declares (tracker.rateHz), or none is claimed (NaN).
      const rate = this.#config.tracker === null ? 100 : (this.#config.tracker.rateHz ?? Number.NaN);
      b = this.#trackerBody = {
        stream: 'tracker',
        rate,
        unit: t?.unit ?? '',
        channels: t?.names ?? [],
        samples: 1,
        first_sample: 0,
        block_seq: 0,
        device_time_us: Number.NaN,
        host_time_ms: 0,
        host_period_ms: 1000 / rate,
        valid: true,
        data: s.values,
      };
    }
    b.first_sample = s.seq;
    b.block_seq = s.seq;
    b.host_time_ms = s.hostTimeMs;
    b.valid = s.valid;
    b.data = s.values;
    this.#pub.publish('tracker', b);
  }

  /**
   * Sets one feature unit's setting (`features.<index>.<key>`, named `path` in errors). False when
   * the model has no feature pipeline; throws, changing nothing, on a missing unit or bad value.
   */
  setFeature(path: string, index: number, key: string, value: SetValue): boolean {
    const current = featureSpecs(this.#meta);
    if (!this.#meta || current === undefined) return false;
    const specs = structuredClone(current) as Array<Record<string, unknown>>;
    if (!Array.isArray(specs) || !specs[index]) throw new ReflexError(RuntimeCodes.setPath, `"${path}": the feature pipeline has no unit ${index}`);
    specs[index][key] = value;
    // Validate the whole pipeline before swapping: a bad value must change nothing.
    this.#pipeline = featurePipeline(specs, this.#board);
    const feat = this.#meta.features;
    if (isPipelineHolder(feat)) feat.pipeline = specs;
    else this.#meta.features = specs;
    return true;
  }
}

function featurePipeline(specs: unknown, board: BoardDef): Pipeline | null {
  return specs === undefined
    ? null
    : buildPipeline(specs, {
        at: 'features',
        input: { rate: emgRateHz(board), channels: emgChannels(board) },
      });
}

/**
 * The feature pipeline a model was trained with: `features` in reflex-model.json is either the
 * units' JSON list itself or an object holding it under `pipeline` (with the source rate it expects).
 */
function featureSpecs(meta: ReflexModelMeta | null): unknown {
  const f = meta?.features;
  return isPipelineHolder(f) ? f.pipeline : f;
}

function isPipelineHolder(f: unknown): f is { pipeline: unknown } {
  return typeof f === 'object' && f !== null && !Array.isArray(f) && 'pipeline' in f;
}
