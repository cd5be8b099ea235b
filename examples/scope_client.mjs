#!/usr/bin/env node
// A `reflex scope` WebSocket client in plain Node (ESM, the `ws` package), written from
// docs/scope.md alone: it decodes the binary EMG display frames and the JSON messages, and
// prints per-channel min/max of the last frame of each stream plus the latest prediction.
//
//   node examples/scope_client.mjs http://127.0.0.1:8090/ [--frames N] [--duration S] [--json] [--raw]
//
// --frames N    stop after N binary frames (default 30)
// --duration S  stop after S seconds (default 10): exit 1 if no frame arrived by then
// --json        print one JSON line (SCOPE {...}) instead of text
// --raw         with --json: add the last frame's bytes (base64), to check the decoding against another decoder
import { WebSocket } from 'ws';

const STREAMS = ['emg.raw', 'emg.features', 'tracker'];

/**
 * One binary display frame (docs/scope.md, "Server to page, binary"), read with a DataView:
 * a Buffer from `ws` in Node shares a pooled ArrayBuffer, so its offsets need not be
 * 8-aligned and typed-array views over it in place could throw.
 */
export function decodeFrame(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 24) throw new Error(`frame of ${bytes.byteLength} bytes: shorter than its 24-byte header`);
  const version = dv.getUint8(0);
  if (version !== 1) throw new Error(`frame version ${version}: this client reads version 1`);
  const count = dv.getUint8(1);
  const frame = { seq: dv.getUint32(4, true), serverMs: dv.getFloat64(8, true), pubMs: dv.getFloat64(16, true), sections: [] };
  let off = 24;
  for (let s = 0; s < count; s++) {
    if (off + 16 > bytes.byteLength) throw new Error(`section ${s} starts past the frame's end`);
    const id = dv.getUint8(off);
    const channels = dv.getUint16(off + 2, true);
    const buckets = dv.getUint32(off + 4, true);
    const bucketMs = dv.getFloat64(off + 8, true);
    off += 16;
    const cn = channels * buckets;
    const end = off + 8 * buckets + 4 * cn * 2;
    if (end > bytes.byteLength) throw new Error(`section ${s} (${channels} x ${buckets}) runs past the frame's end`);
    const times = new Float64Array(buckets);
    for (let k = 0; k < buckets; k++) times[k] = dv.getFloat64(off + 8 * k, true);
    off += 8 * buckets;
    const min = new Float32Array(cn);
    for (let i = 0; i < cn; i++) min[i] = dv.getFloat32(off + 4 * i, true);
    off += 4 * cn;
    const max = new Float32Array(cn);
    for (let i = 0; i < cn; i++) max[i] = dv.getFloat32(off + 4 * i, true);
    off += 4 * cn;
    off = Math.ceil(off / 8) * 8; // zero padding to a multiple of 8 bytes
    frame.sections.push({ stream: STREAMS[id] ?? `stream${id}`, channels, buckets, bucketMs, times, min, max });
  }
  return frame;
}

/** Per channel, the smallest minimum and largest maximum over a section's buckets (NaN buckets skipped). */
function channelRange(sec) {
  const out = [];
  for (let c = 0; c < sec.channels; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < sec.buckets; k++) {
      const a = sec.min[c * sec.buckets + k];
      const b = sec.max[c * sec.buckets + k];
      if (a < lo) lo = a;
      if (b > hi) hi = b;
    }
    out.push(lo <= hi ? [lo, hi] : [NaN, NaN]);
  }
  return out;
}

