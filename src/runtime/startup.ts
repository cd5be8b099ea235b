/**
 * The two waits of a run's start-up that depend on the outside world: the source's first
 * stream (a device may never answer) and arming the loop (only once input reaches it). Both
 * give way to the run's abort signal (--duration, SIGINT, SIGTERM) and neither waits forever;
 * nor does stopping the source (stopWithin). runSignal makes that signal.
 */
import type { BoardDef } from '../boards/types.js';
import { BridgeDeviceError } from '../bridge/errors.js';
import { FrameType } from '../bridge/frames.js';
import { ConfigError, ReflexError } from '../core/errors.js';
import type { ControlLoop } from '../loop/loop.js';
import { releaseAndWait } from '../loop/release.js';
import { monotonicMs } from '../time/monotonic.js';
import { checkDevice } from './checks.js';
import type { Source, SourceStateDetail } from './source.js';
import { RuntimeCodes } from './codes.js';

/** How long a source's stop() may take after an abort before start-up gives up on it. */
export const SOURCE_STOP_WAIT_MS = 500;

/** Start-up was aborted while the source was still connecting: exit 1 with this code. */
export const E_SOURCE_NOT_CONNECTED = RuntimeCodes.sourceNotConnected;

const ABORTED: unique symbol = Symbol('aborted');

/** `p`'s value, or ABORTED as soon as `signal` aborts (p keeps running: the caller ends it). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof ABORTED> {
  if (!signal) return p;
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    // Resolving with p itself (settled) passes its value or its rejection on untouched.
    const done = (): void => {
      signal.removeEventListener('abort', onAbort);
      resolve(p);
    };
    p.then(done, done);
  });
}

/** Waits for `p` at most `ms`; true if it settled (a rejection is handed to `onError`). */
async function settleWithin(p: Promise<unknown>, ms: number, onError: (err: Error) => void): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    p.then(
      () => true,
      (err: Error) => {
        onError(err);
        return true;
      },
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return settled;
}

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.message;
  if (r === undefined || r === null) return 'abort';
  if (typeof r === 'string' || typeof r === 'number' || typeof r === 'boolean' || typeof r === 'bigint') return String(r);
  if (typeof r === 'symbol') return r.toString();
  try {
    return JSON.stringify(r) ?? 'abort';
  } catch {
    return 'abort'; // a cyclic reason: only the message loses it
  }
}

/**
 * Start `source` and wait until it streams, or until `signal` aborts: then stop it (waiting at
 * most SOURCE_STOP_WAIT_MS) and throw E_SOURCE_NOT_CONNECTED with the last connection error.
 * A refusal by the device that its HELLO explains (more channels than it has, an actuator
 * channel it lacks) becomes the ConfigError naming the board key.
 */
export async function connectSource(source: Source, board: BoardDef, signal: AbortSignal | undefined): Promise<void> {
  let last: SourceStateDetail | undefined;
  const onState = (_state: string, detail?: SourceStateDetail): void => {
    if (detail?.reason || detail?.attempts !== undefined) last = { ...last, ...detail };
  };
  source.on('state', onState);
  try {
    const started = source.start();
    let outcome: Awaited<typeof started> | typeof ABORTED;
    try {
      outcome = await raceAbort(started, signal);
    } catch (err) {
      checkDevice(board, source.device?.() ?? null);
      throw refusedConfig(err, board) ?? err;
    }
    if (outcome !== ABORTED) return;
    // stop() below makes the pending start() reject (E_STOPPED): that is the expected end of it.
    started.catch(() => undefined);
    let stopError = '';
    const stopped = await settleWithin(source.stop(), SOURCE_STOP_WAIT_MS, (err) => (stopError = `; stopping it failed: ${err.message}`));
    const d = source.describe();
    const reason = last?.reason ?? (typeof d.last_error === 'string' ? d.last_error : 'no error reported yet (the first attempt was still under way)');
    const attempts = last?.attempts ?? (typeof d.link_attempts === 'number' ? d.link_attempts : undefined);
    throw new ReflexError(
      E_SOURCE_NOT_CONNECTED,
      `source never connected: ${reason}${attempts !== undefined ? ` (${attempts} attempt${attempts === 1 ? '' : 's'})` : ''}; ${abortReason(signal!)}` +
        `${stopped ? '' : `; the source did not stop within ${SOURCE_STOP_WAIT_MS} ms`}${stopError}`,
    );
  } finally {
    source.off('state', onState);
  }
}

