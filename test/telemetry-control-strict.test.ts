/**
 * Strict decoding of control requests (issue 11, item 1): a frame that could be read two
 * ways never reaches a handler. Before the fix, `{"id":1,"cmd":"status","cmd":"release"}`
 * ran `release` on a latched e-stop and answered `safe: true`.
 */
import test from 'ava';
import { Dealer } from 'zeromq';
import { nullLogger } from '../src/core/log.js';
import type { ControlLoop } from '../src/loop/loop.js';
import { registerControl, type ControlTarget } from '../src/runtime/control-commands.js';
import type { RuntimeState } from '../src/runtime/types.js';
import { createDecoder, createEncoder } from '../src/telemetry/codec.js';
import { CONTROL_COMMANDS, type ControlCommand } from '../src/telemetry/control-protocol.js';
import { ControlServer } from '../src/telemetry/control-server.js';
import { cborArray, cborMap, echoRequest, indefiniteArray, indefiniteMap, indefiniteText, strictViolations } from './telemetry-control-cbor.js';
import { bindEndpoint } from './telemetry-helpers.js';

const enc = createEncoder();
const dec = createDecoder();

/** Args each command accepts, so that whichever `cmd` a lenient decoder kept would have run. */
const VALID_ARGS: Record<ControlCommand, Record<string, unknown>> = {
  start: {},
  stop: {},
  release: {},
  status: {},
  set: { path: 'features.0.low', value: 20 },
  model: { dir: 'models/default' },
  estop: { reason: 'x' },
};

interface Rig {
  calls: string[];
  roundTrip: (frame: Buffer) => Promise<Record<string, unknown>>;
  close: () => Promise<void>;
}

/** A server with a recording handler for every command (and one extra taking any args). */
async function rig(): Promise<Rig> {
  const unlimited = { perSecond: 1e9, burst: 1e9 };
  const srv = new ControlServer({
    endpoints: [bindEndpoint('ipc')],
    logger: nullLogger(),
    rate: { reads: unlimited, peer: unlimited, global: unlimited, priorityPeer: unlimited, priorityGlobal: unlimited },
  });
  const calls: string[] = [];
  for (const cmd of CONTROL_COMMANDS) srv.handle(cmd, () => (calls.push(cmd), { ran: cmd }));
  srv.handle(
    'echo',
    (args) => (calls.push('echo'), args),
    () => undefined,
  );
  const [ep] = await srv.start();
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(ep!);
  return {
    calls,
    roundTrip: async (frame) => {
      await dealer.send(frame);
      return dec.decode((await dealer.receive())[0]!) as Record<string, unknown>;
    },
    close: async () => {
      dealer.close();
      await srv.close();
    },
  };
}

function code(reply: Record<string, unknown>): string | undefined {
  return reply.ok === false ? (reply.error as { code: string }).code : undefined;
}

test('a repeated "cmd" is refused for every ordered pair of commands, before any handler runs', async (t) => {
  const r = await rig();
  try {
    for (const first of CONTROL_COMMANDS) {
      for (const second of CONTROL_COMMANDS) {
        // args fit the second: the command a last-value-wins decoder would have run.
        const frame = cborMap([
          ['id', 1],
          ['cmd', first],
          ['cmd', second],
          ['args', VALID_ARGS[second]],
        ]);
        t.true(strictViolations(frame).has('duplicate-key'));
        const reply = await r.roundTrip(frame);
        t.is(code(reply), 'E_DUPLICATE_KEY', `${first} then ${second}`);
        t.is(reply.id, null);
        t.regex((reply.error as { message: string }).message, /repeat/);
        // Same with args first and the keys apart.
        const apart = cborMap([
          ['cmd', first],
          ['args', VALID_ARGS[first]],
          ['id', 2],
          ['cmd', second],
        ]);
        t.is(code(await r.roundTrip(apart)), 'E_DUPLICATE_KEY', `${first} ... ${second}`);
      }
    }
    t.deepEqual(r.calls, []);
    // The same server still runs well-formed requests.
    t.deepEqual(await r.roundTrip(enc.encode({ id: 3, cmd: 'release' })), { id: 3, ok: true, result: { ran: 'release' } });
    t.deepEqual(r.calls, ['release']);
  } finally {
    await r.close();
  }
});

