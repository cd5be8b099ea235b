/**
 * The ads1299 source through a real Runtime without a model: a board whose `spi.device` is the
 * in-process ADS1299 model (`fake:ads1299`, free-running at 250 SPS) and whose data-ready line is
 * on the simulated GPIO chip. Its samples reach `emg.raw` in µV, clock-mapped by the same clock
 * model, through the same units and aligner as every other source; counters reach `health`.
 * The model and the line live in the source's reader thread, as a real chip and line would.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../src/core/log.js';
import { Runtime } from '../src/runtime/runtime.js';
import { TelemetryClient } from '../src/telemetry/client.js';
import type { TelemetryMessage } from '../src/telemetry/topics.js';
import { noModelConfig } from './runtime-helpers.js';

const SIM = 'reflex-sim';
const LSB_UV = (9 / 2 ** 24) * 1e6; // counts x gain at that gain: the gain cancels

const BOARD = {
  $schema: './board.schema.json',
  id: 'ads1299-fake',
  name: 'ADS1299 model on the simulated GPIO chip',
  source: { kind: 'ads1299', rate: 250, channels: 8, gain: 24 },
  pins: { estop: { chip: SIM, line: 3, activeLow: true }, dataReady: { chip: SIM, line: 25 } },
  spi: {
    device: 'fake:ads1299',
    bus: 0,
    chipSelect: 0,
    mode: 1,
    maxSpeedHz: 4000000,
    dataReady: 'dataReady',
    adc: 'ads1299',
    lines: { sclk: { chip: SIM, line: 11 }, mosi: { chip: SIM, line: 10 }, miso: { chip: SIM, line: 9 }, cs: { chip: SIM, line: 8 } },
  },
  actuators: [{ name: 'wrist', kind: 'servo', via: 'sim', min: 1000, max: 2000, slewPerS: 4000, safe: 1500, unit: 'us' }],
};

test.serial('an ads1299 board on the fake SPI device: µV samples in emg.raw, clock-mapped, counted in health', async (t) => {
  t.timeout(40_000);
  const dir = mkdtempSync(join(tmpdir(), 'reflex-ads1299-rt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const boardFile = join(dir, 'ads1299-fake.json');
  writeFileSync(boardFile, JSON.stringify(BOARD));
  const cfg = noModelConfig(boardFile, 'ads-rt');
  const rt = await Runtime.start(cfg, { log: new Logger({ sink: () => {}, level: 'error' }), guardProcess: false });
  t.teardown(() => rt.stop());
  const client = new TelemetryClient({ endpoints: [rt.telemetryEndpoints[0]!], topics: ['emg.raw', 'health'] });
  t.teardown(() => client.close());
  const iter = client[Symbol.asyncIterator]();
  const bad: string[] = [];
  let samples = 0;
  let mapped = 0;
  let lastHostMs = Number.NEGATIVE_INFINITY;
  const next = async (pred: (m: TelemetryMessage) => boolean, what: string): Promise<TelemetryMessage> => {
    const deadline = Date.now() + 25_000;
    while (Date.now() < deadline) {
      const r = await iter.next();
      if (r.done) break;
      const m = r.value;
      if (m.topic === 'emg.raw') {
        const b = m.body;
        if (b.channels.length !== 8 || b.rate !== 250 || b.unit !== 'uV') bad.push(`shape ${b.channels.length} ch ${b.rate} Hz ${b.unit}`);
        for (let i = 0; i < b.samples; i++) {
          // The model's channel c carries ±((c + 1) * 1000 + k) counts at gain 1, k one conversion's number: the same k on every channel.
          const k = Math.round(b.data[i]! / LSB_UV) - 1000;
          for (let c = 0; c < 8; c++) {
            const want = Math.fround((c % 2 === 1 ? -1 : 1) * ((c + 1) * 1000 + k) * LSB_UV);
            if (b.data[c * b.samples + i] !== want) bad.push(`block ${b.block_seq} sample ${i} ch${c + 1}: ${b.data[c * b.samples + i]} != ${want}`);
          }
        }
        samples += b.samples;
        if (Number.isFinite(b.host_time_ms)) {
          mapped++;
          if (b.host_time_ms < lastHostMs - 1) bad.push(`host time went back: ${b.host_time_ms} after ${lastHostMs}`);
          lastHostMs = b.host_time_ms;
        }
      }
      if (pred(m)) return m;
    }
    throw new Error(`no telemetry: ${what}; status ${JSON.stringify(rt.status())}`);
  };
  const h = await next((m) => m.topic === 'health' && (m.body.counters['source.samples'] ?? 0) >= 250 && samples >= 100, '250 samples counted, 100 seen');
  t.deepEqual(bad.slice(0, 5), []);
  t.true(mapped > 0, 'blocks carry host times from the clock model');
  const c = h.topic === 'health' ? h.body.counters : {};
  t.true((c['source.frames'] ?? 0) >= (c['source.samples'] ?? 0));
  t.is(c['source.stalls'], 0);
  t.is(c['source.bad_status'], 0);
  // Every sample is either delivered or counted as missed: a timer cannot promise 4 ms ticks here.
  t.true(Number.isInteger(c['source.missed_edges']));
  t.is(c['source.ring_overflows'], 0);
  // The reader thread: its data-ready line is the model's simulated one, no priority asked at 250 SPS.
  const src = rt.status().source as Record<string, unknown>;
  t.is(src.edge_clock, 'fake');
  t.is(src.reader_priority, 'normal (not asked)');
  t.true(Number.isInteger(src.reader_thread) && (src.reader_thread as number) > 0);
  await client.close();
  await rt.stop();
});
