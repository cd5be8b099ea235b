/**
 * A deterministic simulated device clock and link, the fake behind clock-model tests and
 * docs examples: a device sampling on its own drifting crystal, frames delivered after a
 * minimum latency plus random (optionally bursty) delay, order kept, and PING/PONG round trips.
 * Every event carries the true host time, so estimates can be scored exactly.
 */

import { mulberry32 } from '../core/prng.js';

/** The seeded generator the simulated link draws its noise from (mulberry32). */
export const prng = mulberry32;

export interface SimClockOptions {
  /** Device clock error, ppm (positive: the device runs fast). */
  driftPpm: number;
  /** Sample rate on the device clock, Hz. Default 2000. */
  rate?: number;
  /** Samples per frame. Default 2. */
  blockSamples?: number;
  /** Device time at the first sample, µs. Default 5e6. */
  deviceStartUs?: number;
  /** Host time of the first sample, ms. Default 1e6. */
  hostStartMs?: number;
  /** Fixed device-to-host latency, ms. Default 0.1. */
  minLatencyMs?: number;
  /** Fixed host-to-device latency (pings), ms. Default 0.1. */
  minUplinkMs?: number;
  /** Uniform random extra delay per frame, 0..this ms. Default 2. */
  jitterMs?: number;
  /** If > 0, frames are only delivered at multiples of this period (USB-style bursts), ms. Default 0. */
  burstPeriodMs?: number;
  /** Pings per second; 0 for none. Default 4. */
  pingHz?: number;
  seed?: number;
  /** A sudden rate change (temperature step, FAULT DRIFT): from this many seconds of host time... */
  driftChangeAtS?: number;
  /** ...the device runs at this error instead, ppm. */
  driftPpmAfter?: number;
}

export interface SimFrame {
  kind: 'frame';
  /** Device time of the first sample (µs, truncated like the protocol's t_us). */
  deviceUs: number;
  firstSample: number;
  samples: number;
  /** True host time of the first sample, ms. */
  trueHostMs: number;
  arrivalMs: number;
}

export interface SimPing {
  kind: 'ping';
  hostSendMs: number;
  deviceRxUs: number;
  deviceTxUs: number;
  hostRecvMs: number;
}

export type SimEvent = SimFrame | SimPing;

/**
 * Events in arrival order for `durationS` seconds of device sampling. Allocates freely:
 * it is test scaffolding, not a hot path.
 */
export function simulateClock(opts: SimClockOptions, durationS: number): SimEvent[] {
  const rate = opts.rate ?? 2000;
  const n = opts.blockSamples ?? 2;
  const d0 = opts.deviceStartUs ?? 5e6;
  const h0 = opts.hostStartMs ?? 1e6;
  const k = 1 + opts.driftPpm * 1e-6;
  const minLat = opts.minLatencyMs ?? 0.1;
  const minUp = opts.minUplinkMs ?? 0.1;
  const jitter = opts.jitterMs ?? 2;
  const burst = opts.burstPeriodMs ?? 0;
  const pingHz = opts.pingHz ?? 4;
  const rnd = prng(opts.seed ?? 1);
  // Piecewise-linear device clock: rate k until the change, k2 after, continuous at the change.
  const hc = opts.driftChangeAtS === undefined ? Number.POSITIVE_INFINITY : h0 + opts.driftChangeAtS * 1000;
  const k2 = 1 + (opts.driftPpmAfter ?? opts.driftPpm) * 1e-6;
  const dc = d0 + (hc - h0) * 1000 * k;
  const hostOf = (deviceUs: number): number => (deviceUs <= dc ? h0 + (deviceUs - d0) / 1000 / k : hc + (deviceUs - dc) / 1000 / k2);
  const deviceOf = (hostMs: number): number => (hostMs <= hc ? d0 + (hostMs - h0) * 1000 * k : dc + (hostMs - hc) * 1000 * k2);
  const deliver = (readyMs: number): number => {
    let a = readyMs + minLat + rnd() * jitter;
    if (burst > 0) a = Math.ceil(a / burst) * burst;
    return a;
  };

  const events: SimEvent[] = [];
  let lastArrival = Number.NEGATIVE_INFINITY;
  const periodUs = 1e6 / rate;
  const blocks = Math.floor((durationS * rate) / n);
  let nextPingMs = pingHz > 0 ? h0 + 1000 / pingHz / 2 : Number.POSITIVE_INFINITY;
  for (let b = 0; b < blocks; b++) {
    const first = b * n;
    const dFirst = d0 + first * periodUs;
    const dLast = d0 + (first + n - 1) * periodUs;
    const readyMs = hostOf(dLast);
    while (nextPingMs <= readyMs) {
      const rxHost = nextPingMs + minUp + rnd() * 0.05;
      const rx = Math.floor(deviceOf(rxHost));
      const tx = rx + 30;
      const hostRecvMs = Math.max(lastArrival, deliver(hostOf(tx)));
      lastArrival = hostRecvMs;
      events.push({ kind: 'ping', hostSendMs: nextPingMs, deviceRxUs: rx, deviceTxUs: tx, hostRecvMs });
      nextPingMs += 1000 / pingHz;
    }
    const arrivalMs = Math.max(lastArrival, deliver(readyMs));
    lastArrival = arrivalMs;
    events.push({ kind: 'frame', deviceUs: Math.floor(dFirst), firstSample: first, samples: n, trueHostMs: hostOf(dFirst), arrivalMs });
  }
  return events;
}
