/**
 * Before `reflex hil` drives anything on real hardware. The loopback step writes commands to
 * an actuator output and the runtime steps arm the loop, so whatever hangs on the board's
 * outputs moves: a prosthesis or a robot arm must be off them first. The simulated board
 * needs no consent; hardware needs a person typing "yes" at the prompt, or, unattended,
 * `--outputs-unloaded` (the rig's owner stating the outputs carry no load). Refused before
 * anything is opened.
 */
import type { BoardDef } from '../boards/types.js';
import { CoreCodes } from '../core/codes.js';
import { ConfigError } from '../core/errors.js';
import type { Operator } from './operator.js';

/** What the person is asked to check: every actuator with its range, one per line. */
export function outputsWarning(board: BoardDef): string {
  const lines = board.actuators.map((a) => `  ${a.name} (${a.kind}, ${a.min}..${a.max} ${a.unit}, safe ${a.safe})`);
  return [
    `reflex hil drives the actuator outputs of board "${board.id}": the loopback step writes commands and the runtime steps arm the loop:`,
    ...lines,
    'Take every load (prosthesis, robot arm, anything that can hurt or break) off these outputs; leave only the loopback jumper.',
  ].join('\n');
}

/**
 * Resolves when driving the outputs is allowed; throws ConfigError (exit 2) otherwise.
 * `unloaded`: the `--outputs-unloaded` flag.
 */
export async function consentToDrive(board: BoardDef, simulated: boolean, unloaded: boolean, operator: Operator, signal: AbortSignal): Promise<void> {
  if (simulated || board.actuators.length === 0 || unloaded) return;
  if (!operator.interactive) {
    throw new ConfigError(
      CoreCodes.usage,
      `board "${board.id}" is hardware and this run is not interactive: nothing was driven. ` +
        'Run `reflex hil` in a terminal and confirm at the prompt, or pass --outputs-unloaded once no load is attached to its actuator outputs',
    );
  }
  const answer = await operator.ask(`${outputsWarning(board)}\nType "yes" when the outputs carry no load:`, signal);
  if (answer.trim().toLowerCase() !== 'yes') {
    throw new ConfigError(CoreCodes.usage, `not confirmed ("${answer.trim()}"): nothing was driven. Type "yes" once the outputs carry no load`);
  }
}
