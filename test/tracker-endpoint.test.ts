import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Publisher } from 'zeromq';
import { ConfigError } from '../src/core/errors.js';
import { parseTrackerEndpoint } from '../src/devices/tracker/endpoint.js';
import { ZmqTracker } from '../src/devices/tracker/zmq.js';

test('endpoint syntax: what a tracker feed takes and why the rest is refused', (t) => {
  const ok: Array<[string, boolean, { transport: string; host: string; port: number }]> = [
    ['tcp://192.168.1.20:5570', false, { transport: 'tcp', host: '192.168.1.20', port: 5570 }],
    ['tcp://workstation.lab:5570', false, { transport: 'tcp', host: 'workstation.lab', port: 5570 }],
    ['tcp://[::1]:5570', false, { transport: 'tcp', host: '::1', port: 5570 }],
    ['tcp://*:5570', true, { transport: 'tcp', host: '*', port: 5570 }],
    ['tcp://127.0.0.1:*', true, { transport: 'tcp', host: '127.0.0.1', port: 0 }],
    ['ipc:///tmp/mocap', false, { transport: 'ipc', host: '/tmp/mocap', port: 0 }],
  ];
  for (const [ep, bind, want] of ok) t.deepEqual(parseTrackerEndpoint(ep, bind), want, ep);
  const bad: Array<[string, boolean, RegExp]> = [
    ['192.168.1.20:5570', false, /must be tcp:\/\/HOST:PORT or ipc:\/\/PATH/],
    ['udp://127.0.0.1:5570', false, /must be tcp/],
    ['inproc://x', false, /must be tcp/],
    ['tcp://127.0.0.1', false, /no port/],
    ['tcp://127.0.0.1:99999', false, /1\.\.65535/],
    ['tcp://127.0.0.1:55x', false, /1\.\.65535/],
    ['tcp://:5570', false, /no host/],
    ['tcp://*:5570', false, /only a bound socket/],
    ['tcp://127.0.0.1:*', false, /only a bound socket/],
    ['tcp://bad_host!:5570', false, /neither an IP address nor a host/],
    ['tcp://::1:5570', false, /without brackets/],
    ['tcp://[::1]5570', false, /without "\]:PORT"/],
    ['tcp://eth0;10.0.0.1:5570', false, /source;address/],
    ['ipc://', false, /no path/],
    [`ipc:///${'x'.repeat(200)}`, false, /longer than 107/],
  ];
  for (const [ep, bind, re] of bad) {
    const r = parseTrackerEndpoint(ep, bind);
    t.is(typeof r, 'string', ep);
    t.regex(r as string, re, ep);
  }
});

test('open refuses what only opening can tell, as ConfigErrors naming the key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-trk-ep-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const refused = async (opts: { endpoint: string; bind?: boolean }, re: RegExp): Promise<void> => {
    const err = await t.throwsAsync(ZmqTracker.open({ ...opts, dims: 2, errorKey: 'tracker.endpoint' }));
    t.true(err instanceof ConfigError, String(err));
    t.is((err as ConfigError).code, 'E_TRACKER_ENDPOINT');
    t.true(err.message.startsWith(`"tracker.endpoint" ${opts.endpoint} `), err.message);
    t.regex(err.message, re);
  };
  await refused({ endpoint: 'tcp://127.0.0.1' }, /no port/);
  await refused({ endpoint: 'tcp://no-such-host.invalid:5570' }, /names a host that does not resolve/);
  await refused({ endpoint: `ipc://${join(dir, 'missing', 'sock')}`, bind: true }, /directory does not exist/);
  const holder = new Publisher();
  await holder.bind('tcp://127.0.0.1:*');
  t.teardown(() => holder.close());
  await refused({ endpoint: holder.lastEndpoint!, bind: true }, /already in use/);
});
