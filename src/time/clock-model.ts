/**
 * Clock model: maps one source's device clock (µs, drifting, possibly resetting) onto the
 * host's CLOCK_MONOTONIC (ms, `time/monotonic.ts`).
 *
 * The model is a line, host = h0 + b + (1 + s) * x with x = (device - d0) / 1000 ms, fitted
 * from two kinds of one-sided evidence:
 * - upper bounds: data stamped at device time d arrived at host time a, so host(d) <= a
 *   (every frame arrival; a PONG's t_tx against its receive time);
 * - lower bounds: a PING sent at host time h was decoded at device time d, so host(d) >= h.
 * Delivery delays are random but never negative, so the tightest points (the lower envelope of
 * arrival - device time) carry the information, not the average. Points are decimated per bucket
 * of device time (`envelope.ts`); the slope is the lower convex hull's edge at the window's mean;
 * the offset sits under every upper bound, and halfway to the highest lower bound when pings are
 * available (splitting the minimum round trip evenly between the two directions).
 *
 * Nonsense (non-finite, negative, backwards, far off the model) is rejected and counted. A run of
 * rejected observations that agree with each other for `reseedSpanMs` of device time is a device
 * reset or clock jump: the model re-seeds from them. `reseed()` does it at once (a new boot_id).
 */
import type { SampleBlock } from '../core/block.js';
import { blockDeviceUs, type ClockModelOptions, type ClockState, type ClockStatus } from './clock-types.js';
import { EnvelopeRing, lowerHullSlope } from './envelope.js';
import { Staleness } from './staleness.js';

export { blockDeviceUs, type ClockModelOptions, type ClockState, type ClockStatus } from './clock-types.js';

export class ClockModel {
  readonly name: string;
  readonly #upper: EnvelopeRing;
  readonly #lower: EnvelopeRing;
  readonly #hull: Int32Array;
  readonly #scratch: Float64Array;
  readonly #minSlopeSpanMs: number;
  readonly #lockSpanMs: number;
  readonly #maxSlope: number;
  readonly #rejectEarlyMs: number;
  readonly #rejectEarlyLockedMs: number;
  readonly #rejectLateMs: number;
  readonly #backUs: number;
  readonly #reseedSpanMs: number;
  readonly #reseedAgreeMs: number;
  readonly #fresh: Staleness;
  readonly #kinkMs: number;
  readonly #kinkPingMs: number;
  /** The "newest evidence" tested for a rate change, ms of device time. */
  readonly #recentMs = 2000;
  /** A cut never leaves less than this span, ms. */
  readonly #minKeepMs = 4000;

  #seeded = false;
  #d0 = 0;
  #h0 = 0;
  #b = 0;
  #s = 0;
  #bU = Number.NaN;
  #gap = Number.NaN;
  #lastArrivalUs = Number.NEGATIVE_INFINITY;
  #lastPingUs = Number.NEGATIVE_INFINITY;
  #lastFirstSample = -1;
  #observations = 0;
  #rejected = 0;
  #reseeds = 0;
  #kinks = 0;
  // Candidate re-seed: a run of inconsistent arrivals agreeing with each other.
  #candCount = 0;
  #candFirstUs = 0;
  #candFirstMs = 0;
  #candOffset = 0;

  constructor(opts: ClockModelOptions = {}) {
    this.name = opts.name ?? 'clock';
    const bucketMs = opts.bucketMs ?? 250;
    const windowMs = opts.windowMs ?? 32_000;
    const capacity = Math.max(2, Math.round(windowMs / bucketMs));
    this.#upper = new EnvelopeRing({ capacity, bucketMs, keep: 'min' });
    this.#lower = new EnvelopeRing({ capacity, bucketMs, keep: 'max' });
    this.#hull = new Int32Array(capacity);
    this.#scratch = new Float64Array(capacity);
    this.#minSlopeSpanMs = opts.minSlopeSpanMs ?? 1000;
    this.#lockSpanMs = opts.lockSpanMs ?? 5000;
    this.#maxSlope = (opts.maxDriftPpm ?? 2000) * 1e-6;
    this.#rejectEarlyMs = opts.rejectEarlyMs ?? 20;
    this.#rejectEarlyLockedMs = opts.rejectEarlyLockedMs ?? 2;
    this.#rejectLateMs = opts.rejectLateMs ?? 2000;
    this.#backUs = opts.backwardsToleranceUs ?? 1000;
    this.#reseedSpanMs = opts.reseedSpanMs ?? 300;
    this.#reseedAgreeMs = opts.reseedAgreementMs ?? 20;
    this.#kinkMs = opts.rateChangeMs ?? 2;
    this.#kinkPingMs = opts.rateChangePingMs ?? 0.25;
    this.#fresh = new Staleness({ staleAfterMs: opts.staleAfterMs ?? 1000, ...(opts.now ? { now: opts.now } : {}) });
  }

