/** The 6 aux bytes of a Cyton packet, interpreted by its footer (docs/cyton.md, "Aux layout by footer"). */
import type { Counters } from '../../core/counters.js';
import type { CytonAuxEvent, CytonCounterKey } from './events.js';
import { ACCEL_G_PER_COUNT, Footer, readInt16BE } from './format.js';

const AC_X = 0x58,
  AC_x = 0x78,
  AC_Y = 0x59,
  AC_y = 0x79,
  AC_Z = 0x5a,
  AC_z = 0x7a;

/**
 * Turns each packet's aux bytes into `aux` events. Keeps the partly assembled accelerometer
 * reading of time-stamped packets (one byte per packet) between calls; `clearPartial()` drops
 * it when packets went missing, so bytes from either side of a hole are never combined.
 * Events are preallocated and reused: copy what you keep.
 */
export class CytonAuxDecoder {
  readonly #counters: Counters<CytonCounterKey>;
  readonly #onAux: ((event: CytonAuxEvent) => void) | undefined;
  readonly #accHi = new Int32Array(3);
  readonly #accVal = new Int32Array(3);
  #accHiSet = 0;
  #accHave = 0;
  readonly #accel = { kind: 'accel' as const, sample: 0, x: 0, y: 0, z: 0, boardTimeMs: Number.NaN };
  readonly #raw = { kind: 'raw' as const, sample: 0, footer: 0, bytes: new Uint8Array(6), boardTimeMs: Number.NaN };
  readonly #sync = { kind: 'time_sync' as const, sample: 0, boardTimeMs: 0 };

  constructor(counters: Counters<CytonCounterKey>, onAux?: (event: CytonAuxEvent) => void) {
    this.#counters = counters;
    this.#onAux = onAux;
  }

  /** Forget a half-assembled accelerometer reading (after a gap or a restart). */
  clearPartial(): void {
    this.#accHiSet = 0;
    this.#accHave = 0;
  }

  /** `pkt`: the 33-byte packet; `sample`: its stream index; `boardMs`: its timestamp, NaN if none. */
  decode(pkt: Uint8Array, footer: number, sample: number, boardMs: number): void {
    switch (footer) {
      case Footer.STANDARD_ACCEL: {
        // All-zero aux means "no new reading in this packet" (the document: unused bytes read 0).
        if ((pkt[26]! | pkt[27]! | pkt[28]! | pkt[29]! | pkt[30]! | pkt[31]!) === 0) return;
        const a = this.#accel;
        a.sample = sample;
        a.x = readInt16BE(pkt, 26) * ACCEL_G_PER_COUNT;
        a.y = readInt16BE(pkt, 28) * ACCEL_G_PER_COUNT;
        a.z = readInt16BE(pkt, 30) * ACCEL_G_PER_COUNT;
        a.boardTimeMs = Number.NaN;
        this.#onAux?.(a);
        return;
      }
      case Footer.TIME_SET_ACCEL:
      case Footer.TIME_ACCEL:
        if (footer === Footer.TIME_SET_ACCEL) this.#timeSync(sample, boardMs);
        this.#accelByte(pkt[26]!, pkt[27]!, sample, boardMs);
        return;
      case Footer.TIME_SET_RAW_AUX:
      case Footer.TIME_RAW_AUX:
        if (footer === Footer.TIME_SET_RAW_AUX) this.#timeSync(sample, boardMs);
        this.#rawAux(pkt, footer, sample, boardMs);
        return;
      case Footer.RAW_AUX:
      case Footer.USER_DEFINED:
        this.#rawAux(pkt, footer, sample, Number.NaN);
        return;
      default:
        this.#counters.inc('unknown_footer');
        this.#rawAux(pkt, footer, sample, Number.NaN);
    }
  }

  #timeSync(sample: number, boardMs: number): void {
    const s = this.#sync;
    s.sample = sample;
    s.boardTimeMs = boardMs;
    this.#onAux?.(s);
  }

  #rawAux(pkt: Uint8Array, footer: number, sample: number, boardMs: number): void {
    const r = this.#raw;
    r.sample = sample;
    r.footer = footer;
    r.bytes.set(pkt.subarray(26, 32));
    r.boardTimeMs = boardMs;
    this.#onAux?.(r);
  }

  /**
   * Time-stamped packets carry one accelerometer byte each: AC names it ('X' high byte of X,
   * 'x' low byte of X, ...), AV is the byte. A reading is emitted once all three axes have had
   * a high byte followed by a low byte. Other AC values mean "no accel byte here".
   */
  #accelByte(ac: number, av: number, sample: number, boardMs: number): void {
    let axis: number;
    let high: boolean;
    switch (ac) {
      case AC_X:
        axis = 0;
        high = true;
        break;
      case AC_x:
        axis = 0;
        high = false;
        break;
      case AC_Y:
        axis = 1;
        high = true;
        break;
      case AC_y:
        axis = 1;
        high = false;
        break;
      case AC_Z:
        axis = 2;
        high = true;
        break;
      case AC_z:
        axis = 2;
        high = false;
        break;
      default:
        return;
    }
    const bit = 1 << axis;
    if (high) {
      this.#accHi[axis] = av;
      this.#accHiSet |= bit;
      return;
    }
    if ((this.#accHiSet & bit) === 0) return;
    this.#accHiSet &= ~bit;
    this.#accVal[axis] = (((this.#accHi[axis]! << 8) | av) << 16) >> 16;
    this.#accHave |= bit;
    if (this.#accHave !== 7) return;
    this.#accHave = 0;
    const a = this.#accel;
    a.sample = sample;
    a.x = this.#accVal[0]! * ACCEL_G_PER_COUNT;
    a.y = this.#accVal[1]! * ACCEL_G_PER_COUNT;
    a.z = this.#accVal[2]! * ACCEL_G_PER_COUNT;
    a.boardTimeMs = boardMs;
    this.#onAux?.(a);
  }
}
