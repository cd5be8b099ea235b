/**
 * `npm run bench -- telemetry [--duration S] [--reps N] [--size 64B|4KiB|256KiB ...] [--hwm N] [--no-python]
 *   [--no-encode | --encode-only]`
 * (defaults: the encoder comparison for 8 x S seconds, then 1 s windows, 7 reps, every size,
 * then the Python loss check)
 *
 * Encoders (bench/_telemetry-encode.ts, `encode_*`): the publisher's hand-written CborWriter
 * against cbor-x configured as codec.ts createEncoder() does, on the same messages in this
 * process: ns per encode (medians of alternating batches), size, V8 heap bytes per encode.
 * And end to end (`send_*`): a bare XPUB that encodes every packed block with one encoder or
 * the other before sending it (publish()'s send path without its bookkeeping), paired per rep.
 *
 * Delivered throughput on loopback tcp from a publisher in this process to a subscriber in
 * a child process (its own core), for 64 B, 4 KiB and 256 KiB payloads (the Float32Array of
 * an emg.raw block):
 * - raw: a bare zeromq XPUB sending [topic, payload] -> a bare SUB counting messages;
 * - reflex (the headline figures): TelemetryPublisher.publish('emg.raw', body) -> the same bare
 *   SUB: everything a real message carries (topic frame with source ids, CBOR envelope, seq,
 *   timestamps, typed-array tag, per-topic counters), so the ratio is the publisher's cost;
 * - client: TelemetryPublisher -> TelemetryClient, which also decodes every message.
 * Reflex publishes with `{ immutable: true }` (its array never changes, like the bare
 * sender's buffer), so from 16 KiB on the samples go uncopied as a third frame.
 * Diagnostics beside the headline: raw_same_wire_* (64 B: a bare frame as long as Reflex's
 * message); for 256 KiB, copy_* (Reflex's default copying publish, what a caller that reuses
 * its arrays gets) and raw_copy_* (a bare sender copying the samples into a fresh buffer
 * per message).
 * Both senders send batches of 256 without waiting and yield to the event loop between batches.
 * Both sockets drop per subscriber (lossy XPUB, what TelemetryPublisher uses since issue 11:
 * docs/telemetry.md section 5), so neither ever sees a refusal and neither pauses: what is
 * compared is what reaches the subscriber. The subscriber counts what it receives over a fixed
 * window after a warm-up. Runs alternate raw/reflex/client; reported:
 * medians over --reps runs, ratio_* = median of per-rep reflex/raw ratios, best_ratio_* =
 * best reflex over best raw (contention only ever slows a run down).
 * Send queues (ZMQ_SNDHWM, the same for raw and Reflex) hold at most 16 MiB or 1000 messages,
 * whichever is fewer: 1000 for 64 B and 4 KiB, 64 for 256 KiB, as docs/telemetry.md advises
 * sizing `hwm` (a 1000-message queue of 256 KiB blocks is 256 MB per slow subscriber, more
 * than a small SBC has to spare). `--hwm N` sets one value for every size instead.
 * lost_at_10k: messages lost when publishing 10,000 msg/s (paced) of a realistic EMG block
 * to the Python example subscriber for --duration x 2 seconds, from its sequence numbers.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Subscriber, XPublisher } from 'zeromq';
import { benchArgs, log, machine, median } from './_util.js';
import { nullLogger } from '../src/core/log.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { TelemetryPublisher } from '../src/telemetry/publisher.js';
import { CborWriter, ZERO_COPY_MIN } from '../src/telemetry/cbor-writer.js';
import { compareEncoders, packedBlockEncoder, type EncoderName } from './_telemetry-encode.js';
import { SCHEMA_VERSION, topicFrame, type BlockBody } from '../src/telemetry/topics.js';

const SELF = fileURLToPath(import.meta.url);
const SIZES: Array<[string, number]> = [
  ['64B', 64],
  ['4KiB', 4096],
  ['256KiB', 256 * 1024],
];
const BATCH = 256;
const QUEUE_BYTES = 16 * 1024 * 1024;

interface ChildResult {
  msgs: number;
  bytes: number;
  seconds: number;
}

function blockBody(payloadBytes: number): BlockBody {
  const channels = 8;
  const samples = Math.max(1, payloadBytes / 4 / channels);
  const data = new Float32Array(channels * samples).map((_, i) => Math.sin(i));
  return {
    stream: 'emg',
    rate: 2000,
    unit: 'uV',
    channels: Array.from({ length: channels }, (_, i) => `ch${i + 1}`),
    samples,
    first_sample: 0,
    block_seq: 0,
    device_time_us: 0,
    host_time_ms: 0,
    host_period_ms: 0.5,
    valid: true,
    data,
  };
}

/** Child process: subscribe, skip `warmup` s after the first message, count `window` s, print JSON. */
async function child(mode: string, endpoint: string, warmup: number, window: number, payload: number): Promise<void> {
  let first = -1;
  let msgs = 0;
  let bytes = 0;
  let start = 0;
  let done = false;
  const tick = (n: number): void => {
    const now = performance.now();
    if (first < 0) first = now;
    if (now - first < warmup * 1000) return;
    if (start === 0) start = now;
    msgs++;
    bytes += n;
    if (now - start >= window * 1000) done = true;
  };
  if (mode === 'raw' || mode === 'reflex') {
    const sub = new Subscriber({ receiveHighWaterMark: 1000, linger: 0 });
    sub.subscribe('');
    sub.connect(endpoint);
    for await (const [, body] of sub) {
      tick(body ? payload : 0);
      if (done) break;
    }
    sub.close();
  } else {
    // 'client': the full decoding subscriber.
    const client = new TelemetryClient({ endpoints: [endpoint], receiveHighWaterMark: 1000, logger: nullLogger() });
    for await (const m of client) {
      tick(m.topic === 'emg.raw' ? m.body.data.byteLength : 0);
      if (done) break;
    }
    await client.close();
  }
  process.stdout.write(JSON.stringify({ msgs, bytes, seconds: (performance.now() - start) / 1000 }) + '\n');
}