  /** True once any observation has been accepted since the last (re)seed. */
  get seeded(): boolean {
    return this.#seeded;
  }

  get state(): ClockState {
    if (!this.#seeded) return 'converging';
    if (this.#fresh.isStale()) return 'stale';
    const span = this.#upper.lastX() - this.#upper.firstX();
    return span >= this.#lockSpanMs && this.#candCount === 0 ? 'locked' : 'converging';
  }

  get driftPpm(): number {
    return (-this.#s / (1 + this.#s)) * 1e6;
  }

  get observations(): number {
    return this.#observations;
  }
  get rejected(): number {
    return this.#rejected;
  }
  get reseeds(): number {
    return this.#reseeds;
  }

  /** Host time of a device time, ms on CLOCK_MONOTONIC; NaN before the first observation. */
  hostTimeMs(deviceUs: number): number {
    if (!this.#seeded) return Number.NaN;
    const x = (deviceUs - this.#d0) / 1000;
    return this.#h0 + this.#b + x + this.#s * x;
  }

  /**
   * Like `hostTimeMs`, but NaN while recent evidence contradicts the model (a re-seed may be
   * pending): for mapping data whose own arrival was not observed (e.g. TRACKER frames).
   */
  mapTrusted(deviceUs: number): number {
    return this.#candCount > 0 ? Number.NaN : this.hostTimeMs(deviceUs);
  }

  /** Host milliseconds per device millisecond (1 + slope). */
  get rate(): number {
    return 1 + this.#s;
  }

  /** Forget everything: the device reset (new boot_id) or the source reconnected to another device. */
  reseed(): void {
    this.#seeded = false;
    this.#upper.clear();
    this.#lower.clear();
    this.#b = 0;
    this.#s = 0;
    this.#bU = Number.NaN;
    this.#gap = Number.NaN;
    this.#lastArrivalUs = Number.NEGATIVE_INFINITY;
    this.#lastPingUs = Number.NEGATIVE_INFINITY;
    this.#lastFirstSample = -1;
    this.#candCount = 0;
    this.#kinks = 0;
    this.#reseeds++;
  }

  /**
   * Data stamped `deviceUs` (for a block: its LAST sample) arrived at `arrivalMs`.
   * Returns false if rejected (counted in `rejected`).
   */
  observeArrival(deviceUs: number, arrivalMs: number): boolean {
    if (!Number.isFinite(deviceUs) || !Number.isFinite(arrivalMs) || deviceUs < 0) return this.#reject();
    if (!this.#seeded) this.#seed(deviceUs, arrivalMs);
    const early = this.hostTimeMs(deviceUs) - arrivalMs;
    const inconsistent = deviceUs < this.#lastArrivalUs - this.#backUs || early > this.#earlyLimit() || -early > this.#rejectLateMs;
    if (inconsistent) {
      // Held back, not yet counted: either nonsense (counted when the run ends) or a new epoch.
      if (!this.#candidate(deviceUs, arrivalMs)) return false;
      this.reseed();
      this.#seed(deviceUs, arrivalMs);
    } else if (this.#candCount > 0) {
      this.#rejected += this.#candCount;
      this.#candCount = 0;
    }
    this.#accept(arrivalMs);
    if (deviceUs > this.#lastArrivalUs) this.#lastArrivalUs = deviceUs;
    const x = (deviceUs - this.#d0) / 1000;
    if (this.#upper.offer(x, arrivalMs - this.#h0 - x, this.#s)) this.#fit();
    return true;
  }

  /**
   * A PING/PONG round trip: sent at `hostSendMs`, decoded by the device at `deviceRxUs`, answered
   * at `deviceTxUs`, received at `hostRecvMs`. Returns false if rejected.
   */
  observeRoundTrip(hostSendMs: number, deviceRxUs: number, deviceTxUs: number, hostRecvMs: number): boolean {
    if (
      !Number.isFinite(hostSendMs) ||
      !Number.isFinite(hostRecvMs) ||
      !Number.isFinite(deviceRxUs) ||
      !Number.isFinite(deviceTxUs) ||
      deviceRxUs < 0 ||
      deviceTxUs < deviceRxUs ||
      hostRecvMs < hostSendMs ||
      (deviceTxUs - deviceRxUs) / 1000 > (hostRecvMs - hostSendMs) * (1 + this.#maxSlope) + 0.001
    ) {
      return this.#reject();
    }
    // Round trips never start or join a re-seed run: frames decide which device epoch is current.
    if (this.#candCount > 0) return false;
    if (!this.#seeded) this.#seed(deviceTxUs, hostRecvMs);
    const lateRx = hostSendMs - this.hostTimeMs(deviceRxUs);
    const earlyTx = this.hostTimeMs(deviceTxUs) - hostRecvMs;
    const limit = this.#earlyLimit();
    if (lateRx > limit || earlyTx > limit || -earlyTx > this.#rejectLateMs || deviceRxUs < this.#lastPingUs - this.#backUs) {
      return this.#reject();
    }
    this.#accept(hostRecvMs);
    this.#lastPingUs = Math.max(this.#lastPingUs, deviceRxUs);
    const xr = (deviceRxUs - this.#d0) / 1000;
    const xt = (deviceTxUs - this.#d0) / 1000;
    const changedLower = this.#lower.offer(xr, hostSendMs - this.#h0 - xr, this.#s);
    const changedUpper = this.#upper.offer(xt, hostRecvMs - this.#h0 - xt, this.#s);
    if (changedLower || changedUpper) this.#fit();
    return true;
  }

  /**
   * A block arrived: its last sample is the bound. Blocks without device time use a synthetic
   * device clock, sample index x nominal period (a restart of the index re-seeds).
   */
  observeBlock(block: SampleBlock, arrivalMs: number): boolean {
    const synthetic = !Number.isFinite(block.deviceTimeUs);
    if (synthetic) {
      if (block.firstSample < this.#lastFirstSample) this.reseed();
      this.#lastFirstSample = block.firstSample;
    }
    const t0 = blockDeviceUs(block);
    return this.observeArrival(t0 + ((block.samples - 1) * 1e6) / block.rate, arrivalMs);
  }

  /**
   * Set `block.hostTimeMs` and `block.hostPeriodMs` from the model. Returns false (times NaN)
   * before the first observation or while recent evidence contradicts the model (pending re-seed).
   */
  mapBlock(block: SampleBlock): boolean {
    if (!this.#seeded || this.#candCount > 0) {
      block.hostTimeMs = Number.NaN;
      block.hostPeriodMs = 1000 / block.rate;
      return false;
    }
    block.hostTimeMs = this.hostTimeMs(blockDeviceUs(block));
    block.hostPeriodMs = (1000 / block.rate) * (1 + this.#s);
    return true;
  }

  /** observeBlock + mapBlock; a rejected block gets NaN times, so nothing downstream trusts it. */
  ingestBlock(block: SampleBlock, arrivalMs: number): boolean {
    const ok = this.observeBlock(block, arrivalMs);
    if (!ok) {
      block.hostTimeMs = Number.NaN;
      block.hostPeriodMs = 1000 / block.rate;
      return false;
    }
    return this.mapBlock(block);
  }

  /** Telemetry snapshot; pass `out` to reuse an object. */
  status(out?: ClockStatus): ClockStatus {
    const o = out ?? ({} as ClockStatus);
    o.name = this.name;
    o.state = this.state;
    const lastX = this.#upper.lastX();
    o.offsetMs = this.#seeded ? this.#h0 - this.#d0 / 1000 + this.#b + this.#s * (Number.isNaN(lastX) ? 0 : lastX) : Number.NaN;
    o.driftPpm = this.driftPpm;
    o.residualMs = this.#residualMs();
    o.boundGapMs = this.#gap;
    o.spanS = this.#seeded ? (lastX - this.#upper.firstX()) / 1000 : 0;
    o.observations = this.#observations;
    o.rejected = this.#rejected;
    o.pending = this.#candCount;
    o.reseeds = this.#reseeds;
    o.rateChanges = this.#kinks;
    return o;
  }

  /** Median, not RMS: one bucket delivered during a host stall would otherwise dominate it. */
  #residualMs(): number {
    const up = this.#upper;
    if (!this.#seeded || up.count === 0 || Number.isNaN(this.#bU)) return Number.NaN;
    const res = this.#scratch;
    for (let k = 0; k < up.count; k++) {
      const sl = up.slot(k);
      res[k] = up.y(sl) - this.#s * up.x(sl) - this.#bU;
    }
    const sorted = res.subarray(0, up.count).sort();
    return sorted[(up.count - 1) >> 1]!;
  }

  #seed(deviceUs: number, hostMs: number): void {
    this.#seeded = true;
    this.#d0 = deviceUs;
    this.#h0 = hostMs;
    this.#b = 0;
    this.#s = 0;
    this.#candCount = 0;
    this.#lastArrivalUs = Number.NEGATIVE_INFINITY;
    this.#lastPingUs = Number.NEGATIVE_INFINITY;
  }

  #earlyLimit(): number {
    return this.#upper.lastX() - this.#upper.firstX() >= this.#lockSpanMs ? this.#rejectEarlyLockedMs : this.#rejectEarlyMs;
  }

  #accept(hostMs: number): void {
    this.#observations++;
    this.#fresh.touch(hostMs);
  }

  #reject(): false {
    this.#rejected++;
    return false;
  }

  /** Track a run of inconsistent arrivals; true when it is long and coherent enough to re-seed. */
  #candidate(deviceUs: number, arrivalMs: number): boolean {
    const off = arrivalMs - deviceUs / 1000;
    if (
      this.#candCount === 0 ||
      deviceUs < this.#candFirstUs ||
      Math.abs(off - this.#candOffset) > this.#reseedAgreeMs ||
      arrivalMs - this.#candFirstMs < -this.#reseedAgreeMs
    ) {
      this.#rejected += this.#candCount;
      this.#candCount = 1;
      this.#candFirstUs = deviceUs;
      this.#candFirstMs = arrivalMs;
      this.#candOffset = off;
      return false;
    }
    this.#candCount++;
    if (off < this.#candOffset) this.#candOffset = off;
    const spanMs = (deviceUs - this.#candFirstUs) / 1000;
    // Host time must have moved with device time: a burst of buffered frames does not qualify.
    const hostSpan = arrivalMs - this.#candFirstMs;
    return this.#candCount >= 3 && spanMs >= this.#reseedSpanMs && hostSpan >= spanMs * 0.5;
  }

  #fit(): void {
    const up = this.#upper;
    let s = this.#s;
    let bU = Number.NaN;
    // A rate change inside the window bends the envelope up at the recent end (the device slowed
    // down): all of the newest evidence then sits clear above the line. Cut the window's older half
    // until it does not, keeping enough span for a steady slope. All, not any: one late bucket or
    // one odd round trip under a loaded host must not cut the window.
    for (let pass = 0; pass < 8; pass++) {
      if (up.count >= 2 && up.lastX() - up.firstX() >= this.#minSlopeSpanMs) {
        const hs = lowerHullSlope(up, this.#hull);
        if (Number.isFinite(hs)) s = Math.max(-this.#maxSlope, Math.min(this.#maxSlope, hs));
      }
      bU = up.extreme(s);
      if (Number.isNaN(bU)) return;
      const recentFrom = up.lastX() - this.#recentMs;
      if (recentFrom - up.firstX() < this.#minKeepMs) break;
      const pingsAbove = this.#lower.least(s, up.lastX() - this.#recentMs / 2, 3) - bU;
      const arrivalsAbove = up.extreme(s, recentFrom) - bU;
      if (!(pingsAbove > this.#kinkPingMs) && !(arrivalsAbove > this.#kinkMs)) break;
      let drop = 0;
      while (drop < up.count - 2 && up.lastX() - up.x(up.slot(drop)) > Math.max(this.#minKeepMs, (up.lastX() - up.firstX()) / 2)) drop++;
      if (drop === 0) break;
      up.dropOldest(drop);
      this.#kinks++;
    }
    this.#bU = bU;
    const bL = this.#lower.extreme(s, up.firstX());
    let b = bU;
    if (Number.isNaN(bL)) {
      this.#gap = Number.NaN;
    } else {
      this.#gap = bU - bL;
      if (this.#gap > 0) b = bU - this.#gap / 2;
    }
    this.#s = s;
    this.#b = b;
  }
}