test('repeated id, args, and keys inside args (at any depth) are refused', async (t) => {
  const r = await rig();
  const cases: Array<[string, Buffer]> = [
    [
      'id twice',
      cborMap([
        ['id', 1],
        ['id', 2],
        ['cmd', 'status'],
      ]),
    ],
    [
      'id twice, same value',
      cborMap([
        ['id', 1],
        ['cmd', 'status'],
        ['id', 1],
      ]),
    ],
    [
      'args twice',
      cborMap([
        ['id', 1],
        ['cmd', 'set'],
        ['args', { path: 'a', value: 1 }],
        ['args', { path: 'b', value: 2 }],
      ]),
    ],
    [
      'path twice in args',
      cborMap([
        ['id', 1],
        ['cmd', 'set'],
        [
          'args',
          cborMap([
            ['path', 'a'],
            ['value', 1],
            ['path', 'b'],
          ]),
        ],
      ]),
    ],
    [
      'value twice in args',
      cborMap([
        ['id', 1],
        ['cmd', 'set'],
        [
          'args',
          cborMap([
            ['path', 'a'],
            ['value', 1],
            ['value', 2],
          ]),
        ],
      ]),
    ],
    [
      'reason twice in args',
      cborMap([
        ['id', 1],
        ['cmd', 'estop'],
        [
          'args',
          cborMap([
            ['reason', 'a'],
            ['reason', 'b'],
          ]),
        ],
      ]),
    ],
    [
      'nested map',
      cborMap([
        ['id', 1],
        ['cmd', 'echo'],
        [
          'args',
          cborMap([
            [
              'a',
              cborMap([
                [
                  'b',
                  cborMap([
                    ['c', 1],
                    ['c', 2],
                  ]),
                ],
              ]),
            ],
          ]),
        ],
      ]),
    ],
    [
      'map inside a list',
      cborMap([
        ['id', 1],
        ['cmd', 'echo'],
        [
          'args',
          cborMap([
            [
              'a',
              cborArray([
                1,
                cborMap([
                  ['k', 1],
                  ['k', 1],
                ]),
              ]),
            ],
          ]),
        ],
      ]),
    ],
    [
      'unknown key twice',
      cborMap([
        ['id', 1],
        ['cmd', 'status'],
        ['x', 1],
        ['x', 2],
      ]),
    ],
  ];
  try {
    for (const [what, frame] of cases) {
      const reply = await r.roundTrip(frame);
      t.is(code(reply), 'E_DUPLICATE_KEY', what);
      t.is(reply.id, null, what);
    }
    t.deepEqual(r.calls, []);
  } finally {
    await r.close();
  }
});

test('trailing bytes, indefinite lengths and non-plain CBOR are E_MALFORMED and run nothing', async (t) => {
  const r = await rig();
  const ok = enc.encode({ id: 1, cmd: 'status' });
  const h = (hex: string): Buffer => Buffer.from(hex.replace(/ /g, ''), 'hex');
  const cases: Array<[string, Buffer, RegExp]> = [
    ['one zero byte after the map', Buffer.concat([ok, h('00')]), /terminals|trailing/],
    ['a second request after the first', Buffer.concat([ok, enc.encode({ id: 2, cmd: 'release' })]), /terminals|trailing/],
    ['a break after the map', Buffer.concat([ok, h('ff')]), /./],
    [
      'indefinite-length request map',
      indefiniteMap([
        ['id', 1],
        ['cmd', 'status'],
      ]),
      /indefinite/,
    ],
    [
      'indefinite-length cmd text',
      cborMap([
        ['id', 1],
        ['cmd', indefiniteText('rel', 'ease')],
      ]),
      /indefinite/,
    ],
    [
      'indefinite-length key',
      cborMap([
        ['id', 1],
        [indefiniteText('c', 'md'), 'status'],
      ]),
      /indefinite/,
    ],
    ['indefinite-length list in args', echoRequest(cborMap([['a', indefiniteArray(1, 2)]])), /indefinite/],
    ['indefinite-length map in args', echoRequest(indefiniteMap([['a', 1]])), /indefinite/],
    ['indefinite-length byte string', echoRequest(cborMap([['a', h('5f 4101 ff')]])), /indefinite/],
    [
      'a tag on the id',
      cborMap([
        ['id', h('c1 01')],
        ['cmd', 'status'],
      ]),
      /tag/,
    ],
    ['a date in args', echoRequest({ when: new Date(0) }), /tag/],
    ['a typed array in args', echoRequest({ a: new Float32Array(2) }), /tag/],
    ['undefined', echoRequest(cborMap([['a', h('f7')]])), /undefined/],
    ['a simple value', echoRequest(cborMap([['a', h('e0')]])), /simple/],
    [
      'an integer key',
      cborMap([
        ['id', 1],
        ['cmd', 'status'],
        [1, 2],
      ]),
      /keys must be text/,
    ],
    [
      'a list as a key',
      cborMap([
        ['id', 1],
        ['cmd', 'status'],
        [[1], 2],
      ]),
      /keys must be text/,
    ],
    ['a byte string', echoRequest({ a: Buffer.from([1, 2]) }), /byte strings/],
    [
      'an id in more bytes than needed',
      cborMap([
        ['id', h('18 01')],
        ['cmd', 'status'],
      ]),
      /more bytes/,
    ],
    [
      'a length in more bytes than needed',
      cborMap([
        ['id', 1],
        ['cmd', h('78 06 737461747573')],
      ]),
      /more bytes/,
    ],
    ['NaN', echoRequest(cborMap([['a', h('f9 7e00')]])), /NaN/],
    ['infinity', echoRequest(cborMap([['a', h('f9 7c00')]])), /Infinity/],
    [
      'an integer beyond 2^53',
      cborMap([
        ['id', h('1b 0020000000000001')],
        ['cmd', 'status'],
      ]),
      /safe integer/,
    ],
    [
      'invalid UTF-8 in cmd',
      cborMap([
        ['id', 1],
        ['cmd', h('66 737461747573').fill(0xff, 6)],
      ]),
      /UTF-8/,
    ],
    ['nested too deep', echoRequest(cborMap([['a', Buffer.concat([Buffer.alloc(20, 0x81), h('00')])]])), /deeper/],
    ['60,000 levels of nesting', Buffer.concat([h('a1 6161'), Buffer.alloc(60_000, 0x81), h('00')]), /deeper/],
    ['an empty frame', Buffer.alloc(0), /./],
    ['a truncated map', ok.subarray(0, ok.length - 2), /./],
  ];
  try {
    for (const [what, frame, why] of cases) {
      t.true(strictViolations(frame).size > 0, `the oracle agrees: ${what}`);
      const reply = await r.roundTrip(frame);
      t.is(code(reply), 'E_MALFORMED', what);
      t.is(reply.id, null, what);
      t.regex((reply.error as { message: string }).message, why, what);
    }
    t.deepEqual(r.calls, []);
    // Plain values of every kind still get through.
    const plain = { a: [1, -2, 1.5, 'x', true, false, null, { b: {} }], __proto__x: 'y', proto: '__proto__' };
    t.deepEqual(await r.roundTrip(enc.encode({ id: 'p', cmd: 'echo', args: plain })), { id: 'p', ok: true, result: plain });
    // A "__proto__" key would set the decoded object's prototype (and hide a repeat of it).
    for (const frame of [
      cborMap([
        ['id', 'q'],
        ['cmd', 'echo'],
        ['args', cborMap([['__proto__', { polluted: true }]])],
      ]),
      cborMap([
        ['id', 'q'],
        ['cmd', 'status'],
        ['__proto__', 1],
        ['__proto__', 2],
      ]),
    ]) {
      const reply = await r.roundTrip(frame);
      t.is(code(reply), 'E_MALFORMED');
      t.regex((reply.error as { message: string }).message, /__proto__/);
    }
    t.deepEqual(r.calls, ['echo']);
  } finally {
    await r.close();
  }
});

