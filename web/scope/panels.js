// The small topics: predictions against the tracker, loop lateness, clock state, health
// counters and events. Every number shown comes straight from one telemetry message,
// whose sequence number is shown beside it.
import uPlot from '/vendor/uPlot.esm.js';

const COLORS = ['#3b6fd4', '#e0531f', '#2a9d4a', '#9b46c9', '#c9a227', '#1aa3a3'];
const MAX_POINTS = 4000;

export function fmt(v, digits = 3) {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-';
}

function trim(list, tMin) {
  let k = 0;
  while (k < list.length && list[k].t < tMin) k++;
  if (k > 0) list.splice(0, k);
  if (list.length > MAX_POINTS) list.splice(0, list.length - MAX_POINTS);
}

function rangeX(panel) {
  return () => panel.xRange;
}

export class PredictionPanel {
  constructor(plotEl, table, seqEl) {
    this.el = plotEl;
    this.tbody = table.querySelector('tbody');
    this.seqEl = seqEl;
    this.points = [];
    this.names = [];
    this.plot = null;
    this.xRange = [0, 1];
    this.updates = 0;
    this.dirty = false;
    this.latest = null;
  }

  add(entries) {
    for (const e of entries) this.points.push({ t: e.window_end_ms, values: e.values, tracker: e.tracker });
    if (entries.length === 0) return;
    const e = entries[entries.length - 1];
    this.latest = e;
    this.dirty = true;
    if (e.names.join('\u0000') !== this.names.join('\u0000')) this.build(e.names, e.unit);
  }

  build(names, unit) {
    this.names = [...names];
    if (this.plot) this.plot.destroy();
    const series = [{}];
    names.forEach((n, i) => {
      series.push({ label: `${n} predicted`, stroke: COLORS[i % COLORS.length], width: 1.5 });
      series.push({ label: `${n} tracker`, stroke: COLORS[i % COLORS.length], width: 1, dash: [4, 3] });
    });
    this.plot = new uPlot(
      {
        width: Math.max(300, this.el.clientWidth),
        height: 200,
        cursor: { show: false },
        legend: { show: true, live: false },
        scales: { x: { time: false, auto: false, range: rangeX(this) } },
        axes: [{ values: (u, s) => s.map((v) => ((v - this.xRange[1]) / 1000).toFixed(1)) }, { label: unit }],
        series,
      },
      series.map(() => []),
      this.el,
    );
    this.tbody.textContent = '';
    names.forEach((n) => {
      const tr = document.createElement('tr');
      tr.dataset.name = n;
      tr.innerHTML = '<td></td><td class="num pred"></td><td class="num trk"></td><td class="unit"></td>';
      tr.children[0].textContent = n;
      tr.children[3].textContent = unit;
      this.tbody.append(tr);
    });
  }

  draw(tEnd, windowMs) {
    if (!this.dirty || !this.plot) return 0;
    this.dirty = false;
    trim(this.points, tEnd - windowMs - 1000);
    this.xRange = [tEnd - windowMs, tEnd];
    const x = this.points.map((p) => p.t);
    const data = [x];
    this.names.forEach((_, i) => {
      data.push(this.points.map((p) => p.values[i] ?? null));
      data.push(this.points.map((p) => p.tracker[i] ?? null));
    });
    this.plot.setData(data);
    const e = this.latest;
    this.seqEl.textContent = `seq ${e.seq}, tick ${e.tick}, model ${e.model}`;
    this.seqEl.dataset.seq = String(e.seq);
    for (const tr of this.tbody.children) {
      const i = this.names.indexOf(tr.dataset.name);
      tr.querySelector('.pred').textContent = fmt(e.values[i], 3);
      tr.querySelector('.trk').textContent = fmt(e.tracker[i], 3);
    }
    this.updates++;
    return 1;
  }
}

/** Log-spaced lateness bins, ms: the first catches everything below 1 us. */
const EDGES = [0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100];

export class LoopPanel {
  constructor(plotEl, histEl, seqEl, fields) {
    this.el = plotEl;
    this.histEl = histEl;
    this.seqEl = seqEl;
    this.fields = fields;
    this.points = [];
    this.xRange = [0, 1];
    this.updates = 0;
    this.histUpdates = 0;
    this.dirty = false;
    this.latest = null;
    this.plot = new uPlot(
      {
        width: Math.max(300, plotEl.clientWidth),
        height: 160,
        cursor: { show: false },
        legend: { show: true, live: false },
        scales: { x: { time: false, auto: false, range: rangeX(this) } },
        axes: [{ values: (u, s) => s.map((v) => ((v - this.xRange[1]) / 1000).toFixed(1)) }, { label: 'ms' }],
        series: [{}, { label: 'p50', stroke: '#2a9d4a' }, { label: 'p99', stroke: '#e0531f', width: 1.5 }, { label: 'max', stroke: '#999' }],
      },
      [[], [], [], []],
      plotEl,
    );
    const labels = EDGES.slice(0, -1).map((e, i) => (i === 0 ? `<${EDGES[1]}` : `${e}`));
    this.hist = new uPlot(
      {
        width: Math.max(300, histEl.clientWidth),
        height: 140,
        cursor: { show: false },
        legend: { show: false },
        scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
        axes: [{ values: (u, s) => s.map((v) => labels[v] ?? ''), incrs: [1, 2, 4], label: 'p99 lateness, ms (bin start)' }, { label: 'reports' }],
        series: [{}, { label: 'reports', fill: 'rgba(224,83,31,0.5)', stroke: '#e0531f', paths: uPlot.paths.bars({ size: [0.8, 40] }) }],
      },
      [labels.map((_, i) => i), labels.map(() => 0)],
      histEl,
    );
  }

