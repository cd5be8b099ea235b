import test from 'ava';
import { loadBoard } from '../src/boards/load.js';
import { CYTON_BAUD, CYTON_DEFAULT_GAIN } from '../src/devices/cyton/format.js';

test('boards/openbci-cyton.json loads as a cyton source at 115200 with the default gain', (t) => {
  const board = loadBoard('openbci-cyton');
  t.is(board.id, 'openbci-cyton');
  t.deepEqual(board.source, { kind: 'cyton', path: '/dev/ttyUSB0', baudRate: CYTON_BAUD, gain: CYTON_DEFAULT_GAIN });
  t.deepEqual(board.actuators, []);
});
