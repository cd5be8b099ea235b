// The scope page: receives display frames and batches, keeps what the time window shows,
// and redraws at most once per animation frame. Read-only: it sends the server only its
// own view settings and clock pings.
import { ScopeConnection } from '/protocol.js';
import { BucketStore } from '/store.js';
import { EmgPanel } from '/emg.js';
import { ClockPanel, EventsPanel, HealthPanel, LoopPanel, PredictionPanel, fmt } from '/panels.js';

const $ = (id) => document.getElementById(id);

const stats = {
  raf: 0,
  draws: 0,
  frames: 0,
  bytes: 0,
  batches: 0,
  lagMs: [],
  lastLagMs: NaN,
  server: null,
  offsetMs: NaN,
  rttMs: NaN,
  paused: false,
  plots: {},
  errors: [],
};
window.__scopeStats = stats;

let windowMs = Number($('window').value);
let paused = false;
let streams = {};
const stores = {};
let newData = false;
/** Publish time (server clock) of the newest complete telemetry received, not yet drawn. */
let pendingPubMs = NaN;

const emg = new EmgPanel($('emg-plots'), $('channels'));
const pred = new PredictionPanel($('pred-plot'), $('pred-values'), $('pred-seq'));
const loop = new LoopPanel($('loop-plot'), $('loop-hist'), $('loop-seq'), {
  p99: $('loop-p99'),
  p50: $('loop-p50'),
  max: $('loop-max'),
  missed: $('loop-missed'),
});
const clock = new ClockPanel($('clock-table'));
const health = new HealthPanel($('health-counters'), $('health-state'), $('health-uptime'), $('health-seq'));
const events = new EventsPanel($('events'));

/** One bucket per device pixel of an EMG plot. */
function viewWidth() {
  return Math.min(4000, Math.round(emg.plotWidth() * (window.devicePixelRatio || 1)));
}

function capacityFor(bucketMs) {
  // The window twice over, so a frame never pushes out what is on screen.
  return Math.max(4096, Math.ceil((2 * windowMs) / bucketMs) + 2048);
}

function resetStores() {
  for (const k of Object.keys(stores)) delete stores[k];
}

function onStreams(s) {
  streams = s;
  resetStores();
  const raw = s['emg.raw'];
  if (raw) {
    emg.setChannels(raw.channels, raw.unit);
    $('emg-info').textContent = `${raw.channels.length} ch @ ${raw.rate} Hz, ${raw.unit}`;
  }
  conn.setView(windowMs, viewWidth());
}

const conn = new ScopeConnection({
  status(up) {
    $('conn').textContent = up ? 'connected' : 'disconnected';
    $('conn').className = `badge ${up ? 'ok' : 'bad'}`;
  },
  frame(f, bytes) {
    stats.frames++;
    stats.bytes += bytes;
    for (const s of f.sections) {
      let store = stores[s.stream];
      if (!store || store.channels !== s.channels) store = stores[s.stream] = new BucketStore(s.channels, capacityFor(s.bucketMs));
      store.append(s);
    }
    if (Number.isFinite(f.pubMs)) pendingPubMs = f.pubMs;
    newData = true;
  },
  json(msg) {
    switch (msg.type) {
      case 'hello':
        conn.setView(windowMs, viewWidth());
        break;
      case 'streams':
        onStreams(msg.streams);
        break;
      case 'view':
        resetStores();
        break;
      case 'batch':
        stats.batches++;
        pred.add(msg.prediction);
        loop.add(msg.loop);
        clock.add(msg.clock);
        events.add(msg.event);
        if (msg.health) health.set(msg.health);
        newData = true;
        break;
      case 'stats':
        stats.server = msg;
        showSource(msg);
        break;
    }
  },
});

function showSource(s) {
  const others = s.other_sources && s.other_sources.length > 0 ? ` (also heard, not shown: ${s.other_sources.join(', ')})` : '';
  $('source').textContent = `${s.source ?? 'waiting for telemetry'}${others}`;
}

function showStats(now) {
  const last = stats.lagMs.slice(-30).sort((a, b) => a - b);
  const lag = last.length > 0 ? last[last.length >> 1] : NaN;
  const s = stats.server;
  const t = s ? s.telemetry : null;
  $('stats').textContent =
    `${fmt(fpsRaf, 0)} fps, ${fmt(fpsDraw, 0)} draws/s, lag ${fmt(lag, 0)} ms, frames ${stats.frames}` +
    `, dropped ${s ? s.frames_dropped : 0}` +
    (t ? `, telemetry lost ${t.lost}` : '');
  stats.droppedFrames = s ? s.frames_dropped : 0;
}

let fpsRaf = NaN;
let fpsDraw = NaN;
let lastRaf = 0;
let lastDraw = 0;
let lastRate = performance.now();

function frame() {
  requestAnimationFrame(frame);
  stats.raf++;
  const now = performance.now();
  if (now - lastRate >= 1000) {
    fpsRaf = ((stats.raf - lastRaf) * 1000) / (now - lastRate);
    fpsDraw = ((stats.draws - lastDraw) * 1000) / (now - lastRate);
    stats.fps = fpsRaf;
    stats.drawRate = fpsDraw;
    lastRaf = stats.raf;
    lastDraw = stats.draws;
    lastRate = now;
    showStats(now);
  }
  if (paused || !newData) return;
  newData = false;
  try {
    const raw = stores['emg.raw'];
    emg.draw(raw, stores['emg.features'], windowMs);
    const tEnd = raw && raw.length > 0 ? raw.latest : Math.max(pred.points.at(-1)?.t ?? 0, loop.points.at(-1)?.t ?? 0);
    pred.draw(tEnd, windowMs);
    loop.draw(tEnd, windowMs);
    clock.draw();
    health.draw();
    events.draw();
  } catch (err) {
    stats.errors.push(String(err && err.stack ? err.stack : err));
    throw err;
  }
  stats.draws++;
  if (Number.isFinite(pendingPubMs) && Number.isFinite(conn.offsetMs)) {
    // Drawn now (the paint follows this callback); lag from the newest complete telemetry in it.
    stats.lastLagMs = conn.serverNow() - pendingPubMs;
    stats.lagMs.push(stats.lastLagMs);
    if (stats.lagMs.length > 5000) stats.lagMs.splice(0, 1000);
    pendingPubMs = NaN;
  }
  stats.offsetMs = conn.offsetMs;
  stats.rttMs = conn.rttMs;
  stats.plots = {
    emg: { ...emg.updates },
    emg_points: { ...emg.points },
    prediction: pred.updates,
    loop: loop.updates,
    loop_hist: loop.histUpdates,
    clock: clock.updates,
    health: health.updates,
    events: events.updates,
  };
}
requestAnimationFrame(frame);

$('pause').addEventListener('click', () => {
  paused = !paused;
  stats.paused = paused;
  $('pause').textContent = paused ? 'Resume' : 'Pause';
  if (!paused) newData = true;
});
$('window').addEventListener('change', () => {
  windowMs = Number($('window').value);
  conn.setView(windowMs, viewWidth());
});
$('ch-all').addEventListener('click', () => emg.showAll(true));
$('ch-none').addEventListener('click', () => emg.showAll(false));
let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    emg.resize();
    conn.setView(windowMs, viewWidth());
  }, 200);
});