/** The runtime's own command handlers on a stand-in latch: what `release` moves is the loop. */
function latchTarget(): { target: ControlTarget; latch: { latched: boolean; releases: number } } {
  const latch = { latched: false, releases: 0 };
  const loop = {
    get safe() {
      return latch.latched;
    },
    estop: () => void (latch.latched = true),
    release: () => {
      latch.releases++;
      latch.latched = false;
    },
    enterSafe: () => void (latch.latched = true),
  };
  let state: RuntimeState = 'running';
  const target: ControlTarget = {
    get state() {
      return state;
    },
    set state(s: RuntimeState) {
      state = s;
    },
    loop: loop as unknown as ControlLoop,
    actuators: null,
    source: { pause: async () => {}, resume: async () => {} },
    features: { setFeature: () => false },
    status: () => ({ safe: latch.latched }),
    switchModel: () => Promise.reject(new Error('not in this test')),
    event: () => {},
  };
  return { target, latch };
}

test('with an e-stop latched, {cmd: status, cmd: release} in either order releases nothing', async (t) => {
  const srv = new ControlServer({ endpoints: [bindEndpoint('ipc')], logger: nullLogger() });
  const { target, latch } = latchTarget();
  registerControl(srv, target);
  const [ep] = await srv.start();
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(ep!);
  const roundTrip = async (frame: Buffer): Promise<Record<string, unknown>> => {
    await dealer.send(frame);
    return dec.decode((await dealer.receive())[0]!) as Record<string, unknown>;
  };
  try {
    t.deepEqual(await roundTrip(enc.encode({ id: 1, cmd: 'estop', args: { reason: 'test' } })), { id: 1, ok: true, result: { safe: true } });
    t.true(latch.latched);
    for (const frame of [
      cborMap([
        ['id', 2],
        ['cmd', 'status'],
        ['cmd', 'release'],
      ]),
      cborMap([
        ['id', 3],
        ['cmd', 'release'],
        ['cmd', 'status'],
      ]),
      cborMap([
        ['id', 4],
        ['cmd', 'status'],
        ['args', {}],
        ['cmd', 'release'],
        ['args', {}],
      ]),
      Buffer.concat([enc.encode({ id: 5, cmd: 'status' }), enc.encode({ id: 6, cmd: 'release' })]),
      indefiniteMap([
        ['id', 7],
        ['cmd', 'release'],
      ]),
    ]) {
      const reply = await roundTrip(frame);
      t.is(reply.ok, false);
      t.not(reply.ok === true && (reply.result as { safe?: boolean }).safe, true);
    }
    t.true(latch.latched, 'still latched');
    t.is(latch.releases, 0);
    t.deepEqual(await roundTrip(enc.encode({ id: 8, cmd: 'status' })), { id: 8, ok: true, result: { safe: true } });
    t.is(srv.counters.get('duplicate_keys'), 3);
  } finally {
    dealer.close();
    await srv.close();
  }
});
