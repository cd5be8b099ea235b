/**
 * Live per-topic rates and latest values, as plain text lines (what `reflex subscribe`
 * prints about once a second). One line per (runtime, board, topic) seen.
 */
import type { TelemetryMessage } from '../telemetry/topics.js';

interface Row {
  key: string;
  total: number;
  lost: number;
  sinceLast: number;
  latest: TelemetryMessage;
}

function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return String(n);
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

function head(values: ArrayLike<number>, n = 4): string {
  const out: string[] = [];
  for (let i = 0; i < Math.min(n, values.length); i++) out.push(fmt(values[i]!, 3));
  return `[${out.join(' ')}${values.length > n ? ' ...' : ''}]`;
}

/** One short description of the latest value of a topic. */
export function summarize(m: TelemetryMessage): string {
  switch (m.topic) {
    case 'emg.raw':
    case 'emg.features':
    case 'tracker': {
      const b = m.body;
      return `${b.channels.length}ch x ${b.samples} @${fmt(b.rate)}Hz ${b.unit} block_seq=${b.block_seq}${b.valid ? '' : ' INVALID'} ${head(b.data)}`;
    }
    case 'prediction':
      return (
        `tick=${m.body.tick} model=${m.body.model} ${m.body.names.map((n, i) => `${n}=${fmt(m.body.values[i] ?? Number.NaN, 3)}`).join(' ')} ` +
        `${m.body.unit} latency=${fmt(m.body.latency_ms, 3)}ms`
      );
    case 'actuators':
      return (
        `tick=${m.body.tick} ${m.body.names.map((n, i) => `${n}=${fmt(m.body.applied[i] ?? Number.NaN, 3)}${m.body.limited[i] ? '!' : ''}`).join(' ')}` +
        `${m.body.safe_state ? ' SAFE' : ''}`
      );
    case 'loop':
      return (
        `period=${fmt(m.body.period_ms)}ms ticks=${m.body.ticks} missed=${m.body.missed} ` +
        `late_p99=${fmt(m.body.lateness_p99_ms, 3)}ms compute_p99=${fmt(m.body.compute_p99_ms, 3)}ms`
      );
    case 'clock':
      return `${m.body.source} ${m.body.state} offset=${fmt(m.body.offset_ms, 3)}ms drift=${fmt(m.body.drift_ppm)}ppm residual=${fmt(m.body.residual_ms, 3)}ms`;
    case 'health': {
      const tm = m.body.telemetry;
      return `${m.body.state} up=${fmt(m.body.uptime_s, 1)}s pub_sent=${tm?.sent ?? '?'} pub_dropped=${tm?.dropped ?? '?'}`;
    }
    case 'event':
      return `${m.body.level} ${m.body.kind}: ${m.body.message}`;
  }
}

export class RateMonitor {
  readonly #rows = new Map<string, Row>();
  #lastMs: number;

  constructor(nowMs: number) {
    this.#lastMs = nowMs;
  }

  add(m: TelemetryMessage): void {
    // One `clock` message per stream (emg, tracker) each report: a row each, or they would alternate.
    const topic = m.topic === 'clock' ? `clock.${m.body.source}` : m.topic;
    const key = `${topic} ${m.source.runtime}/${m.source.board}`;
    let row = this.#rows.get(key);
    if (!row) {
      row = { key, total: 0, lost: 0, sinceLast: 0, latest: m };
      this.#rows.set(key, row);
    }
    row.total++;
    row.sinceLast++;
    row.lost += m.lost;
    row.latest = m;
  }

  /** Lines for the interval since the previous call, sorted by key; resets the interval counts. */
  lines(nowMs: number): string[] {
    const dt = Math.max(1e-3, (nowMs - this.#lastMs) / 1000);
    this.#lastMs = nowMs;
    const out: string[] = [];
    for (const row of [...this.#rows.values()].sort((a, b) => a.key.localeCompare(b.key))) {
      out.push(`${row.key.padEnd(32)} rate=${(row.sinceLast / dt).toFixed(1)}/s total=${row.total} lost=${row.lost} | ${summarize(row.latest)}`);
      row.sinceLast = 0;
    }
    return out;
  }
}
