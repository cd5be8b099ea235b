import type { SampleBlock } from '../core/block.js';
import { BlockBuffer, ShapeGuard } from './block-buffer.js';
import type { Sos } from './design.js';
import { shapeError } from './shape.js';
import { SosBank } from './sos-bank.js';
import type { ShapeProblem, Unit } from './types.js';

/**
 * Shared body of the IIR units: on a shape change, check the rate, design the cascade for it
 * (only if the rate changed) and allocate zeroed per-channel state; then filter each chunk into the unit's own output block.
 * Output times are the input's (the filter's group delay is not compensated).
 */
export abstract class IirUnit<S> implements Unit<S> {
  abstract readonly kind: string;
  readonly settings: Readonly<S>;
  readonly #shape = new ShapeGuard();
  readonly #out = new BlockBuffer();
  readonly #rectify: boolean;
  #bank: SosBank | undefined;

  constructor(settings: S, rectify = false) {
    this.settings = Object.freeze({ ...settings });
    this.#rectify = rectify;
  }

  protected abstract design(rate: number): Sos;
  protected abstract shapeProblem(rate: number): ShapeProblem | undefined;

  /** The cascade in use (after the first chunk), for inspection and tests. */
  get sos(): Sos | undefined {
    return this.#bank?.sos;
  }

  process(input: SampleBlock): SampleBlock {
    if (this.#shape.differs(input)) {
      const problem = this.shapeProblem(input.rate);
      if (problem) throw shapeError(this.kind, problem);
      if (this.#bank === undefined || input.rate !== this.#shape.rate) this.#bank = new SosBank(this.design(input.rate));
      this.#bank.allocate(input.channels);
      this.#shape.accept(input);
    }
    const out = this.#out.like(input);
    this.#bank!.run(input.data, out.data, input.samples, this.#rectify);
    return out;
  }

  reset(): void {
    this.#bank?.reset();
  }
}
