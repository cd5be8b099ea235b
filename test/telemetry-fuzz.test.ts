import test from 'ava';
import fc from 'fast-check';
import { Dealer } from 'zeromq';
import { nullLogger } from '../src/core/log.js';
import { createDecoder, createEncoder } from '../src/telemetry/codec.js';
import { CONTROL_COMMANDS } from '../src/telemetry/control-protocol.js';
import { ControlServer } from '../src/telemetry/control-server.js';
import { cborArray, cborMap, strictViolations } from './telemetry-control-cbor.js';
import { bindEndpoint } from './telemetry-helpers.js';

const enc = createEncoder();
const dec = createDecoder();

/** Independent statement of what each handler may receive (not the server's own checker). */
function argsAreValid(cmd: string, a: unknown): boolean {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return false;
  const o = a as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  switch (cmd) {
    case 'start':
    case 'stop':
    case 'release':
    case 'status':
      return keys === '';
    case 'set':
      return (
        keys === 'path,value' &&
        typeof o.path === 'string' &&
        /^[A-Za-z_]/.test(o.path) &&
        !o.path.includes('/') &&
        ((typeof o.value === 'number' && Number.isFinite(o.value)) || typeof o.value === 'boolean' || typeof o.value === 'string')
      );
    case 'model':
      return keys === 'dir' && typeof o.dir === 'string' && o.dir.length > 0;
    case 'estop':
      return (keys === '' || keys === 'reason') && (o.reason === undefined || typeof o.reason === 'string');
    default:
      return false;
  }
}

async function setup(): Promise<{
  srv: ControlServer;
  dealer: Dealer;
  violations: string[];
  calls: () => number;
  roundTrip: (payload: Buffer) => Promise<unknown>;
}> {
  // Rates out of the way: these tests are about what a handler may see, not about floods.
  const unlimited = { perSecond: 1e9, burst: 1e9 };
  const srv = new ControlServer({
    endpoints: [bindEndpoint('ipc')],
    logger: nullLogger(),
    rate: { reads: unlimited, peer: unlimited, global: unlimited, priorityPeer: unlimited, priorityGlobal: unlimited },
  });
  const violations: string[] = [];
  let calls = 0;
  for (const cmd of CONTROL_COMMANDS) {
    srv.handle(cmd, (args: unknown) => {
      calls++;
      if (!argsAreValid(cmd, args)) violations.push(`${cmd} ${JSON.stringify(args)}`);
      return { ok: cmd };
    });
  }
  const [ep] = await srv.start();
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(ep!);
  const roundTrip = async (payload: Buffer): Promise<unknown> => {
    await dealer.send(payload);
    const frames = await dealer.receive();
    return dec.decode(frames[0]!);
  };
  return { srv, dealer, violations, calls: () => calls, roundTrip };
}

/**
 * A frame the strict rules refuse (telemetry-control-cbor.ts says which, independently of the
 * server) must get E_MALFORMED, or E_DUPLICATE_KEY when a key repeats, with id null, and run
 * nothing; a frame they accept must not be refused as malformed.
 */
function strictnessHolds(payload: Uint8Array, reply: Record<string, unknown>, handlerRan: boolean): boolean {
  const v = strictViolations(payload);
  const code = reply.ok === false ? (reply.error as { code: string }).code : undefined;
  const refusedAsCbor = code === 'E_MALFORMED' || code === 'E_DUPLICATE_KEY';
  if (v.size === 0) return !refusedAsCbor;
  if (handlerRan || reply.id !== null || !refusedAsCbor) return false;
  return code !== 'E_DUPLICATE_KEY' || v.has('duplicate-key');
}

function isWellFormedReply(r: unknown): boolean {
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Record<string, unknown>;
  if (o.ok === true) return 'result' in o && (typeof o.id === 'string' || typeof o.id === 'number');
  if (o.ok !== false) return false;
  const e = o.error as Record<string, unknown> | undefined;
  return typeof e?.code === 'string' && typeof e.message === 'string';
}

test('random bytes never crash the server and always get an error reply or a valid reply', async (t) => {
  const { srv, dealer, violations, calls, roundTrip } = await setup();
  try {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 512 }), async (bytes) => {
        const before = calls();
        const reply = await roundTrip(Buffer.from(bytes));
        if (!isWellFormedReply(reply)) return false;
        // An empty frame is not a CBOR item at all; the oracle's truncation covers it.
        return strictnessHolds(bytes, reply as Record<string, unknown>, calls() !== before);
      }),
      { numRuns: 400 },
    );
    t.deepEqual(violations, []);
    // Still alive and answering properly afterwards.
    t.deepEqual(await roundTrip(enc.encode({ id: 7, cmd: 'status' })), { id: 7, ok: true, result: { ok: 'status' } });
  } finally {
    dealer.close();
    await srv.close();
  }
});

