import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { DisconnectedError } from '../src/core/errors.js';
import { openNodeSerial } from '../src/hal/serial-node.js';

/**
 * A pseudo-terminal held by a small Python process: it prints the slave's path, then
 * obeys lines on stdin: `expect N` (read N bytes from the master and print them as hex),
 * `send HEX` (write to the master), `hangup` (close the master and exit).
 */
const PTY_HELPER = String.raw`
import os, pty, sys, tty
m, s = pty.openpty()
tty.setraw(s)
print("PTY " + os.ttyname(s), flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "expect":
        n = int(cmd[1]); got = b""
        while len(got) < n:
            got += os.read(m, n - len(got))
        print("GOT " + got.hex(), flush=True)
    elif cmd[0] == "send":
        os.write(m, bytes.fromhex(cmd[1]))
        print("SENT", flush=True)
    elif cmd[0] == "hangup":
        os.close(m)
        print("CLOSED", flush=True)
        break
`;

async function startPty() {
  const proc = spawn('/usr/bin/python3', ['-c', PTY_HELPER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error('pty helper exited early');
    return r.value;
  };
  const first = await next();
  if (!first.startsWith('PTY ')) throw new Error(`pty helper said ${first}`);
  return { path: first.slice(4), proc, next, cmd: (s: string) => proc.stdin.write(s + '\n') };
}

test('bytes cross a pseudo-terminal unchanged both ways, and a hang-up is a DisconnectedError', async (t) => {
  const pty = await startPty();
  t.teardown(() => pty.proc.kill());
  const port = await openNodeSerial({ path: pty.path, baudRate: 115200 });
  t.true(port.isOpen);
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);

  pty.cmd('expect 256');
  await port.write(all);
  t.is(await pty.next(), 'GOT ' + Buffer.from(all).toString('hex'));

  const received: number[] = [];
  const gotAll = new Promise<void>((resolve) =>
    port.onData((chunk) => {
      received.push(...chunk);
      if (received.length >= 256) resolve();
    }),
  );
  const reversed = Uint8Array.from(all).reverse();
  pty.cmd('send ' + Buffer.from(reversed).toString('hex'));
  await gotAll;
  t.deepEqual(Uint8Array.from(received), reversed);

  const closed = new Promise<Error | null>((resolve) => port.onClose(resolve));
  pty.cmd('hangup');
  const err = await closed;
  t.true(err instanceof DisconnectedError, String(err));
  t.is((err as DisconnectedError).code, 'E_DISCONNECTED');
  t.false(port.isOpen);
  await t.throwsAsync(port.write(Uint8Array.of(1)), { instanceOf: DisconnectedError });
  await port.close();
});

test('close() is idempotent and reports a clean close with null', async (t) => {
  const pty = await startPty();
  t.teardown(() => pty.proc.kill());
  const port = await openNodeSerial({ path: pty.path, baudRate: 115200 });
  const reasons: (Error | null)[] = [];
  port.onClose((e) => reasons.push(e));
  await Promise.all([port.close(), port.close()]);
  await port.close();
  t.deepEqual(reasons, [null]);
  t.false(port.isOpen);
  pty.cmd('hangup');
  await once(pty.proc, 'exit');
});

test('a pty whose master closes while nothing is being read is noticed as a hang-up', async (t) => {
  const pty = await startPty();
  t.teardown(() => pty.proc.kill());
  const port = await openNodeSerial({ path: pty.path, baudRate: 115200 });
  const closed = new Promise<Error | null>((resolve) => port.onClose(resolve));
  // Data immediately followed by the hang-up: the slave then reads 0 bytes forever,
  // which serialport alone never reports.
  pty.cmd('send 0102030405');
  pty.cmd('hangup');
  const err = await closed;
  t.true(err instanceof DisconnectedError);
  t.regex(err!.message, /hung up|failed/);
});

test('opening a missing device rejects with a DisconnectedError that says what to check', async (t) => {
  const err = await t.throwsAsync(openNodeSerial({ path: '/dev/does-not-exist-reflex', baudRate: 115200 }), { instanceOf: DisconnectedError });
  t.regex(err.message, /does-not-exist-reflex/);
  t.regex(err.message, /plugged in/);
});