  add(entries) {
    for (const e of entries) this.points.push(e);
    if (entries.length === 0) return;
    this.latest = entries[entries.length - 1];
    this.dirty = true;
  }

  draw(tEnd, windowMs) {
    if (!this.dirty) return 0;
    this.dirty = false;
    trim(this.points, tEnd - windowMs - 1000);
    this.xRange = [tEnd - windowMs, tEnd];
    const pts = this.points;
    this.plot.setData([pts.map((p) => p.t), pts.map((p) => p.lateness_p50_ms), pts.map((p) => p.lateness_p99_ms), pts.map((p) => p.lateness_max_ms)]);
    const counts = new Array(EDGES.length - 1).fill(0);
    for (const p of pts) {
      if (p.t < tEnd - windowMs || typeof p.lateness_p99_ms !== 'number') continue;
      let b = 0;
      while (b + 1 < EDGES.length - 1 && p.lateness_p99_ms >= EDGES[b + 1]) b++;
      counts[b]++;
    }
    this.hist.setData([counts.map((_, i) => i), counts]);
    const e = this.latest;
    this.fields.p99.textContent = fmt(e.lateness_p99_ms, 3);
    this.fields.p50.textContent = fmt(e.lateness_p50_ms, 3);
    this.fields.max.textContent = fmt(e.lateness_max_ms, 3);
    this.fields.missed.textContent = String(e.missed);
    this.seqEl.textContent = `seq ${e.seq}, period ${fmt(e.period_ms, 2)} ms`;
    this.seqEl.dataset.seq = String(e.seq);
    this.updates++;
    this.histUpdates++;
    return 2;
  }
}

export class ClockPanel {
  constructor(table) {
    this.tbody = table.querySelector('tbody');
    this.rows = new Map();
    this.pending = new Map();
    this.updates = 0;
  }

  add(entries) {
    for (const e of entries) this.pending.set(e.source, e);
  }

  draw() {
    for (const e of this.pending.values()) {
      let tr = this.rows.get(e.source);
      if (!tr) {
        tr = document.createElement('tr');
        tr.dataset.source = e.source;
        tr.innerHTML = '<td></td>' + '<td class="num"></td>'.repeat(6);
        this.tbody.append(tr);
        this.rows.set(e.source, tr);
      }
      const cells = [e.source, e.state, e.time_base, fmt(e.offset_ms, 3), fmt(e.drift_ppm, 2), fmt(e.residual_ms, 4), String(e.points)];
      cells.forEach((text, i) => (tr.children[i].textContent = text));
      tr.dataset.seq = String(e.seq);
      tr.className = e.state === 'stale' ? 'alert' : '';
      this.updates++;
    }
    this.pending.clear();
  }
}

const ALERT = /error|lost|missed|drop|overrun|stale|gap|bad|fail|timeout/;

export class HealthPanel {
  constructor(table, stateEl, uptimeEl, seqEl) {
    this.tbody = table.querySelector('tbody');
    this.stateEl = stateEl;
    this.uptimeEl = uptimeEl;
    this.seqEl = seqEl;
    this.rows = new Map();
    this.updates = 0;
    this.pending = null;
  }

  set(h) {
    this.pending = h;
  }

  draw() {
    const h = this.pending;
    if (!h) return;
    this.pending = null;
    this.stateEl.textContent = h.state;
    this.uptimeEl.textContent = fmt(h.uptime_s, 1);
    this.seqEl.textContent = `seq ${h.seq}`;
    this.seqEl.dataset.seq = String(h.seq);
    const keys = Object.keys(h.counters).sort();
    for (const k of keys) {
      let tr = this.rows.get(k);
      if (!tr) {
        tr = document.createElement('tr');
        tr.dataset.counter = k;
        tr.innerHTML = '<td></td><td class="num"></td>';
        tr.children[0].textContent = k;
        this.rows.set(k, tr);
        // Keep the table sorted as counters appear.
        const after = [...this.rows.keys()].sort().indexOf(k);
        this.tbody.insertBefore(tr, this.tbody.children[after] ?? null);
      }
      const v = h.counters[k];
      tr.children[1].textContent = String(v);
      tr.className = v > 0 && ALERT.test(k) ? 'alert' : '';
    }
    this.updates++;
  }
}

export class EventsPanel {
  constructor(list) {
    this.list = list;
    this.updates = 0;
    this.pending = [];
  }

  add(entries) {
    this.pending.push(...entries);
    if (this.pending.length > 200) this.pending.splice(0, this.pending.length - 200);
  }

  draw() {
    const entries = this.pending;
    this.pending = [];
    for (const e of entries) {
      const li = document.createElement('li');
      li.className = e.level;
      li.textContent = `${new Date(e.wall_ms).toISOString().slice(11, 23)} ${e.level} ${e.kind}: ${e.message}`;
      this.list.prepend(li);
      this.updates++;
    }
    while (this.list.children.length > 200) this.list.lastChild.remove();
  }
}