function spawnChild(mode: string, endpoint: string, warmup: number, window: number, payload: number): { result: Promise<ChildResult> } {
  const proc = spawn(process.execPath, ['--import=tsx', SELF, 'child', mode, endpoint, String(warmup), String(window), String(payload)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const result = new Promise<ChildResult>((resolve, reject) => {
    proc.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${mode} subscriber exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
    });
  });
  return { result };
}

/** Bytes of frame 2 that Reflex sends for a given payload size (to size-match a bare run). */
function reflexWireSize(size: number): number {
  const w = new CborWriter();
  return w.encodePackedBlock(SCHEMA_VERSION, 0, 1234.5, 0xffff, blockBody(size)).length;
}

/**
 * `wireSize` sends a frame of that many bytes but counts `size` payload bytes per message.
 * `copy`: every message is a fresh buffer holding a copy of the samples, the least work a
 * bare sender of changing data must do (zeromq.js keeps a reference to frames over 128 B
 * until they are sent, so one buffer cannot be refilled for the next message).
 */
/** Send queue in messages for a payload size: 16 MiB or 1000 messages, whichever is fewer. */
export function hwmFor(payloadBytes: number): number {
  return Math.min(1000, Math.max(16, Math.floor(QUEUE_BYTES / payloadBytes)));
}

