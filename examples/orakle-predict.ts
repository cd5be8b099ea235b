/**
 * orakle's serving pattern end to end in one process, over ipc:
 * a fake EMG source publishes 8-channel feature vectors at ~100 Hz; predictAndPublish turns
 * each into a 2-value "position" with a fixed linear map; a consumer lines inputs and
 * predictions up in lock-step and prints them. Stops after 50 steps.
 *
 *   node --import tsx examples/orakle-predict.ts
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArrayPublisher, ArraySubscriber, Status, lockstep, predictAndPublish, type FloatArray } from 'reflex/orakle';

const dir = tmpdir();
const emgEp = `ipc://${join(dir, `orakle-emg-${process.pid}.ipc`)}`;
const posEp = `ipc://${join(dir, `orakle-pos-${process.pid}.ipc`)}`;

const emgPub = new ArrayPublisher({ topic: 'emg', dtype: 'float32' });
await emgPub.bind(emgEp);
const posPub = new ArrayPublisher({ topic: 'pos', dtype: 'float32' });
await posPub.bind(posEp);

// The predictor's side: its own subscriber to the EMG features.
const predIn = new ArraySubscriber({ topic: 'emg' });
predIn.connect(emgEp);
// The consumer's side: EMG and predictions, to compare them step by step.
const seeEmg = new ArraySubscriber({ topic: 'emg' });
seeEmg.connect(emgEp);
const seePos = new ArraySubscriber({ topic: 'pos' });
seePos.connect(posEp);
await emgPub.waitForSubscribers(2, { timeoutMs: 5000 });
await posPub.waitForSubscribers(1, { timeoutMs: 5000 });

const W = Float32Array.from({ length: 16 }, (_, i) => ((i * 7) % 5) / 10 - 0.2); // 2 x 8
const out = new Float32Array(2);
const predict = (x: FloatArray): Float32Array => {
  for (let r = 0; r < 2; r++) {
    let acc = 0;
    for (let c = 0; c < 8; c++) acc += W[r * 8 + c]! * x[c]!;
    out[r] = acc;
  }
  return out; // published with copy: true (the default), so reusing `out` is safe
};

const stop = new AbortController();
const serving = predictAndPublish(predIn, predict, posPub, { signal: stop.signal });

const source = setInterval(() => {
  const x = Float32Array.from({ length: 8 }, () => Math.random());
  void emgPub.publish(x, { status: Math.random() < 0.05 ? Status.STALE : Status.OK });
}, 10);

let n = 0;
for await (const [emg, pos] of lockstep([seeEmg, seePos], { skipInvalid: false, signal: stop.signal })) {
  const lagMs = (pos!.timestampMs - emg!.timestampMs).toFixed(3); // 0: predictions carry the input's time
  console.log(`step ${emg!.seq}: status ${pos!.status} pos [${[...pos!.data].map((v) => v.toFixed(3)).join(', ')}] timestamp offset ${lagMs} ms`);
  if (++n === 50) stop.abort();
}
clearInterval(source);
console.log('serving loop:', await serving);
for (const s of [predIn, seeEmg, seePos]) s.close();
emgPub.close();
posPub.close();
