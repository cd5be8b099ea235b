/**
 * The Cyton + Daisy through a real runtime: boards/openbci-cyton-daisy.json pointed at a
 * pseudo-terminal with a fake board on the other side (Python, packets built from OpenBCI's
 * "16 Channel Data with Daisy Module" independently of the parser: 250 packets a second, odd
 * sample numbers the board's channels, even ones the Daisy's), run without a model.
 * Checked from a subscriber and a control client: 16 channels at 125 Hz in `emg.raw` with the
 * µV values the fake sent, a lost packet (half a sample) as a `dropped` gap, the counters.
 * And the start-up check refusing the default model (8 channels at 2 kHz) on this board.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoard } from '../src/boards/load.js';
import { Logger } from '../src/core/log.js';
import { defaultConfig } from '../src/runtime/config.js';
import { Runtime } from '../src/runtime/runtime.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import { ControlClient } from '../src/telemetry/control-client.js';
import { PTY_PRELUDE, startPythonCyton, uvPerCount } from './cyton-packets.js';
import { healthWaiter, noModelConfig, shippedBoardAt, telemetryWaiter } from './runtime-helpers.js';

/**
 * Fake Cyton + Daisy on the master side of a pty: `v` -> banner naming the Daisy, ending in
 * `$$$`; `b` -> packets at 250 a second of device-side time, sample number from 0 (the first,
 * even, is the firmware's invalid one); `s` -> stop. Channel k of an odd packet n (the board)
 * carries (k+1)*1000 + n, of an even one (the Daisy) -((k+9)*1000 + n), n the u8 number.
 * stdin: `drop N` skips the next N sample numbers (packets lost on the radio).
 */
const FAKE_DAISY = String.raw`
${PTY_PRELUDE}
def counts(n):
    if n % 2 == 1:
        return [(k + 1) * 1000 + n for k in range(8)]
    return [-((k + 9) * 1000 + n) for k in range(8)]
streaming = False
sn = 0
sent = 0
t0 = 0.0
skip = 0
while True:
    r, _, _ = select.select([m, sys.stdin], [], [], 0.004)
    if sys.stdin in r:
        line = sys.stdin.readline().split()
        if not line:
            break
        if line[0] == "drop":
            skip += int(line[1])
    if m in r:
        for c in os.read(m, 64):
            ch = chr(c)
            if ch == "v":
                streaming = False
                os.write(m, b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\n")
                os.write(m, b"On Daisy ADS1299 Device ID: 0x3E\nLIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$")
            elif ch == "b":
                streaming, sn, sent, t0 = True, 0, 0, time.monotonic()
            elif ch == "s":
                streaming = False
    if streaming:
        due = int((time.monotonic() - t0) * 250)
        out = b""
        while sent < due:
            n = sn & 255
            if skip > 0:
                skip -= 1
                print("DROPPED %d" % n, flush=True)
            else:
                out += bytes([0xA0, n]) + b"".join(int24(v) for v in counts(n)) + bytes(6) + bytes([0xC0])
            sn += 1
            sent += 1
        if out:
            os.write(m, out)
`;

const UV = uvPerCount(24);

/** What sample `i` of a block must hold on channel `c`, from its first packet's (odd) sample number. */
function expectedUv(seq: number, c: number): number {
  const odd = seq & 255;
  const even = (odd + 1) & 255;
  return Math.fround((c < 8 ? (c + 1) * 1000 + odd : -((c + 1) * 1000 + even)) * UV);
}

test('boards/openbci-cyton-daisy.json: a cyton source with daisy, 16 channels at 125 Hz', (t) => {
  const b = loadBoard('openbci-cyton-daisy');
  t.deepEqual(b.source, { kind: 'cyton', path: '/dev/ttyUSB0', baudRate: 115200, gain: 24, daisy: true });
});

test('the default model (8 channels at 2 kHz) is refused on the Daisy board, suggesting --no-model', async (t) => {
  const cfg = defaultConfig('openbci-cyton-daisy');
  t.truthy(cfg.model, 'the default configuration has a model');
  cfg.telemetry.endpoints = ['tcp://127.0.0.1:*'];
  cfg.telemetry.control = 'tcp://127.0.0.1:*';
  const err = await t.throwsAsync(Runtime.start(cfg, { log: new Logger({ sink: () => {}, level: 'error' }), guardProcess: false }));
  // Its channels are checked first: 8 against the board's 16.
  t.is((err as { code?: string }).code, 'E_MODEL_SHAPE');
  t.regex(err.message, /expects 8 channels, board openbci-cyton-daisy streams 16/);
  t.regex(err.message, /--no-model/);
});

