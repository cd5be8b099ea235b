// Live EMG: every channel in a lane of its own in ONE plot (one set of axes to lay out per
// frame, not one per channel: what keeps 16 channels at 30 frames a second), raw as min and
// max per pixel, the envelope (emg.features, held from one value to the next) over it. Each
// lane is scaled to its own range over the window; the axis says that range.
import uPlot from '/vendor/uPlot.esm.js';

/**
 * Lane height, px: 44 for a few channels, shrinking so the plot stays within 480 px. The cost
 * of a frame in a browser drawing on the CPU grows with the canvas area the traces cover
 * (measured: halving the lanes of 16 channels took the page from about 20 to 30-40 frames
 * a second on a loaded 2-core machine), not with the number of points.
 */
function lanePx(lanes) {
  return Math.max(20, Math.min(44, Math.floor(480 / Math.max(1, lanes))));
}
/** Share of a lane's height a channel's trace may use. */
const FILL = 0.45;

export class EmgPanel {
  constructor(container, channelBar) {
    this.container = container;
    this.channelBar = channelBar;
    this.names = [];
    this.hidden = new Set();
    this.plot = null;
    this.buffers = [];
    this.capacity = 0;
    this.labels = [];
    this.lanes = [];
    this.updates = {};
    this.points = {};
    this.xRange = [0, 1];
    this.yRange = [-0.5, 0.5];
    this.envShown = true;
  }

  /** The raw stream's channels are known (or changed): build the plot and the channel boxes. */
  setChannels(names, unit) {
    if (names.length === this.names.length && names.every((n, i) => n === this.names[i])) return;
    this.names = [...names];
    this.unit = unit;
    this.updates = {};
    this.points = {};
    this.channelBar.textContent = '';
    for (const name of names) {
      this.updates[name] = 0;
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = !this.hidden.has(name);
      box.dataset.channel = name;
      box.addEventListener('change', () => this.show(name, box.checked));
      label.append(box, ` ${name}`);
      this.channelBar.append(label);
    }
    this.build();
  }

  build() {
    if (this.plot) this.plot.destroy();
    this.container.textContent = '';
    const series = [{}];
    for (let c = 0; c < this.names.length; c++) {
      const show = !this.hidden.has(this.names[c]);
      series.push(
        { stroke: '#3b6fd4', width: 1, show },
        { stroke: '#3b6fd4', width: 1, show },
        { stroke: '#e0531f', width: 1.25, show: show && this.envShown },
      );
    }
    const visible = this.names.length - this.hidden.size;
    // Fixed lanes: uPlot reads a non-auto scale's range when it is built (or set), not per frame.
    this.yRange = [-0.5, Math.max(1, visible) - 0.5];
    this.plot = new uPlot(
      {
        width: this.plotWidth(),
        height: Math.max(1, visible) * lanePx(visible) + 30,
        legend: { show: false },
        cursor: { show: false },
        scales: {
          x: { time: false, auto: false, range: () => this.xRange },
          y: { auto: false, range: () => this.yRange },
        },
        axes: [
          { size: 24, values: (u, splits) => splits.map((v) => ((v - this.xRange[1]) / 1000).toFixed(1)) },
          {
            size: 110,
            gap: 4,
            splits: () => this.lanes,
            values: () => this.labels,
            grid: { stroke: '#eceef2' },
          },
        ],
        series,
      },
      series.map(() => []),
      this.container,
    );
    this.container.dataset.lanes = String(visible);
  }

  show(name, visible) {
    if (visible) this.hidden.delete(name);
    else this.hidden.add(name);
    for (const box of this.channelBar.querySelectorAll('input')) if (box.dataset.channel === name) box.checked = visible;
    this.build();
  }

  showAll(visible) {
    for (const n of this.names) {
      if (visible) this.hidden.delete(n);
      else this.hidden.add(n);
    }
    for (const box of this.channelBar.querySelectorAll('input')) box.checked = visible;
    this.build();
  }

