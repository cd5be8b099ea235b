import test from 'ava';
import { RateMonitor } from '../src/cli/monitor.js';
import type { TelemetryMessage } from '../src/telemetry/topics.js';

function clock(source: string, seq: number): TelemetryMessage {
  return {
    topic: 'clock',
    source: { endpoint: 'tcp://127.0.0.1:1', runtime: 'rt', board: 'sim' },
    v: 3,
    seq,
    mono_ms: seq,
    wall_ms: seq,
    lost: 0,
    body: { source, state: 'locked', time_base: 'device', offset_ms: 1, drift_ppm: 2, residual_ms: 0.1, points: 5 },
  };
}

test('clock messages of different streams get a row each, at their own rate', (t) => {
  const m = new RateMonitor(0);
  for (let i = 0; i < 10; i++) {
    m.add(clock('emg', 2 * i));
    m.add(clock('tracker', 2 * i + 1));
  }
  const lines = m.lines(1000);
  t.is(lines.length, 2);
  t.regex(lines[0]!, /^clock\.emg rt\/sim .* rate=10\.0\/s total=10 .*\| emg locked/);
  t.regex(lines[1]!, /^clock\.tracker rt\/sim .* rate=10\.0\/s total=10 .*\| tracker locked/);
});
