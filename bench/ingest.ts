/**
 * Live ingest: the host firmware streams 16 channels at 4 kHz through a pseudo-terminal
 * into openNodeSerial + BridgeLink for `--duration` seconds (default 60).
 *
 * Baseline in the same run: the same firmware stream read through openNodeSerial with
 * nothing done to the bytes (a byte counter), for a third of the duration (at most 10 s),
 * so `cpu_percent` can be read against what the serial port alone costs.
 */
import os from 'node:os';
import { BridgeLink } from '../src/devices/bridge/link.js';
import type { Heartbeat } from '../src/bridge/frames.js';
import { startSimFirmware } from '../src/devices/sim/firmware.js';
import { openNodeSerial } from '../src/hal/serial-node.js';
import { benchArgs, log, machine } from './_util.js';

const RATE = 4000;
const CHANNELS = 16;

function cpuPercent(startCpu: NodeJS.CpuUsage, startWall: bigint): number {
  const cpu = process.cpuUsage(startCpu);
  const wallUs = Number(process.hrtime.bigint() - startWall) / 1000;
  return (100 * (cpu.user + cpu.system)) / wallUs;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rawBaseline(seconds: number): Promise<{ cpu: number; bytesPerS: number }> {
  const fw = await startSimFirmware({ rate: RATE, channels: CHANNELS, block: 0, autostart: true });
  try {
    const port = await openNodeSerial({ path: fw.path, baudRate: 115200 });
    let bytes = 0;
    port.onData((c) => (bytes += c.length));
    await sleep(500); // let it settle
    bytes = 0;
    const c0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    await sleep(seconds * 1000);
    const cpu = cpuPercent(c0, w0);
    const bytesPerS = bytes / seconds;
    await port.close();
    return { cpu, bytesPerS };
  } finally {
    await fw.stop();
  }
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration } = benchArgs(argv, { duration: 60 });
  const baseSeconds = Math.min(10, duration / 3);
  log(`ingest: baseline (raw serial read) for ${baseSeconds.toFixed(1)} s`);
  const base = await rawBaseline(baseSeconds);

  log(`ingest: ${CHANNELS} ch at ${RATE} Hz through BridgeLink for ${duration} s`);
  const fw = await startSimFirmware({ rate: RATE, channels: CHANNELS, block: 0 });
  const link = new BridgeLink({ open: openNodeSerial, path: fw.path, rate: RATE, channels: CHANNELS, block: 0 });
  const errors: string[] = [];
  link.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
  let samples = 0;
  let frames = 0;
  let checksum = 0;
  let lastHb: Heartbeat | null = null;
  let firstHb: Heartbeat | null = null;
  link.on('samples', (b) => {
    samples += b.samples;
    frames++;
    checksum += b.data[0]!;
  });
  link.on('heartbeat', (hb) => {
    firstHb ??= { ...hb };
    lastHb = { ...hb };
  });
  try {
    await link.start();
    await sleep(500);
    const s0 = samples;
    const f0 = frames;
    const c0 = link.counters();
    const cpu0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    await sleep(duration * 1000);
    const cpu = cpuPercent(cpu0, w0);
    const wallS = Number(process.hrtime.bigint() - w0) / 1e9;
    const c1 = link.counters();
    const sum = (r: Record<string, number>, keys: string[]) => keys.reduce((a, k) => a + (r[k] ?? 0), 0);
    const badKinds = ['bad_cobs', 'oversize', 'truncated', 'bad_crc', 'wrong_version', 'unknown_type', 'bad_payload'];
    const got = samples - s0;
    const hb = lastHb as Heartbeat | null;
    const hb0 = firstHb as Heartbeat | null;
    return {
      duration_s: +wallS.toFixed(2),
      rate_hz: RATE,
      channels: CHANNELS,
      frames: frames - f0,
      samples: got,
      samples_per_s: Math.round(got / wallS),
      expected_samples: Math.round(RATE * wallS),
      lost_frames: sum(c1.decoder, ['missing_frames']) - sum(c0.decoder, ['missing_frames']),
      gaps: sum(c1.decoder, ['gaps']) - sum(c0.decoder, ['gaps']),
      bad_frames: sum(c1.decoder, badKinds) - sum(c0.decoder, badKinds),
      reconnects: (c1.link.reconnects ?? 0) - (c0.link.reconnects ?? 0),
      device_frames_dropped: hb && hb0 ? hb.framesDropped - hb0.framesDropped : null,
      cpu_percent: +cpu.toFixed(1),
      baseline_raw_cpu_percent: +base.cpu.toFixed(1),
      baseline_raw_bytes_per_s: Math.round(base.bytesPerS),
      ratio_cpu_to_raw: +(cpu / base.cpu).toFixed(2),
      pongs: (c1.link.pongs ?? 0) - (c0.link.pongs ?? 0),
      errors: errors.length,
      first_errors: [...new Set(errors)].slice(0, 3),
      checksum: Number.isFinite(checksum) ? 'ok' : 'nan',
      loadavg_1m: +os.loadavg()[0]!.toFixed(2),
      machine: machine(),
    };
  } finally {
    await link.stop();
    await fw.stop();
  }
}
