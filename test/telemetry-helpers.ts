/** Shared fixtures for test/telemetry-*.test.ts (not a test file itself). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TelemetryClient } from '../src/telemetry/client.js';
import type { BlockBody, TelemetryMessage, Topic, TopicBodies } from '../src/telemetry/topics.js';

let counter = 0;
const dir = mkdtempSync(join(tmpdir(), 'reflex-tm-'));

/** A fresh bind endpoint per call: tcp on an ephemeral loopback port, or a unique ipc path. */
export function bindEndpoint(proto: 'tcp' | 'ipc'): string {
  return proto === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${join(dir, `s${process.pid}-${counter++}.sock`)}`;
}

export const PROTOS = ['tcp', 'ipc'] as const;

/** One deterministic body per topic, with values that are not round numbers so bit-exactness matters. */
export function sampleBodies(k = 1): TopicBodies {
  const emg = new Float32Array(4 * 16);
  for (let i = 0; i < emg.length; i++) emg[i] = Math.fround(Math.sin(i * 0.37 + k) * 123.456 + 1e-7 * i);
  emg[3] = Number.NaN;
  emg[5] = -0;
  emg[7] = Number.POSITIVE_INFINITY;
  const feat = new Float32Array(4 * 2).map((_, i) => Math.fround(0.1 * i + k / 3));
  const trk = new Float32Array(3 * 5).map((_, i) => Math.fround(Math.cos(i + k) * 90));
  return {
    'emg.raw': {
      stream: 'emg',
      rate: 2000,
      unit: 'uV',
      channels: ['ch1', 'ch2', 'ch3', 'ch4'],
      samples: 16,
      first_sample: 1600 * k,
      block_seq: 100 + k,
      device_time_us: 123456789 + k,
      host_time_ms: 98765.4321 + k,
      host_period_ms: 0.5000001,
      valid: true,
      data: emg,
    },
    'emg.features': {
      stream: 'emg.rms',
      rate: 100,
      unit: 'uV',
      channels: ['ch1.rms', 'ch2.rms', 'ch3.rms', 'ch4.rms'],
      samples: 2,
      first_sample: k,
      block_seq: k,
      device_time_us: Number.NaN,
      host_time_ms: 98765.5 + k,
      host_period_ms: 10,
      valid: false,
      data: feat,
    },
    tracker: {
      stream: 'tracker',
      rate: 120,
      unit: 'deg',
      channels: ['wrist.x', 'wrist.y', 'wrist.z'],
      samples: 5,
      first_sample: k * 5,
      block_seq: k,
      device_time_us: 5e9 + k,
      host_time_ms: 98700 + k,
      host_period_ms: 1000 / 120,
      valid: true,
      data: trk,
    },
    prediction: {
      tick: k,
      model: 'wrist-v3',
      names: ['flex', 'ext'],
      unit: 'deg',
      values: new Float32Array([12.5 + k, -3.25]),
      window_end_ms: 98765 + k,
      cycle_ms: 98770 + k,
      latency_ms: 1.234,
    },
    actuators: {
      tick: k,
      names: ['servo1', 'servo2'],
      units: ['deg', 'deg'],
      requested: new Float32Array([100, -5]),
      applied: new Float32Array([90, -5]),
      limited: new Uint8Array([1, 0]),
      safe_state: false,
      cycle_ms: 98770 + k,
    },
    loop: {
      ticks: 100,
      period_ms: 10,
      missed: k,
      lateness_p50_ms: 0.05,
      lateness_p99_ms: 0.4,
      lateness_max_ms: 1.7,
      compute_p50_ms: 2.1,
      compute_p99_ms: 3.3,
      compute_max_ms: 4.9,
    },
    clock: { source: 'emg', state: 'locked', time_base: 'device', offset_ms: -1234.5678, drift_ppm: 12.3, residual_ms: 0.021, points: 64 },
    health: { state: 'running', uptime_s: 12.5 + k, counters: { crc_errors: 2, reconnects: 0 }, trackers: {} },
    event: { kind: 'estop', level: 'warn', message: 'e-stop pressed', data: { source: 'ctl', latched: true, code: 7 } },
  };
}

/** Collect messages from a client until `done(msgs)` is true; a bounded timeout guards against hangs. */
export async function collect(client: TelemetryClient, done: (msgs: TelemetryMessage[]) => boolean, timeoutMs = 5000): Promise<TelemetryMessage[]> {
  const msgs: TelemetryMessage[] = [];
  const timer = setTimeout(() => void client.close(), timeoutMs);
  try {
    for await (const m of client) {
      msgs.push(m);
      if (done(msgs)) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return msgs;
}

/**
 * A 64 KiB block (16 channels x 1024 samples, every value `fill`): a few dozen fill a small
 * subscriber queue and small socket buffers, a few hundred the kernel's.
 */
export function bigBlock(fill: number): BlockBody {
  return {
    stream: 'emg',
    rate: 2000,
    unit: 'uV',
    channels: Array.from({ length: 16 }, (_, i) => `ch${i + 1}`),
    samples: 1024,
    first_sample: 0,
    block_seq: 0,
    device_time_us: 0,
    host_time_ms: 0,
    host_period_ms: 0.5,
    valid: true,
    data: new Float32Array(16 * 1024).fill(fill),
  };
}

export function byTopic(msgs: TelemetryMessage[], topic: Topic): TelemetryMessage[] {
  return msgs.filter((m) => m.topic === topic);
}
