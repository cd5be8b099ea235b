import test from 'ava';
import { Listeners } from '../src/core/listeners.js';

test('emit calls listeners in the order they were added; the returned function removes one', (t) => {
  const l = new Listeners<number>();
  const seen: string[] = [];
  const offA = l.add((v) => seen.push(`a${v}`));
  l.add((v) => seen.push(`b${v}`));
  l.emit(1);
  offA();
  l.emit(2);
  t.deepEqual(seen, ['a1', 'b1', 'b2']);
  t.is(l.size, 1);
});

test('an emit calls exactly the listeners present when it began', (t) => {
  const l = new Listeners<number>();
  const seen: string[] = [];
  let offB = (): void => {};
  l.add(() => {
    seen.push('a');
    offB();
    l.add(() => seen.push('late'));
  });
  offB = l.add(() => seen.push('b'));
  l.emit(0);
  t.deepEqual(seen, ['a', 'b']);
  seen.length = 0;
  l.emit(0);
  t.deepEqual(seen, ['a', 'late']);
});

test('a listener that throws stops the emit and the error reaches the caller', (t) => {
  const l = new Listeners<void>();
  let after = 0;
  l.add(() => {
    throw new Error('listener failed');
  });
  l.add(() => after++);
  t.throws(() => l.emit(), { message: 'listener failed' });
  t.is(after, 0);
});