function parseArgs(argv) {
  const o = { url: 'http://127.0.0.1:8090/', frames: 30, duration: 10, json: false, raw: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--frames') o.frames = Number(argv[++i]);
    else if (a === '--duration') o.duration = Number(argv[++i]);
    else if (a === '--json') o.json = true;
    else if (a === '--raw') o.raw = true;
    else if (!a.startsWith('--')) o.url = a;
    else throw new Error(`unknown flag ${a}`);
  }
  if (!(o.frames >= 1) || !(o.duration > 0)) throw new Error('--frames and --duration must be positive');
  return o;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`scope_client: ${e.message}`);
    return 2;
  }
  const url = new URL('ws', opts.url.replace(/^http/, 'ws').replace(/\/?$/, '/'));
  const ws = new WebSocket(url);
  const state = { hello: null, streams: {}, lastSections: {}, lastFrame: null, lastBytes: null, frames: 0, prediction: null, badFrames: 0 };

  const finished = new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, opts.duration * 1000);
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    ws.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        let frame;
        try {
          frame = decodeFrame(data);
        } catch (e) {
          state.badFrames++;
          console.error(`scope_client: bad frame: ${e.message}`);
          return;
        }
        state.frames++;
        state.lastFrame = frame;
        state.lastBytes = Buffer.from(data);
        for (const sec of frame.sections) if (sec.buckets > 0) state.lastSections[sec.stream] = { seq: frame.seq, sec };
        if (state.frames >= opts.frames && state.prediction !== null) {
          clearTimeout(timer);
          resolve();
        }
        return;
      }
      const msg = JSON.parse(data.toString());
      if (msg.type === 'hello') state.hello = msg;
      else if (msg.type === 'streams') {
        // A changed description restarts the decimators: forget what was kept for it.
        for (const name of Object.keys(msg.streams)) delete state.lastSections[name];
        state.streams = msg.streams;
      } else if (msg.type === 'batch' && msg.prediction.length > 0) state.prediction = msg.prediction.at(-1);
    });
  });
  try {
    await finished;
  } catch (e) {
    console.error(`scope_client: ${url}: ${e.message}`);
    return 1;
  } finally {
    ws.close();
  }
  if (state.frames === 0) {
    console.error(`scope_client: no display frame from ${url} within ${opts.duration} s`);
    return 1;
  }

  const sections = {};
  for (const [name, { seq, sec }] of Object.entries(state.lastSections)) {
    const desc = state.streams[name];
    const labels = desc?.channels ?? Array.from({ length: sec.channels }, (_, c) => `ch${c}`);
    sections[name] = {
      frame_seq: seq,
      channels: sec.channels,
      buckets: sec.buckets,
      bucket_ms: sec.bucketMs,
      unit: desc?.unit ?? null,
      labels,
      range: channelRange(sec),
    };
  }
  const p = state.prediction;
  const prediction = p && { seq: p.seq, tick: p.tick, model: p.model, names: p.names, values: p.values, unit: p.unit };
  if (opts.json) {
    const out = {
      frames: state.frames,
      bad_frames: state.badFrames,
      hello: state.hello && { version: state.hello.version, frame_rate: state.hello.frame_rate },
      streams: state.streams,
      sections,
      prediction,
    };
    if (opts.raw) out.raw_frame = state.lastBytes.toString('base64');
    // NaN has no JSON form: write it as the string "NaN" so a reader can tell it from null.
    console.log('SCOPE ' + JSON.stringify(out, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
  } else {
    console.log(`${state.frames} frames (${state.badFrames} bad)`);
    for (const [name, s] of Object.entries(sections)) {
      console.log(`${name}: ${s.channels} channels, last frame ${s.frame_seq}: ${s.buckets} buckets of ${s.bucket_ms} ms`);
      s.labels.forEach((l, c) => console.log(`  ${l.padEnd(8)} min ${s.range[c][0].toFixed(3)} max ${s.range[c][1].toFixed(3)} ${s.unit ?? ''}`));
    }
    if (prediction)
      console.log(
        `prediction seq ${prediction.seq} tick ${prediction.tick} (${prediction.model}): ${prediction.names.map((n, i) => `${n}=${prediction.values[i]}`).join(' ')} ${prediction.unit}`,
      );
    else console.log('no prediction yet');
  }
  return state.badFrames === 0 ? 0 : 1;
}

process.exitCode = await main();
