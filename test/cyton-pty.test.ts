import test from 'ava';
import { nullLogger } from '../src/core/log.js';
import { CytonDevice, type CytonState } from '../src/devices/cyton/device.js';
import { openNodeSerial } from '../src/hal/serial-node.js';
import { PTY_PRELUDE, startPythonCyton, uvPerCount, type FakeCyton } from './cyton-packets.js';

/**
 * A fake Cyton on the master side of a real pseudo-terminal (Python, so the bytes are built
 * a second, independent way): `v` -> banner ending in `$$$`, `b` -> 20 packets (channel k of
 * packet i = ±k*(i+1)*1000 counts, odd channels negative, footer 0xC0), `s` -> stop. It
 * echoes every command it receives as `CMD x`; `hangup` on stdin closes the master.
 */
const FAKE_CYTON = String.raw`
${PTY_PRELUDE}
def value(k, i):
    return k * (i + 1) * 1000 * (-1 if k % 2 else 1)
while True:
    r, _, _ = select.select([m, sys.stdin], [], [])
    if sys.stdin in r:
        line = sys.stdin.readline()
        if not line or line.strip() == "hangup":
            os.close(m)
            print("CLOSED", flush=True)
            break
    if m in r:
        for c in os.read(m, 64):
            ch = chr(c)
            print("CMD " + ch, flush=True)
            if ch == "v":
                os.write(m, b"OpenBCI V3 8-16 channel\nFirmware: v3.1.2\n$$$")
            elif ch == "b":
                pkts = b"".join(bytes([0xA0, i & 255]) + b"".join(int24(value(k, i)) for k in range(1, 9)) + bytes(6) + bytes([0xC0]) for i in range(20))
                os.write(m, pkts)
`;

const startFakeCyton = (): FakeCyton => startPythonCyton(FAKE_CYTON);

function until<T>(what: string, register: (done: (v: T) => void) => void, ms = 8000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

test('over a real pseudo-terminal: handshake, 20 packets decoded, stop sends s, hang-up reconnects', async (t) => {
  const cyton = startFakeCyton();
  t.teardown(() => cyton.proc.kill());
  const first = await cyton.next();
  t.true(first.startsWith('PTY '));
  const path = first.slice(4);

  // The fake sends 20 packets and then nothing: a long stall timeout keeps this about the hang-up.
  const dev = new CytonDevice({ open: openNodeSerial, path, backoffInitialMs: 20, backoffMaxMs: 50, stallTimeoutMs: 60_000, logger: nullLogger() });
  t.teardown(() => dev.stop());
  const samples: Array<{ firstSample: number; data: number[] }> = [];
  const got20 = until<void>('20 samples', (done) =>
    dev.on('samples', (b) => {
      samples.push({ firstSample: b.firstSample, data: Array.from(b.data) });
      if (samples.length === 20) done();
    }),
  );
  await dev.start();
  t.is(await cyton.next(), 'CMD s');
  t.is(await cyton.next(), 'CMD v');
  t.is(await cyton.next(), 'CMD b');
  await got20;
  t.deepEqual(
    samples.map((s) => s.firstSample),
    Array.from({ length: 20 }, (_, i) => i),
  );
  const k = uvPerCount(24);
  t.deepEqual(
    samples[4]!.data,
    [1, 2, 3, 4, 5, 6, 7, 8].map((ch) => Math.fround(ch * 5 * 1000 * (ch % 2 ? -1 : 1) * k)),
  );
  t.is(dev.counters.get('garbage_bytes'), 0);

  const reconnecting = until<string>('reconnecting', (done) => dev.on('state', (s: CytonState, d) => s === 'reconnecting' && done(d)));
  cyton.cmd('hangup');
  t.is(await cyton.next(), 'CLOSED');
  t.truthy(await reconnecting);
  t.is(dev.counters.get('disconnects'), 1);
  await dev.stop();
  t.is(dev.state, 'stopped');
});

test('over a real pseudo-terminal: stop() sends s before closing', async (t) => {
  const cyton = startFakeCyton();
  t.teardown(() => cyton.proc.kill());
  const path = (await cyton.next()).slice(4);
  const dev = new CytonDevice({ open: openNodeSerial, path, stallTimeoutMs: 60_000, logger: nullLogger() });
  t.teardown(() => dev.stop());
  await dev.start();
  t.deepEqual([await cyton.next(), await cyton.next(), await cyton.next()], ['CMD s', 'CMD v', 'CMD b']);
  await dev.stop();
  t.is(await cyton.next(), 'CMD s');
});
