/**
 * Test helper: one open pty of the host firmware, everything it sends decoded with the
 * host's BridgeDecoder into an event log that tests wait on (events, not sleeps).
 */
import { closeSync, openSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { BridgeDecoder, type SampleGap } from '../src/bridge/decoder.js';
import { FrameWriter } from '../src/bridge/encode.js';
import type { Ack, DeviceError, Heartbeat, Hello, Pong } from '../src/bridge/frames.js';

export const WAIT_MS = 5000;

export interface SamplesEv {
  seq: number;
  firstSample: number;
  tUs: number;
  /** Raw counts, sample-major, recovered from the µV block. */
  counts: number[];
  samples: number;
  channels: number;
  recvNs: bigint;
}
export type Ev =
  | { kind: 'hello'; v: Hello }
  | { kind: 'ack'; v: Ack }
  | { kind: 'error'; v: DeviceError }
  | { kind: 'pong'; v: Pong }
  | { kind: 'heartbeat'; v: Heartbeat }
  | { kind: 'samples'; v: SamplesEv }
  | { kind: 'tracker'; v: { seq: number; tUs: number; values: number[] } }
  | { kind: 'gap'; v: SampleGap }
  | { kind: 'closed'; v: Error | null };
export type EvOf<K extends Ev['kind']> = Extract<Ev, { kind: K }>;

/** One open pty with everything decoded into an event log tests can wait on. */
export class Link {
  readonly events: Ev[] = [];
  readonly w = new FrameWriter();
  bad = 0;
  readonly #port: SerialPort;
  #waiters = new Set<() => void>();

  private constructor(port: SerialPort) {
    this.#port = port;
    const dec = new BridgeDecoder({
      onHello: (v) => this.#push({ kind: 'hello', v: { ...v } }),
      onAck: (v) => this.#push({ kind: 'ack', v: { ...v } }),
      onError: (v) => this.#push({ kind: 'error', v: { ...v } }),
      onPong: (v) => this.#push({ kind: 'pong', v: { ...v } }),
      onHeartbeat: (v) => this.#push({ kind: 'heartbeat', v: { ...v } }),
      onTracker: (f) => this.#push({ kind: 'tracker', v: { seq: f.seq, tUs: f.tUs, values: Array.from(f.values) } }),
      onSamples: (block, h) => {
        const counts: number[] = [];
        for (let i = 0; i < h.samples; i++) {
          for (let c = 0; c < h.channels; c++) counts.push(Math.round(block.data[c * h.samples + i]! / h.uvPerLsb));
        }
        this.#push({
          kind: 'samples',
          v: { seq: h.seq, firstSample: h.firstSample, tUs: h.tUs, counts, samples: h.samples, channels: h.channels, recvNs: process.hrtime.bigint() },
        });
      },
      onGap: (g) => this.#push({ kind: 'gap', v: { ...g } }),
      onBad: () => {
        this.bad++;
      },
    });
    port.on('data', (chunk: Buffer) => dec.push(chunk));
    port.on('close', (err: Error | null) => this.#push({ kind: 'closed', v: err ?? null }));
    // 'error' after open is a lost device here; the close event that follows is what tests wait on.
    port.on('error', (err: Error) => this.#push({ kind: 'closed', v: err }));
  }

  static open(path: string): Promise<Link> {
    return new Promise((resolve, reject) => {
      // No flock: tests reopen ptys quickly and serialport's advisory lock is not under test.
      const port = new SerialPort({ path, baudRate: 115200, autoOpen: false, lock: false });
      port.open((err) => (err ? reject(err) : resolve(new Link(port))));
    });
  }

  #push(e: Ev): void {
    this.events.push(e);
    for (const w of this.#waiters) w();
  }

  send(bytes: Uint8Array): Promise<void> {
    const copy = Buffer.from(bytes);
    return new Promise((resolve, reject) => this.#port.write(copy, (err) => (err ? reject(err) : resolve())));
  }

  all<K extends Ev['kind']>(kind: K): EvOf<K>['v'][] {
    return this.events.filter((e): e is EvOf<K> => e.kind === kind).map((e) => e.v as EvOf<K>['v']);
  }

  /** Resolves with the first event of `kind` (already logged or future) that satisfies `pred`. */
  waitFor<K extends Ev['kind']>(kind: K, pred: (v: EvOf<K>['v']) => boolean = () => true, ms = WAIT_MS): Promise<EvOf<K>['v']> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (const e of this.events) {
          if (e.kind === kind && pred((e as EvOf<K>).v as EvOf<K>['v'])) {
            done();
            resolve((e as EvOf<K>).v as never);
            return true;
          }
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${kind} event within ${ms} ms (${this.events.length} events logged)`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(listener);
      };
      const listener = (): void => void check();
      if (!check()) this.#waiters.add(listener);
    });
  }

  ackOrError(reqId: number): Promise<{ ok: boolean; code?: number }> {
    return new Promise((resolve, reject) => {
      void this.waitFor('ack', (a) => a.reqId === reqId).then(
        () => resolve({ ok: true }),
        () => undefined,
      );
      void this.waitFor('error', (e) => e.reqId === reqId).then(
        (e) => resolve({ ok: false, code: e.code }),
        () => undefined,
      );
      setTimeout(() => reject(new Error(`no reply to req ${reqId}`)), WAIT_MS);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.#port.isOpen ? this.#port.close(() => resolve()) : resolve()));
  }
}

/**
 * Close a port and keep its descriptor number taken until the test ends. serialport 13
 * can leave a read or poll handle on a closed port's fd; if the next port opened reuses
 * that number, its first bytes (or all of them) go to the dead handle. Holding the number
 * keeps this test about the firmware, not about that race (reported to the lead).
 */
export async function closeAndPinFd(link: Link, t: { teardown(fn: () => void): void }): Promise<void> {
  await link.close();
  const fd = openSync('/dev/null', 'r');
  t.teardown(() => closeSync(fd));
}
