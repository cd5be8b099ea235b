/**
 * The Cyton through a real runtime: boards/openbci-cyton.json pointed at a pseudo-terminal
 * with a fake Cyton streaming 250 Hz on the other side (Python, packets built from
 * OpenBCI's format, independent of the parser), run without a model (`--no-model`).
 * Checked from the outside: the device's counters in `status` and the `health` topic,
 * a dropped packet as a `dropped` gap with finite spans, a reconnect that says why, and a
 * stop while reconnecting that ends promptly.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoard } from '../src/boards/load.js';
import type { BoardDef } from '../src/boards/types.js';
import { Logger, nullLogger } from '../src/core/log.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { Source, SourceStateDetail } from '../src/runtime/source.js';
import { openSource } from '../src/runtime/source-open.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { ControlClient } from '../src/telemetry/control-client.js';
import { PTY_PRELUDE, startPythonCyton, type FakeCyton } from './cyton-packets.js';
import { healthWaiter, noModelConfig, shippedBoardAt, telemetryWaiter } from './runtime-helpers.js';

/**
 * Fake Cyton on the master side of a pty: `v` -> banner ending in `$$$`, `b` -> packets at
 * 250 Hz of device-side time (sent as they fall due, in the bursts the select timeout
 * gives), `s` -> stop. stdin: `drop N` skips the next N sample numbers (packets lost on the
 * radio), `hangup` closes the master (an unplugged dongle).
 */
const FAKE_CYTON = String.raw`
${PTY_PRELUDE}
streaming = False
sn = 0
sent = 0
t0 = 0.0
skip = 0
while True:
    r, _, _ = select.select([m, sys.stdin], [], [], 0.004)
    if sys.stdin in r:
        line = sys.stdin.readline().split()
        if not line or line[0] == "hangup":
            os.close(m)
            print("CLOSED", flush=True)
            break
        if line[0] == "drop":
            skip += int(line[1])
    if m in r:
        for c in os.read(m, 64):
            ch = chr(c)
            if ch == "v":
                streaming = False
                os.write(m, b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\nFirmware: v3.1.2\n$$$")
            elif ch == "b":
                streaming, sn, sent, t0 = True, 0, 0, time.monotonic()
            elif ch == "s":
                streaming = False
    if streaming:
        due = int((time.monotonic() - t0) * 250)
        out = b""
        while sent < due:
            if skip > 0:
                skip -= 1
                dropped = sn
                print("DROPPED %d" % dropped, flush=True)
            else:
                out += bytes([0xA0, sn & 255]) + b"".join(int24((k + 1) * 1000 + sn) for k in range(8)) + bytes(6) + bytes([0xC0])
            sn += 1
            sent += 1
        if out:
            os.write(m, out)
`;

const startFakeCyton = (): FakeCyton => startPythonCyton(FAKE_CYTON);

/** Rejects if `p` has not settled within `ms` (a failure guard for "ends promptly", not a measurement). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

type Status = { state: string; board: string; source: Record<string, string | number>; counters: Record<string, number> };

/** Every counter docs/cyton.md lists, as the runtime prefixes source counters. */
const CYTON_KEYS = [
  'samples',
  'packets',
  'garbage_bytes',
  'bad_footer',
  'unknown_footer',
  'repeated_sample',
  'dropped_samples',
  'gaps',
  'outages',
  'outage_samples',
  'connections',
  'open_failures',
  'reset_timeouts',
  'handshake_failures',
  'no_board',
  'disconnects',
  'stalls',
  'write_errors',
  'close_errors',
].map((k) => `source.${k}`);

