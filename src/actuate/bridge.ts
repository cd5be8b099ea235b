import type { ActuatorDef, ActuatorKind } from '../boards/types.js';
import { ConfigError } from '../core/errors.js';
import { type Actuator, clampToDef } from './actuator.js';
import { ActuateCodes } from './codes.js';

/**
 * Actuators behind the firmware bridge's ACTUATE command (docs/protocol.md):
 * digital 0/1, PWM duty in 0.01 % units (0..10000), servo pulse width in µs.
 * Values here are in protocol units already.
 */
export interface BridgeActuateEntry {
  channel: number;
  kind: ActuatorKind;
  value: number;
}

/**
 * What the bridge link offers the actuators. `send` must encode (copy) the entries
 * before returning: the array and its objects are reused for the next cycle.
 */
export interface BridgeActuatorSink {
  send(entries: readonly BridgeActuateEntry[]): void;
}

/** Converts to protocol units; servo range of the protocol is 500..2500 µs. */
export function toProtocolValue(kind: ActuatorKind, value: number): number {
  switch (kind) {
    case 'digital':
      return value >= 0.5 ? 1 : 0;
    case 'pwm':
      return Math.min(10000, Math.max(0, Math.round(value * 10000)));
    case 'servo':
      return Math.min(2500, Math.max(500, Math.round(value)));
  }
}

export interface BridgeBatchOptions {
  /**
   * Resend unchanged values after this long, ms (default 100), so the device's 500 ms
   * watchdog stays fed; changed values go out at once. 0 sends every flush.
   */
  keepAliveMs?: number;
  /** Clock, ms (default performance.now). */
  now?: () => number;
}

/**
 * Batches every bridge actuator's command of one cycle into one ACTUATE frame, sent
 * when a value changed or the keep-alive is due: at a 1 kHz loop rate an unchanged
 * command need not cost a frame and an ACK each millisecond. Entries are preallocated.
 */
export class BridgeBatch {
  readonly #sink: BridgeActuatorSink;
  readonly #entries: BridgeActuateEntry[] = [];
  readonly #sent: number[] = [];
  readonly #keepAliveMs: number;
  readonly #now: () => number;
  #dirty = false;
  #queued = false;
  #force = false;
  #lastSend = Number.NEGATIVE_INFINITY;

  constructor(sink: BridgeActuatorSink, opts: BridgeBatchOptions = {}) {
    this.#sink = sink;
    this.#keepAliveMs = opts.keepAliveMs ?? 100;
    this.#now = opts.now ?? (() => performance.now());
  }

  register(channel: number, kind: ActuatorKind): number {
    if (this.#entries.some((e) => e.channel === channel)) {
      throw new ConfigError(ActuateCodes.config, `two bridge actuators share channel ${channel}; give each its own channel`);
    }
    this.#entries.push({ channel, kind, value: 0 });
    this.#sent.push(Number.NaN);
    return this.#entries.length - 1;
  }

  queue(slot: number, value: number): void {
    this.#entries[slot]!.value = value;
    this.#queued = true;
    if (value !== this.#sent[slot]) this.#dirty = true;
  }

  /** The next flush sends even if nothing changed (a safe-state command always goes out). */
  markForced(): void {
    this.#force = true;
  }

  /** Send all channels if anything changed or the keep-alive is due, or a send was forced. */
  flush(): void {
    const force = this.#force;
    if (!this.#queued && !force) return;
    this.#force = false;
    const now = this.#now();
    if (!force && !this.#dirty && now - this.#lastSend < this.#keepAliveMs) {
      this.#queued = false;
      return;
    }
    this.#queued = false;
    this.#dirty = false;
    this.#lastSend = now;
    for (let i = 0; i < this.#entries.length; i++) this.#sent[i] = this.#entries[i]!.value;
    this.#sink.send(this.#entries);
  }
}

export class BridgeActuator implements Actuator {
  readonly name: string;
  readonly def: ActuatorDef;
  readonly #batch: BridgeBatch;
  readonly #slot: number;
  #last = Number.NaN;

  constructor(def: ActuatorDef, batch: BridgeBatch) {
    if (def.channel === undefined || !Number.isInteger(def.channel) || def.channel < 0 || def.channel > 31) {
      throw new ConfigError(ActuateCodes.config, `actuator "${def.name}" (via bridge) needs "channel": 0..31, got ${String(def.channel)}`);
    }
    if (def.kind === 'servo' && (def.min < 500 || def.max > 2500)) {
      throw new ConfigError(ActuateCodes.config, `actuator "${def.name}": the bridge drives servos within 500..2500 us, board says ${def.min}..${def.max}`);
    }
    this.name = def.name;
    this.def = def;
    this.#batch = batch;
    this.#slot = batch.register(def.channel, def.kind);
  }
  get last(): number {
    return this.#last;
  }
  apply(value: number): void {
    const v = clampToDef(this.def, value);
    this.#batch.queue(this.#slot, toProtocolValue(this.def.kind, v));
    this.#last = v;
  }
  safe(flush = true): void {
    this.apply(this.def.safe);
    this.#batch.markForced();
    if (flush) this.#batch.flush();
  }
  flush(): void {
    this.#batch.flush();
  }
  close(): void {}
}
