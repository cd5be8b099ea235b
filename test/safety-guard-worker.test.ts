/**
 * The process guard with actuators driven from the loop worker: on SIGTERM or an uncaught
 * error in the main thread, the bridge safe frame goes out through the shared fd (main's
 * own, and the worker's) before the process dies. The "port" is a FIFO this test reads.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { LOOP_REQ_ID_MAIN } from '../src/bridge/req-ids.js';
import { FrameType } from '../src/bridge/frames.js';
import { type Actuate, HostFrames } from './bridge-host-frames.js';

const src = (p: string): string => new URL(`../src/${p}`, import.meta.url).href;

function child(fifo: string, mode: 'signal' | 'throw'): Promise<{ out: string; code: number | null; signal: NodeJS.Signals | null }> {
  const code = `
import { openSync, constants } from 'node:fs';
import { ControlLoop } from ${JSON.stringify(src('loop/loop.ts'))};
import { installSafetyHandlers } from ${JSON.stringify(src('loop/guard.ts'))};
const predictor = 'data:text/javascript,' + encodeURIComponent(
  'export function createPredictor() { return { inputSize: 1, outputSize: 1, predict(x, y) { y[0] = x[0]; } }; }',
);
const loop = await ControlLoop.start({
  schedule: { rateHz: 1000, policy: 'skip' }, watchdog: { staleMs: 3000, overrunStreak: 1000 },
  predictor: { kind: 'module', url: predictor, inputSize: 1, outputNames: ['a'] },
  actuators: [{ name: 'wrist', kind: 'servo', via: 'bridge', channel: 0, min: 1000, max: 2000, slewPerS: 1e9, safe: 1500, unit: 'us' }],
  mapping: [{ actuator: 'wrist', output: 'a' }], startArmed: true, actuation: { bridge: { keepAliveMs: 0 } },
});
loop.setBridgeFd(openSync(${JSON.stringify(fifo)}, constants.O_WRONLY | constants.O_NONBLOCK));
installSafetyHandlers(() => [loop]);
const out = loop.createOutput();
const push = setInterval(() => {
  loop.pushWindow(Float32Array.of(1800));
  if (loop.readLatest(out) && out.commands[0] === 1800 && loop.actuationCounters().framesWritten > 5) {
    clearInterval(push);
    setInterval(() => loop.pushWindow(Float32Array.of(1800)), 1);
    process.stdout.write('READY\\n');
    if (${JSON.stringify(mode)} === 'throw') setTimeout(() => { throw new Error('boom'); }, 5);
  }
}, 1);
`;
  const p = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`child did not finish: ${out} ${err}`));
    }, 15000);
    let ready = false;
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!ready && out.includes('READY')) {
        ready = true;
        if (mode === 'signal') p.kill('SIGTERM');
      }
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (c, s) => {
      clearTimeout(guard);
      resolve({ out, code: c, signal: s });
    });
  });
}

async function run(t: { teardown(fn: () => unknown): void }, mode: 'signal' | 'throw') {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-guardw-'));
  const path = join(dir, 'port');
  execFileSync('mkfifo', [path]);
  // Read end first (and kept open), so the child's non-blocking write-only open succeeds.
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  t.teardown(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
  const r = await child(path, mode);
  const h = new HostFrames();
  h.drain(fd);
  const acts = h.frames.filter((f): f is Actuate => f.type === FrameType.ACTUATE);
  return { r, h, acts };
}

for (const mode of ['signal', 'throw'] as const) {
  test(`worker path, ${mode === 'signal' ? 'SIGTERM' : 'uncaught exception'}: the safe frame goes out through the fd before the process dies`, async (t) => {
    const { r, h, acts } = await run(t, mode);
    t.regex(r.out, /READY/);
    if (mode === 'signal') t.is(r.signal, 'SIGTERM');
    else t.not(r.code, 0);
    t.is(h.bad, 0);
    t.true(
      acts.some((a) => a.entries[0]!.value === 1800),
      'it was moving',
    );
    // A cycle under way may write one more command after main's first safe frame; after
    // the worker confirmed, main writes it again, and nothing but safe values follow.
    const iMain = acts.map((a) => a.reqId).lastIndexOf(LOOP_REQ_ID_MAIN);
    t.true(iMain >= 0, "main's own safe frame was written");
    t.true(acts.filter((a) => a.reqId === LOOP_REQ_ID_MAIN).length >= 2);
    for (const a of acts.slice(iMain)) t.is(a.entries[0]!.value, 1500);
    t.is(acts.at(-1)!.entries[0]!.value, 1500);
  });
}
