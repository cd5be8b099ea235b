import test from 'ava';
import { benchArgs } from '../bench/_util.js';

test('bench flags: "--name value", "--name=value" and a lone "--name"', (t) => {
  const { duration, values } = benchArgs(['--rate', '200', '--clients=3', '--encode-only', '--duration', '2.5', '--quiet'], { duration: 20 });
  t.is(duration, 2.5);
  t.deepEqual(values, { rate: '200', clients: '3', 'encode-only': true, duration: '2.5', quiet: true });
  t.is(benchArgs([], { duration: 20 }).duration, 20);
  t.throws(() => benchArgs(['--duration', '0'], { duration: 20 }), { message: /--duration must be a positive number/ });
});