async function runRaw(size: number, hwm: number, warmup: number, window: number, wireSize = size, copy = false): Promise<ChildResult> {
  // Lossy like TelemetryPublisher, so both senders meet a full queue the same way.
  const sock = new XPublisher({ sendHighWaterMark: hwm, sendTimeout: 0, noDrop: false, linger: 0 });
  await sock.bind('tcp://127.0.0.1:*');
  const c = spawnChild('raw', sock.lastEndpoint!, warmup, window, size);
  await sock.receive(); // the subscription
  const topic = Buffer.from(topicFrame('emg.raw', 'bench', 'sim'));
  const payload = wireSize === size ? Buffer.from(blockBody(size).data.buffer) : Buffer.alloc(wireSize, 1);
  const samples = new Uint8Array(blockBody(size).data.buffer);
  let finished = false;
  void c.result.finally(() => (finished = true));
  let failed = 0;
  const onFailed = (): void => {
    failed++;
  };
  while (!finished) {
    if (copy) {
      for (let i = 0; i < BATCH; i++) {
        const fresh = Buffer.allocUnsafeSlow(payload.length);
        fresh.set(samples);
        sock.send([topic, fresh]).then(undefined, onFailed);
      }
    } else {
      for (let i = 0; i < BATCH; i++) sock.send([topic, payload]).then(undefined, onFailed);
    }
    await nextTurn();
  }
  sock.close();
  if (failed > 0) throw new Error(`raw sender: ${failed} sends failed`);
  return c.result;
}

/** A bare XPUB that encodes each packed block with `which` before sending it, to a bare SUB. */
async function runEncoded(which: EncoderName, size: number, hwm: number, warmup: number, window: number): Promise<ChildResult> {
  const sock = new XPublisher({ sendHighWaterMark: hwm, sendTimeout: 0, noDrop: false, linger: 0 });
  await sock.bind('tcp://127.0.0.1:*');
  const c = spawnChild('raw', sock.lastEndpoint!, warmup, window, size);
  await sock.receive(); // the subscription
  const topic = Buffer.from(topicFrame('emg.raw', 'bench', 'sim'));
  const encode = packedBlockEncoder(which);
  const body = blockBody(size);
  let finished = false;
  void c.result.finally(() => (finished = true));
  let failed = 0;
  const onFailed = (): void => {
    failed++;
  };
  let seq = 0;
  while (!finished) {
    for (let i = 0; i < BATCH; i++) {
      body.block_seq++;
      sock.send([topic, encode(seq++, performance.now(), 4242, body)]).then(undefined, onFailed);
    }
    await nextTurn();
  }
  sock.close();
  if (failed > 0) throw new Error(`${which} sender: ${failed} sends failed`);
  return c.result;
}

async function runReflex(childMode: 'reflex' | 'client', size: number, hwm: number, warmup: number, window: number, immutable: boolean): Promise<ChildResult> {
  const pub = new TelemetryPublisher({ endpoints: ['tcp://127.0.0.1:*'], runtimeId: 'bench', boardId: 'sim', hwm, logger: nullLogger() });
  const [ep] = await pub.start();
  const c = spawnChild(childMode, ep!, warmup, window, size);
  await pub.waitForSubscription('');
  const body = blockBody(size);
  let finished = false;
  void c.result.finally(() => (finished = true));
  while (!finished) {
    for (let i = 0; i < BATCH; i++) {
      body.block_seq++;
      pub.publish('emg.raw', body, { immutable });
    }
    await nextTurn();
  }
  const failed = pub.stats().dropped;
  await pub.close();
  if (failed > 0) throw new Error(`reflex sender: ${failed} sends failed`);
  return c.result;
}

