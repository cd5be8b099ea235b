/**
 * A scriptable firmware-bridge device on a `FakeSerialBus`, for tests of anything that
 * talks to the bridge. It decodes the host's commands (`received`), answers them the way
 * docs/protocol.md says by default, and lets the test override any reply, send SAMPLES,
 * skip frames (gaps), corrupt every N-th frame (as the firmware's CORRUPT fault), reset, go
 * silent, or send arbitrary bytes.
 */
import { cobsDecodeInPlace } from '../bridge/cobs.js';
import { crc16 } from '../bridge/crc16.js';
import { FrameWriter } from '../bridge/encode.js';
import { DeviceErrorCode, FrameType, PROTO_MAJOR, parseCommand, type HostCommand } from '../bridge/frames.js';
import type { FakeSerialBus, FakeSerialPort } from '../hal/serial-fake.js';

/** What the device does with a command: the default reply, a specific ERROR, or nothing. */
export type FakeReply = 'default' | 'silent' | { error: number; message?: string };

export interface FakeBridgeDeviceOptions {
  bootId?: number;
  rate?: number;
  channels?: number;
  block?: number;
  maxChannels?: number;
  name?: string;
  /** HELLO flags (default: fault injection and tracker available). */
  flags?: number;
  /** proto_major in HELLO and the packet version byte (default 1). */
  protoMajor?: number;
  protoMinor?: number;
  uvPerLsb?: number;
  /** Send a HELLO as soon as the port opens (default false). */
  helloOnOpen?: boolean;
}

export class FakeBridgeDevice {
  readonly path: string;
  readonly #bus: FakeSerialBus;
  readonly #w = new FrameWriter();
  readonly #rx = new Uint8Array(4096);
  #rxLen = 0;
  /** Every command decoded from the host, in order (all connections). */
  readonly received: HostCommand[] = [];
  /** Host frames the device could not decode. */
  rxBad = 0;
  /** Override the reply to a command; return 'default' for the protocol's behaviour. */
  reply: (cmd: HostCommand) => FakeReply = () => 'default';
  /** When true the device ignores everything and sends nothing (a hung device). */
  frozen = false;
  /**
   * Flip one byte (never into a delimiter) of every N-th frame sent from now on, as the host
   * firmware's CORRUPT fault does; 0 = off. Deterministic: the byte in the middle of the frame.
   */
  corruptEvery = 0;
  /** Frames sent since corruptEvery was last set to a new value (the N-th counting starts there). */
  #sentSinceCorrupt = 0;
  #corruptEveryWas = 0;
  /** Frames corrupted so far. */
  corrupted = 0;
  bootId: number;
  rate: number;
  channels: number;
  block: number;
  streaming = false;
  seq = 0;
  firstSample = 0;
  /** Device clock, µs; tests advance it. */
  tUs = 1_000_000;
  readonly opts: Required<FakeBridgeDeviceOptions>;

  constructor(bus: FakeSerialBus, path: string, opts: FakeBridgeDeviceOptions = {}) {
    this.#bus = bus;
    this.path = path;
    this.opts = {
      bootId: 0x1234abcd,
      rate: 1000,
      channels: 4,
      block: 2,
      maxChannels: 16,
      name: 'fake-bridge',
      flags: 6,
      protoMajor: PROTO_MAJOR,
      protoMinor: 0,
      uvPerLsb: 0.5,
      helloOnOpen: false,
      ...opts,
    };
    this.bootId = this.opts.bootId;
    this.rate = this.opts.rate;
    this.channels = this.opts.channels;
    this.block = this.opts.block;
    this.#w.version = this.opts.protoMajor;
    bus.createPort(path, (data) => this.#onHostBytes(data));
  }

  /** The open port, or null. */
  get port(): FakeSerialPort | null {
    try {
      return this.#bus.port(this.path);
    } catch {
      return null;
    }
  }

  /** Call after the host opened the port when helloOnOpen is set. */
  announce(): void {
    this.send(this.#hello());
  }

  send(bytes: Uint8Array): void {
    if (this.frozen) return;
    const out = bytes.slice();
    if (this.corruptEvery !== this.#corruptEveryWas) {
      this.#corruptEveryWas = this.corruptEvery;
      this.#sentSinceCorrupt = 0;
    }
    if (this.corruptEvery > 0 && ++this.#sentSinceCorrupt % this.corruptEvery === 0 && out.length > 2) {
      // The last byte is the delimiter; any byte before it may change, but must not become 0x00.
      const i = (out.length - 1) >> 1;
      out[i] = out[i]! ^ (out[i] === 0x5a ? 0xa5 : 0x5a);
      this.corrupted++;
    }
    this.port?.emitData(out);
  }

  /** Sample value of channel c in sample k since START: distinct and deterministic. */
  static count(k: number, c: number): number {
    return ((k * 131 + c * 7919) % 16000) - 8000;
  }

  /** Send `frames` SAMPLES frames of the current shape (if streaming). */
  emitSamples(frames = 1): void {
    for (let f = 0; f < frames; f++) {
      const counts: number[] = [];
      for (let i = 0; i < this.block; i++) for (let c = 0; c < this.channels; c++) counts.push(FakeBridgeDevice.count(this.firstSample + i, c));
      const bytes = this.#w.samples({
        seq: this.seq,
        firstSample: this.firstSample,
        tUs: this.tUs,
        uvPerLsb: this.opts.uvPerLsb,
        channels: this.channels,
        samples: this.block,
        format: 0,
        counts,
      });
      this.skip(1);
      this.send(bytes);
    }
  }

