/** Functions a SPAWNed fragment loads by module path in test/program-external.test.ts. */
import { threadId } from 'node:worker_threads';
import { FunctionRegistry } from '../src/program/index.js';

export const functions = new FunctionRegistry({
  where: () => ({ pid: process.pid, thread: threadId }),
  square: (_c, x) => (x as number) * (x as number),
  fail: () => {
    throw new Error('fragment failure');
  },
});
