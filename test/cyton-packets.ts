/**
 * Cyton packets built from values, straight from OpenBCI's data-format document and
 * independent of the parser: header 0xA0, sample number, 8 x int24 BE, 6 aux bytes, footer.
 * Not a test file itself (no .test.ts suffix): shared by the cyton-* tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface FakeCyton {
  proc: ChildProcess;
  /** The next line the fake printed (what it received, what it did). */
  next(): Promise<string>;
  /** A line of instructions to the fake. */
  cmd(s: string): boolean;
}

/**
 * The start of every fake Cyton script: a raw pseudo-terminal whose path is printed as
 * `PTY <path>` (what startPythonCyton's first line reads), and `int24(v)`, v as 3 bytes
 * two's complement big-endian.
 */
export const PTY_PRELUDE = String.raw`import os, pty, sys, tty, select, time
m, s = pty.openpty()
tty.setraw(s)
print("PTY " + os.ttyname(s), flush=True)
def int24(v):
    v &= 0xFFFFFF
    return bytes([(v >> 16) & 255, (v >> 8) & 255, v & 255])`;

/** A Cyton played by a Python script on a pseudo-terminal; the script prints its pty path and reports on stdout. */
export function startPythonCyton(script: string): FakeCyton {
  const proc = spawn('/usr/bin/python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error('fake Cyton exited early');
    return r.value;
  };
  return { proc, next, cmd: (s: string) => proc.stdin.write(s + '\n') };
}
export function int24be(v: number): number[] {
  const u = v & 0xffffff;
  return [(u >> 16) & 0xff, (u >> 8) & 0xff, u & 0xff];
}

export function int16be(v: number): number[] {
  const u = v & 0xffff;
  return [(u >> 8) & 0xff, u & 0xff];
}

export function uint32be(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export function packet(sn: number, counts: readonly number[], footer = 0xc0, aux: readonly number[] = [0, 0, 0, 0, 0, 0]): Uint8Array {
  if (counts.length !== 8 || aux.length !== 6) throw new Error('packet needs 8 counts and 6 aux bytes');
  return Uint8Array.from([0xa0, sn & 0xff, ...counts.flatMap(int24be), ...aux, footer]);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** µV per count at `gain`, written out from the document's formula. */
export function uvPerCount(gain: number): number {
  return (4.5 / gain / (Math.pow(2, 23) - 1)) * 1000000;
}

/**
 * Cyton + Daisy packets for sample numbers `from`..`to` (inclusive, u8-wrapped), as the
 * document's "16 Channel Data with Daisy Module" section describes the stream: odd sample
 * numbers carry the board's 8 channels (`board(sn)`), even ones the Daisy's (`daisy(sn)`).
 * `skip` leaves sample numbers out (packets lost on the radio).
 */
export function daisyPackets(
  from: number,
  to: number,
  board: (sn: number) => readonly number[],
  daisy: (sn: number) => readonly number[],
  skip: readonly number[] = [],
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let n = from; n <= to; n++) {
    if (skip.includes(n)) continue;
    out.push(packet(n & 0xff, n % 2 === 1 ? board(n) : daisy(n)));
  }
  return out;
}
