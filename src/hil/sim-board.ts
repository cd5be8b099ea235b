/**
 * The board a HIL phase runs on. On the simulated board, the host firmware gets what a lab
 * wires by hand: the loopback jumper (--loopback ACT:CH), an actuator log to read the
 * outputs from (--actuator-log), and an unplug button (--fault-on-usr1/2: a signal pulls the
 * cable, silences the host or stalls the stream). A board's own such flag or --actuator-log wins, so a
 * test can give it a link that never comes back. Hardware boards are used as they are.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BoardDef, HilDef } from '../boards/types.js';
import { loadBoard } from '../boards/load.js';
import { DEFAULT_UNPLUG_MS } from './limits.js';

export interface PhaseBoard {
  board: BoardDef;
  /** The file it was written to (the runtime loads boards by file). */
  file: string;
  simulated: boolean;
  /** The simulated firmware's actuator log, null on hardware. */
  actuatorLog: string | null;
}

export function isSimulated(board: BoardDef): boolean {
  return board.source.kind === 'bridge' && board.source.transport === 'sim';
}

/** `faults`: what SIGUSR1 and SIGUSR2 do to the simulated firmware in this phase (KIND:PARAM). */
export function phaseBoard(board: BoardDef, hil: HilDef, phase: string, dir: string, faults: { usr1?: string; usr2?: string }): PhaseBoard {
  const src = board.source;
  if (!(src.kind === 'bridge' && src.transport === 'sim')) return { board, file: board.file ?? '', simulated: false, actuatorLog: null };
  const args = [...(src.firmwareArgs ?? [])];
  const has = (flag: string): number => args.indexOf(flag);
  let actuatorLog = has('--actuator-log') >= 0 ? args[has('--actuator-log') + 1]! : null;
  if (actuatorLog === null) {
    actuatorLog = join(dir, `actuators-${phase}.log`);
    args.push('--actuator-log', actuatorLog);
  }
  if (faults.usr1 && has('--fault-on-usr1') < 0) args.push('--fault-on-usr1', faults.usr1);
  if (faults.usr2 && has('--fault-on-usr2') < 0) args.push('--fault-on-usr2', faults.usr2);
  const lb = hil.loopback;
  const act = lb && board.actuators.find((a) => a.name === lb.actuator);
  if (lb && act?.channel !== undefined && has('--loopback') < 0) args.push('--loopback', `${act.channel}:${lb.channel}`);
  const { file: _file, ...def } = board;
  const file = join(dir, `board-${phase}.json`);
  writeFileSync(file, JSON.stringify({ ...def, source: { ...src, firmwareArgs: args } }, null, 2));
  return { board: loadBoard(file), file, simulated: true, actuatorLog };
}

export function unplugMs(hil: HilDef): number {
  return hil.unplugMs ?? DEFAULT_UNPLUG_MS;
}