test.serial('openbci-cyton-daisy without a model: 16 channels at 125 Hz in emg.raw with the sent µV, a lost packet as a dropped gap', async (t) => {
  t.timeout(60_000);
  const fake = startPythonCyton(FAKE_DAISY);
  t.teardown(() => fake.proc.kill());
  const first = await fake.next();
  t.true(first.startsWith('PTY '), first);
  const dir = mkdtempSync(join(tmpdir(), 'reflex-daisy-rt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = noModelConfig(shippedBoardAt('openbci-cyton-daisy', first.slice(4), dir, 'daisy.json'), 'daisy-rt');
  const lines: string[] = [];
  const rt = await Runtime.start(cfg, { log: new Logger({ sink: (_l, msg) => lines.push(msg), level: 'info' }), guardProcess: false });
  t.teardown(() => rt.stop());
  const client = new TelemetryClient({ endpoints: [rt.telemetryEndpoints[0]!], topics: ['emg.raw', 'health', 'event'] });
  const ctl = new ControlClient({ endpoint: rt.controlEndpoints[0]!, timeoutMs: 20_000 });
  t.teardown(() => ctl.close());
  t.teardown(() => client.close());
  let rawBlocks = 0;
  let rawSamples = 0;
  const bad: string[] = [];
  // Every emg.raw block passing by is checked sample by sample.
  const next = telemetryWaiter(client, rt, (m) => {
    if (m.topic !== 'emg.raw') return;
    const b = m.body;
    rawBlocks++;
    rawSamples += b.samples;
    if (b.channels.length !== 16 || b.rate !== 125 || b.unit !== 'uV') bad.push(`shape ${b.channels.length} ch, ${b.rate} Hz, ${b.unit}`);
    // Samples in a block are contiguous: sample i's first packet is seq + 2i.
    for (let i = 0; i < b.samples; i++) {
      for (let c = 0; c < 16; c++) {
        const want = expectedUv(b.block_seq + 2 * i, c);
        if (b.data[c * b.samples + i] !== want) bad.push(`seq ${b.block_seq} sample ${i} ch${c + 1}: ${b.data[c * b.samples + i]} != ${want}`);
      }
    }
  });
  const health = healthWaiter(next);

  let c = await health((x) => (x['source.samples'] ?? 0) >= 25 && rawSamples >= 10, '25 samples counted in health, 10 seen in emg.raw');
  t.deepEqual(bad.slice(0, 5), [], 'every emg.raw value is what the fake sent, paired right');
  t.true(rawBlocks > 0);
  // Two packets per sample (the first packet, the firmware's invalid one, is no sample).
  t.true(c['source.packets']! >= 2 * c['source.samples']!, `${c['source.packets']} packets for ${c['source.samples']} samples`);
  t.true(c['source.packets']! <= 2 * c['source.samples']! + 2, `${c['source.packets']} packets for ${c['source.samples']} samples`);
  t.is(c['source.dropped_samples'], 0);
  t.is(c['source.connections'], 1);
  const s0 = (await ctl.request('status')) as { source: Record<string, unknown>; counters: Record<string, number> };
  t.like(s0.source, { device: 'OpenBCI Cyton + Daisy', link: 'streaming', firmware: 'v3.1.2' });

  // One packet lost on the radio: half a sample, so that sample is a `dropped` gap of one.
  fake.cmd('drop 1');
  const gap = await next((m) => m.topic === 'event' && m.body.kind === 'gap', 'the gap event');
  const data = (gap.topic === 'event' ? gap.body.data : undefined) as Record<string, unknown> | undefined;
  const message = gap.topic === 'event' ? gap.body.message : '';
  t.regex(message, /^dropped gap: /);
  t.false(/NaN/.test(message), message);
  // From the sample before the hole to the one after it: two periods of 8 ms.
  t.like(data, { count: 1, cause: 'dropped', missing_samples: 1, missing_frames: 1, device_span_us: 16_000, device_reset: false });
  t.true(Number.isFinite(Number(data?.host_span_ms)) && Number(data?.host_span_ms) >= 0);
  // Raw numbers of the first packets of the samples either side: two samples apart.
  t.is((Number(data?.to_seq) - Number(data?.from_seq) + 256) % 256, 4);
  const dropped = Number((await fake.next()).replace('DROPPED ', ''));
  const lostSampleSeq = dropped % 2 === 1 ? dropped : (dropped + 255) & 255;
  t.is(Number(data?.from_seq), (lostSampleSeq + 254) & 255, 'the gap starts after the sample before the lost packet');
  c = await health((x) => x['source.dropped_samples'] === 1 && rawSamples >= 40, 'the dropped sample in health');
  t.is(c['source.gaps'], 1);
  t.is(c.gap_samples, 1);
  t.deepEqual(bad.slice(0, 5), [], 'samples after the gap are paired right too');

  await ctl.close();
  await client.close();
  await rt.stop();
  t.false(
    lines.some((l) => /NaN/.test(l)),
    lines.filter((l) => /NaN/.test(l)).join(' | '),
  );
});