/** A device that refuses the board's CONFIG (rate, channels, block) is a configuration error of the board file. */
function refusedConfig(err: unknown, board: BoardDef): ConfigError | null {
  if (!(err instanceof BridgeDeviceError) || err.commandType !== FrameType.CONFIG || board.source.kind !== 'bridge') return null;
  const s = board.source;
  return new ConfigError(
    RuntimeCodes.deviceConfig,
    `${board.file ?? `board ${board.id}`}: the device refused "source.rate" ${s.rate} Hz / "source.channels" ${s.channels}` +
      `${s.blockSamples !== undefined ? ` / "source.blockSamples" ${s.blockSamples}` : ''}: ${err.message}; set what the device supports`,
    { cause: err },
  );
}

export interface ArmOptions {
  signal: AbortSignal | undefined;
  /** Give up (and stay safe) when no window has reached the loop by then, ms. */
  timeoutMs: number;
  /** Why the run must not be armed any more (an e-stop during start-up), or null. */
  held(): string | null;
}

/** Polling period of the loop's shared output while waiting to arm (start-up only). */
const ARM_POLL_MS = 5;

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Arm a loop that started safe, once it has taken its first input window: released earlier,
 * its stale-input watchdog would trip before the first window arrived (a loaded machine takes
 * a while from the worker's first cycle to the first window). Returns null once the loop drives
 * the actuators, else why it stays safe (nothing to arm, aborted, e-stop, no input, tripped).
 */
export async function armWhenInputFlows(loop: ControlLoop, o: ArmOptions): Promise<string | null> {
  const out = loop.createOutput();
  const deadline = monotonicMs() + o.timeoutMs;
  const blocked = (): string | null => (o.signal?.aborted ? `stopping (${abortReason(o.signal)})` : o.held());
  while (!(loop.readLatest(out) && out.inputsSeen > 0)) {
    const why = blocked();
    if (why) return why;
    if (monotonicMs() > deadline) return `no input window reached the loop within ${o.timeoutMs} ms`;
    await pause(ARM_POLL_MS);
  }
  const why = blocked();
  if (why) return why;
  // The worker takes the release at its next cycle; a trip first (the input went stale, an e-stop) is reported as such.
  const outcome = await releaseAndWait(loop, o.timeoutMs);
  if (outcome === 'released') return null;
  const held = o.held();
  if (held) return held;
  loop.readLatest(out);
  return `the loop stayed safe after release (${outcome}; reason: ${out.reason ?? 'unknown'})`;
}

/** `source.stop()`, or an error once `ms` have passed without it settling (a hung device must not hold up the exit). */
export async function stopWithin(source: Source, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReflexError(RuntimeCodes.stopTimeout, `the source did not stop within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([source.stop(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What ends a run: the caller's signal, or `durationS` after the start. The timer is held
 * strongly (an AbortSignal.timeout combined with AbortSignal.any can be collected unfired).
 */
export function runSignal(parent: AbortSignal | undefined, durationS: number | null): { signal: AbortSignal; timer: NodeJS.Timeout | undefined } {
  if (durationS === null) return { signal: parent ?? new AbortController().signal, timer: undefined };
  const own = new AbortController();
  const timer = setTimeout(() => own.abort(new Error(`durationS ${durationS} s elapsed`)), durationS * 1000);
  if (parent?.aborted) own.abort(parent.reason);
  else parent?.addEventListener('abort', () => own.abort(parent.reason), { once: true });
  return { signal: own.signal, timer };
}