/** Paced 10 kmsg/s to the Python example; loss from what the publisher handed over vs what Python received. */
async function lostAt10k(seconds: number): Promise<Record<string, number>> {
  const rate = 10_000;
  const pub = new TelemetryPublisher({ endpoints: ['tcp://127.0.0.1:*'], runtimeId: 'bench', boardId: 'sim', hwm: 10_000, logger: nullLogger() });
  const [ep] = await pub.start();
  const script = fileURLToPath(new URL('../examples/python/subscriber.py', import.meta.url));
  const py = spawn('/usr/bin/python3', [script, ep!, '--topic', 'emg.raw', '--duration', String(seconds + 2), '--json', '--quiet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  py.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => py.on('close', resolve));
  await pub.waitForSubscription('emg.raw/');
  // A realistic block: 8 channels x 10 samples (a 5 ms block at 2 kHz).
  const body = blockBody(8 * 10 * 4);
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    while (sent < due) {
      body.block_seq = sent++;
      pub.publish('emg.raw', body);
    }
    await nextTurn();
  }
  const achieved = total / ((performance.now() - t0) / 1000);
  const stats = pub.stats().topics['emg.raw'];
  const code = await exited;
  await pub.close();
  const line = out.split('\n').find((l) => l.startsWith('SUMMARY '));
  if (code !== 0 || !line) throw new Error(`python subscriber failed (exit ${code}): ${out}`);
  const summary = JSON.parse(line.slice(8)) as { received: number; lost: number };
  return {
    lost_at_10k: total - summary.received,
    lost_at_10k_seq_gaps: summary.lost,
    lost_at_10k_publisher_dropped: stats.dropped,
    lost_at_10k_sent: total,
    lost_at_10k_achieved_msgs_per_s: Math.round(achieved),
  };
}

/** `--name N` or `--name=N` as a positive integer; undefined when absent. */
function positiveIntFlag(argv: string[], name: string): number | undefined {
  const eq = `--${name}=`;
  const text = argv.find((a) => a.startsWith(eq))?.slice(eq.length) ?? (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : undefined);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration } = benchArgs(argv, { duration: 1 });
  // benchArgs parses only --duration; take --reps N (or --reps=N) here.
  const reps = positiveIntFlag(argv, 'reps') ?? 7;
  // --size LABEL (repeatable, e.g. --size 256KiB) runs only those payload sizes.
  const only = argv.flatMap((a, i) => (a === '--size' ? [argv[i + 1]] : a.startsWith('--size=') ? [a.slice(7)] : []));
  const sizes = only.length === 0 ? SIZES : SIZES.filter(([label]) => only.includes(label));
  if (sizes.length !== only.length && only.length > 0) throw new Error(`--size must be one of ${SIZES.map(([l]) => l).join(', ')}`);
  const skipPython = argv.includes('--no-python');
  const encodeOnly = argv.includes('--encode-only');
  const skipEncode = argv.includes('--no-encode');
  if (encodeOnly && skipEncode) throw new Error('--encode-only and --no-encode contradict each other');
  const hwmArg = positiveIntFlag(argv, 'hwm');
  const warmup = 0.2;
  const out: Record<string, unknown> = { machine: machine(), duration_s: duration, reps, transport: 'tcp loopback', subscriber: 'child process' };
  if (!skipEncode) {
    // First, with no subscriber process running: in-process, alternating the two encoders.
    log(`telemetry: CborWriter vs cbor-x, ${duration * 8} s`);
    Object.assign(out, compareEncoders(duration * 8));
    if (encodeOnly) return out;
  }
  for (const [label, size] of sizes) {
    const raw: ChildResult[] = [];
    const rfx: ChildResult[] = [];
    const cli: ChildResult[] = [];
    const wire: ChildResult[] = [];
    const copied: ChildResult[] = [];
    const rfxCopy: ChildResult[] = [];
    const sendWriter: ChildResult[] = [];
    const sendCborx: ChildResult[] = [];
    const large = size >= ZERO_COPY_MIN;
    const wireSize = reflexWireSize(size);
    const hwm = hwmArg ?? hwmFor(size);
    out[`hwm_${label}`] = hwm;
    const rate = (x: ChildResult): number => x.msgs / x.seconds;
    for (let r = 0; r < reps; r++) {
      raw.push(await runRaw(size, hwm, warmup, duration));
      // Small payloads only: a bare frame as long as Reflex's message, to separate the cost of
      // message size (zeromq.js copies frames <= 128 B but sends larger ones zero-copy with a
      // finalizer on both ends) from Reflex's own work.
      if (size < 1024) wire.push(await runRaw(size, hwm, warmup, duration, wireSize));
      // Large payloads only: a bare sender that copies the samples into a fresh buffer per
      // message, to separate the copy publish() must make (the caller reuses its arrays) from
      // the rest of Reflex's work. Diagnostic: the headline ratios stay against plain raw.
      if (large) copied.push(await runRaw(size, hwm, warmup, duration, size, true));
      // Like the bare sender, Reflex publishes one unchanging array; saying so (`immutable`)
      // lets it send large arrays uncopied. The copying path (for callers that reuse their
      // arrays, like the runtime's sources) is measured beside it.
      rfx.push(await runReflex('reflex', size, hwm, warmup, duration, true));
      if (large) rfxCopy.push(await runReflex('reflex', size, hwm, warmup, duration, false));
      cli.push(await runReflex('client', size, hwm, warmup, duration, true));
      if (!skipEncode) {
        // Alternating which goes first, so neither always meets the other's leftovers.
        const order: EncoderName[] = r % 2 === 0 ? ['writer', 'cborx'] : ['cborx', 'writer'];
        for (const which of order) (which === 'writer' ? sendWriter : sendCborx).push(await runEncoded(which, size, hwm, warmup, duration));
      }
      log(
        `telemetry ${label} rep ${r + 1}: raw ${rate(raw[r]!).toFixed(0)} msg/s, reflex ${rate(rfx[r]!).toFixed(0)} msg/s, ` +
          `reflex+client ${rate(cli[r]!).toFixed(0)} msg/s`,
      );
    }
    const mb = (xs: ChildResult[]): number => Number(median(xs.map((x) => x.bytes / x.seconds / 1e6)).toFixed(2));
    // Ratios are taken per rep (raw and reflex back to back, under the same load) and then the
    // median; on a shared machine this is steadier than a ratio of medians.
    const paired = (xs: ChildResult[]): number => Number(median(xs.map((x, i) => rate(x) / rate(raw[i]!))).toFixed(3));
    const best = (xs: ChildResult[]): number => Math.max(...xs.map(rate));
    out[`msgs_per_s_${label}`] = Math.round(median(rfx.map(rate)));
    out[`raw_msgs_per_s_${label}`] = Math.round(median(raw.map(rate)));
    out[`client_msgs_per_s_${label}`] = Math.round(median(cli.map(rate)));
    out[`mb_per_s_${label}`] = mb(rfx);
    out[`raw_mb_per_s_${label}`] = mb(raw);
    out[`client_mb_per_s_${label}`] = mb(cli);
    out[`ratio_${label}`] = paired(rfx);
    out[`client_ratio_${label}`] = paired(cli);
    out[`best_ratio_${label}`] = Number((best(rfx) / best(raw)).toFixed(3));
    out[`best_client_ratio_${label}`] = Number((best(cli) / best(raw)).toFixed(3));
    out[`wire_bytes_${label}`] = wireSize;
    if (wire.length > 0) {
      out[`raw_same_wire_msgs_per_s_${label}`] = Math.round(median(wire.map(rate)));
      out[`ratio_vs_same_wire_${label}`] = Number(median(rfx.map((x, i) => rate(x) / rate(wire[i]!))).toFixed(3));
    }
    if (sendWriter.length > 0) {
      out[`send_msgs_per_s_writer_${label}`] = Math.round(median(sendWriter.map(rate)));
      out[`send_msgs_per_s_cborx_${label}`] = Math.round(median(sendCborx.map(rate)));
      out[`send_ratio_writer_over_cborx_${label}`] = Number(median(sendWriter.map((x, i) => rate(x) / rate(sendCborx[i]!))).toFixed(3));
    }
    if (large) {
      out[`copy_mb_per_s_${label}`] = mb(rfxCopy);
      out[`copy_ratio_${label}`] = paired(rfxCopy);
      out[`raw_copy_mb_per_s_${label}`] = mb(copied);
      out[`copy_ratio_vs_raw_copy_${label}`] = Number(median(rfxCopy.map((x, i) => rate(x) / rate(copied[i]!))).toFixed(3));
    }
  }
  if (!skipPython) {
    log('telemetry: 10k msg/s to the Python subscriber');
    Object.assign(out, await lostAt10k(duration * 2));
  }
  return out;
}

if (process.argv[1] === SELF && process.argv[2] === 'child') {
  const [, , , mode, endpoint, warmup, window, payload] = process.argv;
  await child(mode!, endpoint!, Number(warmup), Number(window), Number(payload));
}
