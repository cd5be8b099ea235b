/** Test helper: the device side of host-to-device bytes, as the firmware parses them. */
import { readSync } from 'node:fs';
import { cobsDecodeInPlace } from '../src/bridge/cobs.js';
import { crc16 } from '../src/bridge/crc16.js';
import { FrameType, PROTO_MAJOR, parseCommand, type HostCommand } from '../src/bridge/frames.js';

/** Device-side view of a byte stream: frames split at 0x00, COBS + CRC checked, parsed. */
export class HostFrames {
  readonly frames: HostCommand[] = [];
  bad = 0;
  readonly #rx = new Uint8Array(4096);
  #len = 0;
  readonly #buf = new Uint8Array(65536);

  drain(fd: number): void {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, this.#buf, 0, this.#buf.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return;
        throw err;
      }
      for (let i = 0; i < n; i++) this.#byte(this.#buf[i]!);
    }
  }

  #byte(b: number): void {
    if (b !== 0) {
      this.#rx[this.#len++] = b;
      return;
    }
    const len = this.#len;
    this.#len = 0;
    if (len === 0) return;
    const n = cobsDecodeInPlace(this.#rx, 0, len);
    if (n < 4 || crc16(this.#rx, 1, n - 1) !== (this.#rx[n - 1]! | (this.#rx[n]! << 8)) || this.#rx[1] !== PROTO_MAJOR) {
      this.bad++;
      return;
    }
    const cmd = parseCommand(this.#rx[2]!, new DataView(this.#rx.buffer), 3, n - 4);
    if (typeof cmd === 'string') this.bad++;
    else this.frames.push(cmd);
  }
}

export type Actuate = Extract<HostCommand, { type: typeof FrameType.ACTUATE }>;
export const lastActuate = (h: HostFrames): Actuate | undefined => h.frames.filter((f): f is Actuate => f.type === FrameType.ACTUATE).at(-1);
