import type { SampleBlock } from '../core/block.js';

/**
 * A stateful chunk processor: send a chunk, get a chunk back.
 *
 * Ownership: the block `process` returns belongs to the unit and is reused; it is valid
 * until the next `process` or `reset` call on the same unit. Copy it (or its `data`) to keep it.
 * The input block is only read, never kept.
 *
 * State (delay lines, running estimates) carries across chunks, so feeding a signal whole or
 * in any split gives bit-identical output. State and buffers are (re)allocated only when the
 * input's shape changes (channel count or sample rate), as in ezmsg-sigproc; a shape change
 * also resets the state.
 */
export interface Unit<S = unknown> {
  /** Registered kind, e.g. "bandpass"; `{ unit: kind, ...settings }` rebuilds the unit. */
  readonly kind: string;
  readonly settings: Readonly<S>;
  process(input: SampleBlock): SampleBlock;
  /** Forget all state; the next chunk starts from zero delay lines. */
  reset(): void;
}

/** One unit as data: `{ unit: 'bandpass', low: 20, high: 450, order: 4 }`. */
export interface UnitSpec {
  readonly unit: string;
  readonly [setting: string]: unknown;
}

/**
 * What the `window` unit emits. `windowCount` windows of `windowLength` samples each, placed
 * back to back inside every channel's row: sample `i` of window `w` of channel `c` is
 * `data[c * samples + w * windowLength + i]`, with `samples = windowCount * windowLength`.
 * `rate` stays the input's sample rate (samples inside a window are `1/rate` apart);
 * consecutive windows start `hop` input samples apart, so windows arrive at `rate / hop` Hz.
 * `firstSample`, `hostTimeMs` and `deviceTimeUs` describe the first sample of the first window.
 */
export interface WindowBlock extends SampleBlock {
  readonly windowLength: number;
  readonly windowCount: number;
  readonly hop: number;
}

export function isWindowBlock(block: SampleBlock): block is WindowBlock {
  return typeof (block as Partial<WindowBlock>).windowLength === 'number';
}

/** Units write into blocks of this shape; callers only ever see them as `SampleBlock`. */
export type MutableBlock = { -readonly [K in keyof SampleBlock]: SampleBlock[K] };

/** A setting that does not suit the input's shape, e.g. a cutoff above Nyquist. */
export interface ShapeProblem {
  readonly key: string;
  readonly message: string;
}

/**
 * One entry of the table of unit kinds: how to read settings from JSON (errors name the key,
 * prefixed with `at`, e.g. "pipeline[1]"), how to build the unit, and which settings an input
 * shape rules out (so a pipeline can be checked before any data flows).
 */
export interface UnitKind<S = unknown> {
  readonly kind: string;
  /** One line for listings and docs. */
  readonly summary: string;
  parse(raw: unknown, at: string): S;
  create(settings: S): Unit<S>;
  checkShape?(settings: S, shape: InputShape): ShapeProblem | undefined;
}

/** What a unit is told about its input before data flows; `channels` may be unknown. */
export interface InputShape {
  readonly rate: number;
  readonly channels?: number;
}