  /** Device pixels of the plot area: what the server sizes its buckets to. */
  plotWidth() {
    return Math.max(300, Math.floor(this.container.clientWidth));
  }

  #ensure(capacity) {
    if (capacity <= this.capacity) return;
    this.capacity = capacity;
    this.buffers = this.names.map(() => [new Float32Array(capacity), new Float32Array(capacity), new Float32Array(capacity)]);
    this.blank = new Float32Array(capacity);
  }

  /** Redraw from the stores; returns how many channels were drawn. */
  draw(raw, features, windowMs) {
    if (!raw || raw.length === 0 || !this.plot || raw.channels !== this.names.length) return 0;
    this.#ensure(raw.capacity);
    const end = raw.latest;
    this.xRange = [end - windowMs, end];
    const i0 = raw.lowerBound(end - windowMs);
    const n = raw.length - i0;
    const x = raw.times.subarray(i0, raw.length);
    const withEnv = features && features.length > 0 && features.channels === raw.channels;
    const visible = this.names.filter((name) => !this.hidden.has(name));
    this.lanes = [];
    this.labels = [];
    const data = [x];
    let lane = visible.length;
    for (let c = 0; c < this.names.length; c++) {
      const name = this.names[c];
      if (this.hidden.has(name)) {
        const b = this.blank.subarray(0, n);
        data.push(b, b, b);
        continue;
      }
      lane--; // the first channel on top
      const [mnOut, mxOut, envOut] = this.buffers[c];
      const mn = raw.min[c];
      const mx = raw.max[c];
      let lo = Infinity;
      let hi = -Infinity;
      for (let k = i0; k < raw.length; k++) {
        if (mn[k] < lo) lo = mn[k];
        if (mx[k] > hi) hi = mx[k];
      }
      const mid = (lo + hi) / 2;
      const scale = hi > lo ? (2 * FILL) / (hi - lo) : 0;
      for (let k = 0; k < n; k++) {
        mnOut[k] = lane + (mn[i0 + k] - mid) * scale;
        mxOut[k] = lane + (mx[i0 + k] - mid) * scale;
      }
      let envText = '';
      if (withEnv) {
        const [elo, ehi] = holdOnto(features, c, x, envOut, n);
        const es = ehi > elo ? (2 * FILL) / (ehi - elo) : 0;
        for (let k = 0; k < n; k++) envOut[k] = lane - FILL + (envOut[k] - elo) * es;
        envText = ` e${compact(ehi)}`;
      }
      data.push(mnOut.subarray(0, n), mxOut.subarray(0, n), envOut.subarray(0, n));
      this.lanes.push(lane);
      this.labels.push(`${name} ±${compact((hi - lo) / 2)}${envText}`);
      this.updates[name]++;
      this.points[name] = n;
    }
    // No envelope stream (a run without a model publishes no emg.features): hide its traces rather than draw a flat line.
    if (Boolean(withEnv) !== this.envShown) {
      this.envShown = Boolean(withEnv);
      for (let c = 0; c < this.names.length; c++) if (!this.hidden.has(this.names[c])) this.plot.setSeries(3 * c + 3, { show: this.envShown });
    }
    this.plot.setData(data);
    return visible.length;
  }

  resize() {
    if (this.plot) this.plot.setSize({ width: this.plotWidth(), height: this.plot.height });
    return this.plotWidth();
  }
}

function compact(v) {
  if (!Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  return a >= 1000 ? `${(v / 1000).toFixed(1)}k` : a >= 10 ? v.toFixed(0) : v.toPrecision(2);
}

/** The envelope at each raw bucket time: the newest feature bucket at or before it (its max). Returns its range. */
function holdOnto(features, c, x, out, n) {
  const ft = features.times;
  const fv = features.max[c];
  let j = Math.max(0, features.lowerBound(x[0]) - 1);
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < n; k++) {
    while (j + 1 < features.length && ft[j + 1] <= x[k]) j++;
    const v = fv[j];
    out[k] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
