import test from 'ava';
import { followActuatorFd } from '../src/runtime/loop-setup.js';
import type { Source } from '../src/runtime/source.js';

/** Just the part of a Source that followActuatorFd reads. */
function fdSource(): { source: Source; emit: (fd: number) => void; listeners: () => number } {
  const ls = new Set<(fd: number) => void>();
  const source = {
    onActuatorFd(l: (fd: number) => void) {
      ls.add(l);
      return () => ls.delete(l);
    },
  } as Partial<Source> as Source;
  return { source, emit: (fd) => ls.forEach((l) => l(fd)), listeners: () => ls.size };
}

// Regression: a board whose worker drives GPIO/PWM lines on a source with no serial fd (a Cyton
// with GPIO actuators) threw a TypeError here, after the loop had started, leaving it running.
test('a worker driving lines on a source without a serial fd follows nothing, and does not throw', (t) => {
  const fds: number[] = [];
  t.is(followActuatorFd({ inWorker: true, fdSource: null }, { setBridgeFd: (fd) => fds.push(fd) }), null);
  t.deepEqual(fds, []);
});

test('a worker writing ACTUATE frames follows the port fd as it changes until unsubscribed', (t) => {
  const s = fdSource();
  const fds: number[] = [];
  const off = followActuatorFd({ inWorker: true, fdSource: s.source }, { setBridgeFd: (fd) => fds.push(fd) });
  s.emit(7);
  s.emit(-1); // port closing
  s.emit(9); // reconnected
  t.deepEqual(fds, [7, -1, 9]);
  t.not(off, null);
  off!();
  t.is(s.listeners(), 0);
  s.emit(11);
  t.deepEqual(fds, [7, -1, 9]);
});

test('when the main thread drives the actuators, the fd is not followed', (t) => {
  const s = fdSource();
  t.is(followActuatorFd({ inWorker: false, fdSource: s.source }, { setBridgeFd: () => t.fail() }), null);
  t.is(s.listeners(), 0);
});
