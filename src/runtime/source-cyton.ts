/** An OpenBCI Cyton on a serial port as a Source. */
import { EventEmitter } from 'node:events';
import type { BoardDef } from '../boards/types.js';
import { CytonDevice } from '../devices/cyton/device.js';
import { openNodeSerial } from '../hal/serial-node.js';
import { ClockModel } from '../time/clock-model.js';
import type { Source, SourceEvents, SourceOptions } from './source.js';

export class CytonSource extends EventEmitter<SourceEvents> implements Source {
  readonly kind = 'cyton';
  readonly clock = new ClockModel();
  readonly tracker = null;
  readonly actuatorSink = null;
  readonly #dev: CytonDevice;

  constructor(board: BoardDef, opts: SourceOptions) {
    super();
    const src = board.source as Extract<BoardDef['source'], { kind: 'cyton' }>;
    this.#dev = new CytonDevice({
      open: opts.open ?? openNodeSerial,
      path: src.path,
      ...(src.baudRate !== undefined && { baudRate: src.baudRate }),
      ...(src.gain !== undefined && { gain: src.gain }),
      logger: opts.log,
    });
    // The Cyton's device time is its sample counter (docs/cyton.md): the model maps it from arrivals.
    this.#dev.on('samples', (block, arrivalMs) => {
      this.clock.ingestBlock(block, arrivalMs);
      this.emit('samples', block, arrivalMs);
    });
    this.#dev.on('gap', (g) => {
      this.emit('gap', { cause: 'outage', missingSamples: g.missingSamples, hostSpanMs: Number.NaN, deviceReset: false });
    });
    this.#dev.on('state', (s) => this.emit('state', s));
  }

  describe(): Record<string, string | number> {
    return { device: 'OpenBCI Cyton', state: this.#dev.state };
  }
  start(): Promise<void> {
    return this.#dev.start();
  }
  pause(): Promise<void> {
    return this.#dev.stop();
  }
  resume(): Promise<void> {
    return this.#dev.start();
  }
  stop(): Promise<void> {
    return this.#dev.stop();
  }
  counters(): Record<string, number> {
    return { ...this.#dev.counters };
  }
}
