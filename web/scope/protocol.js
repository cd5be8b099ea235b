// The scope's WebSocket protocol, page side (docs/scope.md): binary display frames and JSON
// messages from the server, view settings and pings to it.

const STREAMS = ['emg.raw', 'emg.features', 'tracker'];

/** Decode one binary display frame (an ArrayBuffer): views into it, no copy. */
export function decodeFrame(buf) {
  const dv = new DataView(buf);
  const version = dv.getUint8(0);
  if (version !== 1) throw new Error(`scope frame version ${version}: reload the page`);
  const count = dv.getUint8(1);
  const frame = { seq: dv.getUint32(4, true), serverMs: dv.getFloat64(8, true), pubMs: dv.getFloat64(16, true), sections: [] };
  let off = 24;
  for (let i = 0; i < count; i++) {
    const stream = STREAMS[dv.getUint8(off)];
    const channels = dv.getUint16(off + 2, true);
    const n = dv.getUint32(off + 4, true);
    const bucketMs = dv.getFloat64(off + 8, true);
    off += 16;
    const times = new Float64Array(buf, off, n);
    off += n * 8;
    const min = new Float32Array(buf, off, channels * n);
    off += channels * n * 4;
    const max = new Float32Array(buf, off, channels * n);
    off += channels * n * 4;
    off = Math.ceil(off / 8) * 8;
    if (stream !== undefined) frame.sections.push({ stream, channels, n, bucketMs, times, min, max });
  }
  return frame;
}

/**
 * The connection: reconnects after a drop, keeps the offset between this page's clock
 * (performance.now) and the server's monotonic clock from the tightest ping round trip.
 */
export class ScopeConnection {
  constructor(handlers) {
    this.handlers = handlers;
    this.offsetMs = NaN;
    this.rttMs = Infinity;
    this.pongs = [];
    this.ws = null;
    this.pings = 0;
    this.view = null;
    this.open();
    setInterval(() => this.ping(), 1000);
  }

  open() {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      this.handlers.status(true);
      // A burst of pings so the clock offset is known within the first second.
      for (let i = 0; i < 5; i++) setTimeout(() => this.ping(), i * 100);
      if (this.view) this.send({ type: 'view', ...this.view });
    };
    ws.onclose = () => {
      this.handlers.status(false);
      setTimeout(() => this.open(), 1000);
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') {
        this.handlers.frame(decodeFrame(ev.data), ev.data.byteLength);
        return;
      }
      const msg = JSON.parse(ev.data);
      if (msg.type === 'pong') this.onPong(msg);
      else this.handlers.json(msg);
    };
    this.ws = ws;
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  setView(windowMs, width) {
    this.view = { window_ms: windowMs, width };
    this.send({ type: 'view', ...this.view });
  }

  ping() {
    this.pings++;
    this.send({ type: 'ping', t: performance.now() });
  }

  onPong(msg) {
    const now = performance.now();
    const rtt = now - msg.t;
    this.pongs.push({ rtt, offset: msg.server_ms - (msg.t + rtt / 2) });
    if (this.pongs.length > 20) this.pongs.shift();
    // The tightest recent round trip bounds the offset best.
    let best = this.pongs[0];
    for (const p of this.pongs) if (p.rtt < best.rtt) best = p;
    this.offsetMs = best.offset;
    this.rttMs = best.rtt;
  }

  /** Now, on the server's monotonic clock. */
  serverNow() {
    return performance.now() + this.offsetMs;
  }
}
