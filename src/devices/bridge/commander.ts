/**
 * The command side of a BridgeLink connection: sends host frames on the current port,
 * matches ACK/ERROR replies by req_id, and runs the HELLO_REQ/HELLO exchange. One per
 * link; `attach` gives it each new port and `detach` fails everything still waiting.
 */
import type { Counters } from '../../core/counters.js';
import { DisconnectedError, ReflexError } from '../../core/errors.js';
import { FrameWriter } from '../../bridge/encode.js';
import { BridgeDeviceError, BridgeErrorCodes } from '../../bridge/errors.js';
import { DeviceErrorCode, FrameType, PROTO_MAJOR, type Ack, type DeviceError, type Hello } from '../../bridge/frames.js';
import type { SerialPortLike } from '../../hal/serial.js';
import type { LinkCounterKey, LinkTimers } from './link-types.js';
import { versionError } from './link-util.js';
import { ReplyTable } from './replies.js';

export interface CommanderOptions {
  path: string;
  helloTimeoutMs: number;
  helloAttempts: number;
  commandTimeoutMs: number;
}

export class BridgeCommander {
  readonly writer = new FrameWriter();
  readonly #o: CommanderOptions;
  readonly #counters: Counters<LinkCounterKey>;
  readonly #replies: ReplyTable;
  #port: SerialPortLike | null = null;
  #helloWaiter: { resolve: (h: Hello) => void; reject: (e: Error) => void } | null = null;
  /** A HELLO already received on this port (the device may announce itself on open). */
  #hello: Hello | null = null;

  constructor(opts: CommanderOptions, timers: LinkTimers, counters: Counters<LinkCounterKey>) {
    this.#o = opts;
    this.#counters = counters;
    this.#replies = new ReplyTable(timers);
  }

  get connected(): boolean {
    return this.#port !== null && this.#port.isOpen;
  }

  attach(port: SerialPortLike): void {
    this.#port = port;
    this.#hello = null;
  }

  /** The connection ended: everything waiting fails with `err`. */
  detach(err: Error): void {
    this.#port = null;
    this.#replies.failAll(err);
    this.#helloWaiter?.reject(err);
  }

  /** Send a command and wait for its ACK (ERROR rejects with BridgeDeviceError, silence with E_TIMEOUT). */
  async command(type: number, label: string, encode: (reqId: number) => Uint8Array): Promise<void> {
    const port = this.#port;
    if (!port || !port.isOpen) throw new DisconnectedError(`cannot send ${label}: not connected to ${this.#o.path}`);
    const reqId = this.#replies.nextReqId();
    const frame = encode(reqId).slice();
    const reply = this.#replies.expect(reqId, type, label, this.#o.commandTimeoutMs, () => {
      this.#counters.inc('command_timeouts');
      return new ReflexError(BridgeErrorCodes.timeout, `no ACK or ERROR for ${label} within ${this.#o.commandTimeoutMs} ms from ${this.#o.path}`);
    });
    // The link can be lost while the bytes are in flight, and detach() then rejects `reply`
    // before the caller has it: mark it observed now; the caller still gets the rejection.
    reply.catch(() => undefined);
    try {
      await this.write(frame, port);
    } catch (err) {
      this.#replies.fail(reqId, err instanceof Error ? err : new Error(String(err)));
    }
    return reply;
  }

  /** Write raw bytes to the current port (copied by the caller if they are reused). */
  async write(bytes: Uint8Array, port = this.#port): Promise<void> {
    if (!port || !port.isOpen) throw new DisconnectedError(`not connected to ${this.#o.path}`);
    try {
      await port.write(bytes);
    } catch (err) {
      this.#counters.inc('write_errors');
      throw err;
    }
  }

  /** 0x00 + HELLO_REQ until a HELLO arrives (one sent on port open counts too). */
  async awaitHello(): Promise<Hello> {
    for (let attempt = 0; attempt < this.#o.helloAttempts; attempt++) {
      if (this.#hello) return this.#hello;
      const reqId = this.#replies.nextReqId();
      const frame = this.writer.helloReq(reqId, PROTO_MAJOR, PROTO_MAJOR);
      const wire = new Uint8Array(frame.length + 1); // the leading 0x00 flushes a partial frame in the device
      wire.set(frame, 1);
      // The reply is a HELLO (no ACK), or an ERROR (BAD_VERSION) through the reply table.
      const refused = this.#replies.expect(
        reqId,
        FrameType.HELLO_REQ,
        'HELLO_REQ',
        this.#o.helloTimeoutMs,
        () => new ReflexError(BridgeErrorCodes.timeout, 'no HELLO'),
      );
      const got = new Promise<Hello | null>((resolve, reject) => {
        this.#helloWaiter = { resolve, reject };
        refused.then(
          () => resolve(null),
          (err: ReflexError) => (err.code === BridgeErrorCodes.timeout ? resolve(null) : reject(err)),
        );
      }).finally(() => {
        this.#helloWaiter = null;
        this.#replies.fail(reqId, new ReflexError(BridgeErrorCodes.timeout, 'HELLO arrived'));
      });
      // Both awaited together, so a failed write cannot leave `got` rejecting unobserved.
      const [, hello] = await Promise.all([this.write(wire), got]);
      if (hello) return hello;
      this.#counters.inc('hello_timeouts');
    }
    throw new ReflexError(
      BridgeErrorCodes.timeout,
      `no HELLO from ${this.#o.path} after ${this.#o.helloAttempts} HELLO_REQs ${this.#o.helloTimeoutMs} ms apart: ` +
        'is it a firmware-bridge device, running, on this port?',
    );
  }

  /** The HELLO received on the current port, if any. */
  get hello(): Hello | null {
    return this.#hello;
  }

  onHello(h: Hello): void {
    this.#hello = h;
    this.#helloWaiter?.resolve(h);
  }

  /** A HELLO of a foreign major: fails the handshake if one is waiting; false if none was. */
  onForeignHello(err: ReflexError): boolean {
    if (!this.#helloWaiter) return false;
    this.#helloWaiter.reject(err);
    return true;
  }

  onAck(a: Ack): void {
    if (!this.#replies.ack(a.reqId, a.commandType)) this.#counters.inc('unmatched_replies');
  }

  /** ERROR with a req_id: fail that command (BAD_VERSION to HELLO_REQ is E_BAD_VERSION). */
  onError(e: DeviceError): void {
    const p = this.#replies.get(e.reqId);
    if (!p) {
      this.#counters.inc('unmatched_replies');
      return;
    }
    this.#counters.inc('device_errors');
    const err =
      p.type === FrameType.HELLO_REQ && e.code === DeviceErrorCode.BAD_VERSION
        ? versionError(Number.NaN, Number.NaN, e.message)
        : new BridgeDeviceError(e.code, e.commandType, p.label, e.message);
    this.#replies.fail(e.reqId, err);
  }
}