test.serial('openbci-cyton without a model: counters in status and health, a dropped gap with finite spans, a reconnect with its reason', async (t) => {
  t.timeout(60_000);
  const cyton = startFakeCyton();
  t.teardown(() => cyton.proc.kill());
  const first = await cyton.next();
  t.true(first.startsWith('PTY '), first);
  const dir = mkdtempSync(join(tmpdir(), 'reflex-cyton-rt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = noModelConfig(shippedBoardAt('openbci-cyton', first.slice(4), dir, 'cyton.json'), 'cyton-rt');
  const lines: string[] = [];
  const log = new Logger({ sink: (_level, msg) => lines.push(msg), level: 'info' });
  const rt = await Runtime.start(cfg, { log, guardProcess: false });
  t.teardown(() => rt.stop());
  const client = new TelemetryClient({ endpoints: [rt.telemetryEndpoints[0]!], topics: ['health', 'event'] });
  const ctl = new ControlClient({ endpoint: rt.controlEndpoints[0]!, timeoutMs: 20_000 });
  t.teardown(() => ctl.close());
  t.teardown(() => client.close());
  const next = telemetryWaiter(client, rt);
  const health = healthWaiter(next);

  // Streaming: samples and packets counted where the status line and `health` read them.
  let c = await health((x) => (x['source.samples'] ?? 0) >= 25, '25 samples counted in health');
  for (const k of CYTON_KEYS) t.is(typeof c[k], 'number', `${k} in health`);
  t.is(c['source.samples'], c['source.packets']);
  t.is(c['source.connections'], 1);
  t.is(c['source.dropped_samples'], 0);
  const s0 = (await ctl.request('status')) as Status;
  t.is(s0.board, 'openbci-cyton');
  t.is(s0.state, 'running');
  t.like(s0.source, { device: 'OpenBCI Cyton', link: 'streaming', link_attempts: 1, firmware: 'v3.1.2' });
  t.false('last_error' in s0.source, 'nothing has failed yet');
  for (const k of CYTON_KEYS) t.is(typeof s0.counters[k], 'number', `${k} in ctl status`);
  t.true(s0.counters['source.samples']! > 0);

  // Three packets lost on the radio: one `dropped` gap with real spans, counted on both sides.
  cyton.cmd('drop 3');
  const gap = await next((m) => m.topic === 'event' && m.body.kind === 'gap', 'the gap event');
  const message = gap.topic === 'event' ? gap.body.message : '';
  const data = (gap.topic === 'event' ? gap.body.data : undefined) as Record<string, unknown> | undefined;
  t.regex(message, /^dropped gap: .*3 samples/);
  t.false(/NaN/.test(message), message);
  // Device span: from the sample before the hole to the one after it, four periods of 4 ms.
  t.like(data, { count: 1, cause: 'dropped', missing_frames: 3, missing_samples: 3, device_span_us: 16_000, device_reset: false });
  const hostSpanMs = Number(data?.host_span_ms);
  t.true(Number.isFinite(hostSpanMs) && hostSpanMs >= 0, `host span ${hostSpanMs}`);
  t.is((Number(data?.to_seq) - Number(data?.from_seq) + 256) % 256, 4, 'u8 sample numbers either side');
  const dropped = Number((await cyton.next()).replace('DROPPED ', ''));
  t.is(Number(data?.from_seq), (dropped - 1) & 255, 'the gap starts after the last packet sent before the drop');
  c = await health((x) => x['source.dropped_samples'] === 3, 'dropped samples in health');
  t.is(c['source.gaps'], 1);
  t.is(c.gaps, 1);
  t.is(c.gap_samples, 3);
  const s1 = (await ctl.request('status')) as Status;
  t.is(s1.counters['source.dropped_samples'], 3);
  t.true(s1.counters['source.samples']! > s0.counters['source.samples']!);

  // The dongle goes away: the reconnect event names the cause, status says state, attempts and last error.
  cyton.cmd('hangup');
  const ev = await next((x) => x.topic === 'event' && x.body.kind === 'disconnect', 'a disconnect event');
  if (ev.topic === 'event') {
    t.regex(ev.body.message, /^source disconnected: \S.+; reconnecting$/);
    t.like(ev.body.data, { state: 'reconnecting', code: 'E_DISCONNECTED' });
  }
  // Usually the reopen fails (the pty is gone); under a loaded suite the kernel may already have
  // handed the same /dev/pts number to another test's terminal, and the failure is then its
  // silence. Either way the event and status carry the reason and its code.
  const reason = await next(
    (x) => x.topic === 'event' && x.body.kind === 'source' && x.body.data?.state === 'reconnecting' && typeof x.body.data?.code === 'string',
    'a failed reconnection attempt with its reason',
  );
  if (reason.topic === 'event') {
    t.regex(reason.body.message, /^source reconnecting: \S.+/);
    t.regex(String(reason.body.data?.code), /^E_(CYTON_OPEN|CYTON_NO_RESET|CYTON_NO_BOARD|CYTON_STALL|DISCONNECTED)$/);
    t.true(Number(reason.body.data?.attempts) >= 2, 'the first connection and at least one reopen');
  }
  const s2 = (await ctl.request('status')) as Status;
  t.true(typeof s2.source.last_error === 'string' && s2.source.last_error.length > 0, String(s2.source.last_error));
  t.regex(String(s2.source.last_error_code), /^E_/);
  t.true(Number(s2.source.link_attempts) >= 2);
  t.true(['opening', 'reconnecting', 'resetting'].includes(String(s2.source.link)), String(s2.source.link));
  t.true(s2.counters['source.disconnects']! >= 1);

  // Stopping while the source reconnects ends promptly.
  await ctl.close();
  await client.close();
  await within(rt.stop(), 5000, 'runtime stop while reconnecting');
  t.is(rt.state, 'stopped');
  t.false(
    lines.some((l) => /NaN/.test(l)),
    lines.filter((l) => /NaN/.test(l)).join(' | '),
  );
});

/** openbci-cyton with its serial path replaced. */
function cytonBoard(path: string): BoardDef {
  const b = loadBoard('openbci-cyton');
  return { ...b, source: { ...b.source, path } as BoardDef['source'] };
}

function nextSourceState(src: Source, want: RegExp, ms = 10_000): Promise<[string, SourceStateDetail | undefined]> {
  return within(
    new Promise((resolve) => {
      const on = (s: string, d?: SourceStateDetail): void => {
        if (!want.test(s)) return;
        src.off('state', on);
        resolve([s, d]);
      };
      src.on('state', on);
    }),
    ms,
    `source state ${want}`,
  );
}

test('a wrong path: start() keeps retrying, describe() says attempts and why, stop() ends it at once', async (t) => {
  const src = await openSource(cytonBoard('/dev/reflex-no-such-cyton'), { log: nullLogger() });
  const retrying = nextSourceState(src, /^reconnecting$/);
  const started = src.start();
  const [, detail] = await retrying;
  t.regex(detail?.reason ?? '', /^cannot open \/dev\/reflex-no-such-cyton: /);
  t.is(detail?.code, 'E_CYTON_OPEN');
  const d = src.describe();
  t.like(d, { device: 'OpenBCI Cyton', path: '/dev/reflex-no-such-cyton', last_error_code: 'E_CYTON_OPEN' });
  t.true(Number(d.link_attempts) >= 1);
  t.regex(String(d.last_error), /cannot open/);
  t.is(src.device?.(), null, 'no board has answered');
  await within(src.stop(), 2000, 'stop() while retrying a wrong path');
  t.is(((await t.throwsAsync(started)) as { code?: string }).code, 'E_CYTON_STOPPED');
  t.is(src.describe().link, 'stopped');
  t.true(src.counters().open_failures! >= 1);
});

test('a board that never answers (silent pseudo-terminal): stop() during the handshake ends at once', async (t) => {
  // A pty whose other side never reads or writes: the session waits for a `$$$` that never comes.
  const proc = spawn(
    '/usr/bin/python3',
    ['-c', 'import os, pty, tty, sys\nm, s = pty.openpty()\ntty.setraw(s)\nprint(os.ttyname(s), flush=True)\nsys.stdin.read()'],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  t.teardown(() => proc.kill());
  const path = (await createInterface({ input: proc.stdout })[Symbol.asyncIterator]().next()).value as string;
  const src = await openSource(cytonBoard(path), { log: nullLogger() });
  const resetting = nextSourceState(src, /^resetting$/);
  const started = src.start();
  await resetting;
  t.is(src.describe().link, 'resetting');
  await within(src.stop(), 2000, 'stop() while waiting for $$$');
  t.is(((await t.throwsAsync(started)) as { code?: string }).code, 'E_CYTON_STOPPED');
});

test('pause and resume (control stop/start): streaming comes back and the counters keep counting', async (t) => {
  const cyton = startFakeCyton();
  t.teardown(() => cyton.proc.kill());
  const path = (await cyton.next()).slice(4);
  const src = await openSource(cytonBoard(path), { log: nullLogger() });
  t.teardown(() => src.stop());
  let samples = 0;
  let wanted: { n: number; done: () => void } | null = null;
  src.on('samples', (b) => {
    samples += b.samples;
    if (wanted && samples >= wanted.n) wanted.done();
  });
  const reach = (n: number): Promise<void> => within(new Promise<void>((done) => (wanted = { n, done })), 10_000, `${n} samples`);
  await src.start();
  await reach(10);
  await src.pause();
  const paused = src.counters();
  t.is(paused.connections, 1);
  t.true(paused.samples! >= 10);
  await src.resume();
  await reach(samples + 10);
  const c = src.counters();
  t.is(c.connections, 2);
  t.true(c.samples! >= paused.samples! + 10, `${c.samples} after ${paused.samples}`);
  t.is(src.describe().link, 'streaming');
  await src.stop();
});
