/**
 * The old length-prefixed CBOR recordings of `reflex subscribe --record` (before XDF) converted
 * to XDF with the same Recorder a live workstation recording uses. The old files kept the
 * publisher's stamps and the receiver's wall clock only, so the ClockOffset chunks carry the
 * transit time estimated from the wall clocks (receive wall minus publish wall): stamps stay
 * on the board's clock, as in a live `reflex record`.
 */
import { ConfigError } from '../core/errors.js';
import { readRecordFile, type RecordEntry } from '../telemetry/record-file.js';
import { isTopic, type TelemetryMessage } from '../telemetry/topics.js';
import { RecordCodes } from './codes.js';
import { Recorder, type RecorderStats } from './recorder.js';

export function convertCborRecording(src: string, dst: string, opts: { overwrite?: boolean } = {}): RecorderStats {
  let entries: RecordEntry[];
  try {
    entries = readRecordFile(src);
  } catch (err) {
    if (err instanceof Error) throw new ConfigError(RecordCodes.xdfForeign, `${src} is not a readable Reflex CBOR recording: ${err.message}`, { cause: err });
    throw err;
  }
  let current: RecordEntry | undefined;
  const rec = new Recorder({
    path: dst,
    overwrite: opts.overwrite,
    clock: 'remote',
    run: { converted_from: src },
    // The recorder's "now" for this entry: publish time on the board's clock plus the transit time.
    now: () => (current ? current.msg.mono_ms + (current.recv_wall_ms - current.msg.wall_ms) : 0),
  });
  try {
    const lastSeq = new Map<string, number>();
    for (const e of entries) {
      if (!isTopic(e.msg.topic)) continue;
      current = e;
      const key = `${e.endpoint}\u0000${e.msg.topic}\u0000${e.msg.runtime}`;
      const prev = lastSeq.get(key);
      lastSeq.set(key, e.msg.seq);
      rec.add({
        topic: e.msg.topic,
        source: { endpoint: e.endpoint, runtime: e.msg.runtime, board: e.msg.board },
        v: e.msg.v,
        seq: e.msg.seq,
        mono_ms: e.msg.mono_ms,
        wall_ms: e.msg.wall_ms,
        body: e.msg.body,
        lost: prev !== undefined && e.msg.seq > prev + 1 ? e.msg.seq - prev - 1 : 0,
      } as TelemetryMessage);
    }
  } finally {
    rec.close();
  }
  return rec.stats();
}