  /** Advance seq/first_sample/clock as if `frames` frames were sent, without sending them. */
  skip(frames: number): void {
    this.seq = (this.seq + frames) >>> 0;
    this.firstSample = (this.firstSample + frames * this.block) >>> 0;
    this.tUs += Math.round((frames * this.block * 1e6) / this.rate);
  }

  heartbeat(): void {
    this.send(this.#w.heartbeat({ tUs: this.tUs, framesSent: this.seq, framesDropped: 0, rxBad: this.rxBad, state: this.streaming ? 1 : 0 }));
  }

  /** Power-cycle: new boot id, not streaming, counters cleared. */
  reset(bootId: number): void {
    this.bootId = bootId;
    this.streaming = false;
    this.seq = 0;
    this.firstSample = 0;
    this.tUs = 0;
  }

  #hello(): Uint8Array {
    return this.#w.hello({
      protoMajor: this.opts.protoMajor,
      protoMinor: this.opts.protoMinor,
      fwMajor: 0,
      fwMinor: 1,
      fwPatch: 0,
      maxChannels: this.opts.maxChannels,
      adcBits: 24,
      nActuators: 4,
      bootId: this.bootId,
      rateHz: this.rate,
      channels: this.channels,
      blockSamples: this.block,
      flags: this.opts.flags | (this.streaming ? 1 : 0),
      name: this.opts.name,
    });
  }

  #onHostBytes(data: Uint8Array): void {
    if (this.frozen) return;
    for (const b of data) {
      if (b !== 0) {
        if (this.#rxLen < this.#rx.length) this.#rx[this.#rxLen++] = b;
        continue;
      }
      const len = this.#rxLen;
      this.#rxLen = 0;
      if (len === 0) continue;
      const n = cobsDecodeInPlace(this.#rx, 0, len);
      if (n < 4 || crc16(this.#rx, 1, n - 1) !== (this.#rx[n - 1]! | (this.#rx[n]! << 8)) || this.#rx[1] !== PROTO_MAJOR) {
        this.rxBad++;
        continue;
      }
      const cmd = parseCommand(this.#rx[2]!, new DataView(this.#rx.buffer), 3, n - 4);
      if (typeof cmd === 'string') {
        this.rxBad++;
        continue;
      }
      this.received.push(cmd);
      this.#handle(cmd);
    }
  }

  #handle(cmd: HostCommand): void {
    const r = this.reply(cmd);
    if (r === 'silent') return;
    if (cmd.type === FrameType.PING) {
      this.send(this.#w.pong({ pingId: cmd.pingId, hostToken: cmd.hostToken, tRxUs: this.tUs, tTxUs: this.tUs + 5 }));
      return;
    }
    if (r !== 'default') {
      this.send(this.#w.error({ reqId: cmd.reqId, commandType: cmd.type, code: r.error, message: r.message ?? '' }));
      return;
    }
    switch (cmd.type) {
      case FrameType.HELLO_REQ:
        if (cmd.minMajor > this.opts.protoMajor || cmd.maxMajor < this.opts.protoMajor) {
          this.send(this.#w.error({ reqId: cmd.reqId, commandType: cmd.type, code: DeviceErrorCode.BAD_VERSION, message: 'major' }));
        } else {
          this.send(this.#hello());
        }
        return;
      case FrameType.STOP:
        this.streaming = false;
        break;
      case FrameType.CONFIG:
        if (this.streaming) {
          this.send(this.#w.error({ reqId: cmd.reqId, commandType: cmd.type, code: DeviceErrorCode.BUSY, message: 'streaming' }));
          return;
        }
        if (cmd.rateHz) this.rate = cmd.rateHz;
        if (cmd.channels) this.channels = cmd.channels;
        this.block = cmd.blockSamples || Math.max(1, Math.round(this.rate / 1000));
        break;
      case FrameType.START:
        this.streaming = true;
        this.seq = 0;
        this.firstSample = 0;
        break;
      default:
        break;
    }
    this.send(this.#w.ack({ reqId: cmd.reqId, commandType: cmd.type }));
  }
}