test('random CBOR values and near-miss requests: one reply each, ids echoed, handlers only see valid args', async (t) => {
  const { srv, dealer, violations, calls, roundTrip } = await setup();
  const cmd = fc.oneof(fc.constantFrom(...CONTROL_COMMANDS, 'nope'), fc.string({ maxLength: 10 }), fc.anything());
  const id = fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.anything());
  const args = fc.oneof(
    fc.constant(undefined),
    fc.record({ path: fc.oneof(fc.constantFrom('gains.wrist', 'a', '../x', ''), fc.anything()), value: fc.anything() }, { requiredKeys: [] }),
    fc.record({ dir: fc.anything(), reason: fc.anything() }, { requiredKeys: [] }),
    fc.dictionary(fc.string({ maxLength: 6 }), fc.anything(), { maxKeys: 4 }),
    fc.anything(),
  );
  const request = fc.oneof(fc.record({ id, cmd, args }, { requiredKeys: [] }), fc.anything({ withTypedArray: true, withMap: true, withDate: true }));
  try {
    await fc.assert(
      fc.asyncProperty(request, async (value) => {
        let payload: Buffer;
        try {
          payload = enc.encode(value);
        } catch {
          return true; // not encodable by the sender, so nothing was sent
        }
        const before = calls();
        const reply = (await roundTrip(payload)) as Record<string, unknown>;
        if (!isWellFormedReply(reply)) return false;
        // A handler ran exactly when the reply is a success.
        if (calls() - before !== (reply.ok === true ? 1 : 0)) return false;
        if (!strictnessHolds(payload, reply, calls() !== before)) return false;
        if (strictViolations(payload).size > 0) return true;
        // What the server sees after CBOR (Maps become objects, -0 may become 0): decode it the same way.
        let seen: unknown;
        try {
          seen = dec.decode(payload);
        } catch {
          seen = undefined;
        }
        const sentId = typeof seen === 'object' && seen !== null && !Array.isArray(seen) ? (seen as { id?: unknown }).id : undefined;
        const validId =
          (typeof sentId === 'string' && sentId.length > 0 && sentId.length <= 128) || (typeof sentId === 'number' && Number.isSafeInteger(sentId));
        return validId ? reply.id === sentId : reply.id === null;
      }),
      { numRuns: 600 },
    );
    t.deepEqual(violations, []);
    t.like(await roundTrip(enc.encode({ id: 'after', cmd: 'set', args: { path: 'gains.wrist', value: 2 } })), { id: 'after', ok: true });
  } finally {
    dealer.close();
    await srv.close();
  }
});

test('raw maps with repeated keys at any depth: refused with E_DUPLICATE_KEY, no handler runs', async (t) => {
  const { srv, dealer, violations, calls, roundTrip } = await setup();
  // Few key names, so repeats are common; leaves are plain, so a repeat is the only fault.
  const key = fc.constantFrom('id', 'cmd', 'args', 'path', 'value', 'dir', 'reason');
  const leaf = fc
    .oneof(fc.constantFrom(...CONTROL_COMMANDS), fc.integer({ min: -5, max: 5 }), fc.string({ maxLength: 6 }), fc.boolean(), fc.constant(null))
    .map((v) => enc.encode(v));
  const tree = fc.letrec<{ node: Buffer; map: Buffer; list: Buffer }>((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, tie('map'), tie('list')),
    map: fc.array(fc.tuple(key, tie('node')), { maxLength: 4 }).map((es) => cborMap(es)),
    list: fc.array(tie('node'), { maxLength: 3 }).map((xs) => cborArray(xs)),
  }));
  const request = fc.array(fc.tuple(key, fc.oneof(leaf, tree.map, tree.node)), { minLength: 1, maxLength: 6 }).map((es) => cborMap(es));
  let repeats = 0;
  try {
    await fc.assert(
      fc.asyncProperty(request, async (frame) => {
        const before = calls();
        const reply = (await roundTrip(frame)) as Record<string, unknown>;
        if (!isWellFormedReply(reply) || !strictnessHolds(frame, reply, calls() !== before)) return false;
        const v = strictViolations(frame);
        if (!v.has('duplicate-key')) return true;
        repeats++;
        return v.size > 1 || (reply.error as { code: string }).code === 'E_DUPLICATE_KEY';
      }),
      { numRuns: 500 },
    );
    t.true(repeats > 100, `only ${repeats} frames had a repeated key`);
    t.deepEqual(violations, []);
  } finally {
    dealer.close();
    await srv.close();
  }
});
