/**
 * `npm run bench -- sync [--duration S]`: clock-mapping accuracy against the host firmware's truth.
 *
 * For each drift (200 ppm headline, then 0 and 500 ppm) the host build of the firmware streams
 * 8 channels at 2 kHz with 0..2 ms random delivery delay per frame (--jitter-us 2000) and writes
 * the true CLOCK_MONOTONIC time of every frame (--truth). Blocks go through the real pty, decoder
 * and BridgeLink into a ClockModel fed with frame arrivals and PING/PONG round trips (5 Hz). After 10 s of
 * convergence, every sample's reconstructed time (block.hostTimeMs + i * hostPeriodMs) is compared
 * with its true time for `--duration` seconds. Baseline in the same run: stamping each block on
 * arrival (minus its length), i.e. no clock model.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs, log, machine } from './_util.js';
import { ClockModel } from '../src/time/clock-model.js';
import { convergenceSeconds, parseTruth, scoreAgainstTruth, type MappedBlock } from '../src/testing/sim-truth.js';
import { startSimFirmware } from '../src/devices/sim/firmware.js';
import { BridgeLink } from '../src/devices/bridge/link.js';
import { attachBridgeClock } from '../src/devices/tracker/bridge.js';
import { openNodeSerial } from '../src/hal/serial-node.js';

const RATE = 2000;
const CHANNELS = 8;
const JITTER_US = 2000;
const CONVERGE_S = 10;

interface RunResult {
  rms: number;
  max: number;
  mean: number;
  n: number;
  convergenceS: number;
  lockS: number;
  driftPpm: number;
  naiveRms: number;
  naiveMax: number;
  rejected: number;
  reseeds: number;
  unmapped: number;
}

async function runOne(driftPpm: number, durationS: number, dir: string): Promise<RunResult> {
  const truthPath = join(dir, `truth-${driftPpm}.txt`);
  const fw = await startSimFirmware({ rate: RATE, channels: CHANNELS, driftPpm, jitterUs: JITTER_US, truth: truthPath, seed: 7 });
  const model = new ClockModel({ name: 'emg' });
  const mapped: MappedBlock[] = [];
  const naive: MappedBlock[] = [];
  let startMs = Number.NaN;
  let lockMs = Number.NaN;
  const link = new BridgeLink({ open: openNodeSerial, path: fw.path, rate: RATE, channels: CHANNELS });
  attachBridgeClock(link, model);
  link.on('samples', (block, arrivalMs) => {
    if (Number.isNaN(startMs)) startMs = arrivalMs;
    if (Number.isNaN(lockMs) && model.state === 'locked') lockMs = arrivalMs;
    mapped.push({ seq: block.seq, samples: block.samples, hostTimeMs: block.hostTimeMs, hostPeriodMs: block.hostPeriodMs, arrivalMs });
    naive.push({ seq: block.seq, samples: block.samples, hostTimeMs: arrivalMs - ((block.samples - 1) * 1000) / RATE, hostPeriodMs: 1000 / RATE, arrivalMs });
  });
  await link.start();
  await new Promise((r) => setTimeout(r, (CONVERGE_S + durationS) * 1000));
  await link.stop();
  await fw.stop();
  const c = link.counters();
  if (Object.keys(c.decoder).length) log(`  link: ${JSON.stringify(c.decoder)} pings ${c.link.pings ?? 0} pongs ${c.link.pongs ?? 0}`);
  const truth = parseTruth(readFileSync(truthPath, 'utf8'));
  const from = startMs + CONVERGE_S * 1000;
  const s = scoreAgainstTruth(mapped, truth, from);
  const b = scoreAgainstTruth(naive, truth, from);
  const st = model.status();
  return {
    rms: s.rmsMs,
    max: s.maxMs,
    mean: s.meanMs,
    n: s.n,
    convergenceS: convergenceSeconds(mapped, truth, startMs, 0.25),
    lockS: (lockMs - startMs) / 1000,
    driftPpm: st.driftPpm,
    naiveRms: b.rmsMs,
    naiveMax: b.maxMs,
    rejected: st.rejected,
    reseeds: st.reseeds,
    unmapped: s.unmapped,
  };
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { duration } = benchArgs(argv, { duration: 20 });
  const dir = mkdtempSync(join(tmpdir(), 'reflex-sync-'));
  const out: Record<string, unknown> = {};
  try {
    for (const ppm of [200, 0, 500]) {
      log(`sync: ${ppm} ppm, ${CONVERGE_S} s convergence + ${duration} s measured`);
      const r = await runOne(ppm, duration, dir);
      const suffix = ppm === 200 ? '' : `_${ppm}ppm`;
      out[`rms_ms${suffix}`] = r3(r.rms);
      out[`max_ms${suffix}`] = r3(r.max);
      out[`mean_ms${suffix}`] = r3(r.mean);
      out[`convergence_s${suffix}`] = r3(r.convergenceS);
      out[`lock_s${suffix}`] = r3(r.lockS);
      out[`drift_est_ppm${suffix}`] = r3(r.driftPpm);
      out[`baseline_rms_ms${suffix}`] = r3(r.naiveRms);
      out[`baseline_max_ms${suffix}`] = r3(r.naiveMax);
      out[`improvement_rms${suffix}`] = Math.round((r.naiveRms / r.rms) * 10) / 10;
      out[`samples_scored${suffix}`] = r.n;
      out[`unmapped_blocks${suffix}`] = r.unmapped;
      out[`rejected${suffix}`] = r.rejected;
      out[`reseeds${suffix}`] = r.reseeds;
      log(`  rms ${r.rms.toFixed(3)} ms, max ${r.max.toFixed(3)} ms, converged ${r.convergenceS.toFixed(2)} s, baseline rms ${r.naiveRms.toFixed(3)} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    ...out,
    rate_hz: RATE,
    channels: CHANNELS,
    jitter_us: JITTER_US,
    converge_s: CONVERGE_S,
    duration_s: duration,
    machine: machine(),
  };
}
