import test from 'ava';
import { childExecArgv, entryUrl, startWorker } from '../src/core/worker.js';
import { PRINT, SEQ } from '../src/program/build.js';
import type { SpawnMessage, SpawnRequest } from '../src/program/spawn.js';

test('entryUrl picks the entry with the extension of the file asking for it', (t) => {
  t.is(entryUrl('worker', 'file:///pkg/src/loop/spawn.ts').href, 'file:///pkg/src/loop/worker.ts');
  t.is(entryUrl('worker', 'file:///pkg/dist/loop/spawn.js').href, 'file:///pkg/dist/loop/worker.js');
});

test('childExecArgv adds tsx only for a .ts entry whose flags carry no tsx loader', (t) => {
  const ts = new URL('file:///pkg/src/streams/zmq-worker.ts');
  const js = new URL('file:///pkg/dist/streams/zmq-worker.js');
  t.deepEqual(childExecArgv(ts, ['--expose-gc']), ['--expose-gc', '--import', 'tsx']);
  t.deepEqual(childExecArgv(ts, ['--import=tsx']), ['--import=tsx']);
  t.deepEqual(childExecArgv(js, ['--expose-gc']), ['--expose-gc']);
  const base = ['--expose-gc'];
  childExecArgv(ts, base);
  t.deepEqual(base, ['--expose-gc'], 'the flags passed in are not modified');
});

test('startWorker runs a .ts entry under tsx', async (t) => {
  // A SPAWN fragment's entry: it prints, then reports the registers it wrote.
  const request: SpawnRequest = { body: SEQ(PRINT('hello')), registers: {}, module: null, clock: { kind: 'system' } };
  const w = startWorker(new URL('../src/program/spawn-worker.ts', import.meta.url), { workerData: request });
  const msgs: SpawnMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    w.on('message', (m: SpawnMessage) => {
      msgs.push(m);
      if (m.type !== 'print') resolve();
    });
    w.once('error', reject);
  });
  await w.terminate();
  t.deepEqual(msgs, [
    { type: 'print', line: 'hello' },
    { type: 'done', written: {} },
  ]);
});
