/** What the board's reply to `v` means for a session, and the errors a handshake ends with (docs/cyton.md, "Session"). */
import { ReflexError } from '../../core/errors.js';
import { CytonCodes } from './codes.js';

/** A handshake that cannot go on: the counter it is counted in, a log key, and the error that ends the session. */
export interface HandshakeProblem {
  counter: 'no_board' | 'handshake_failures';
  logKey: string;
  error: ReflexError;
}

/** The firmware prints "On Daisy ADS1299 Device ID: 0x3E" after `v` when it found a Daisy. */
export function replyNamesDaisy(reply: string): boolean {
  return /daisy/i.test(reply);
}

/**
 * Why a session cannot stream after its soft resets, or null when it can. `ok`: a `$$$` came;
 * `attempts`: resets sent; `daisy`: the board file asks for Cyton + Daisy.
 */
export function resetProblem(path: string, reply: string, ok: boolean, attempts: number, daisy: boolean): HandshakeProblem | null {
  if (!ok) {
    return {
      counter: 'handshake_failures',
      logKey: `cyton-reset-${path}`,
      error: new ReflexError(
        CytonCodes.noReset,
        `no "$$$" from ${path} after ${attempts} soft resets ("v"): ` +
          'check the board is on (switch to PC) and the dongle to GPIO6, and that nothing else has the port open',
      ),
    };
  }
  if (/Failure:|failed to poll Host/i.test(reply)) {
    // The dongle's radio answers for itself when the board is off or out of range.
    return {
      counter: 'no_board',
      logKey: `cyton-noboard-${path}`,
      error: new ReflexError(
        CytonCodes.noBoard,
        `the dongle at ${path} cannot reach the board ("${reply.trim()}"): ` + 'switch the Cyton on (PC), check its battery and keep it near the dongle',
      ),
    };
  }
  if (daisy && !replyNamesDaisy(reply)) {
    return {
      counter: 'handshake_failures',
      logKey: `cyton-nodaisy-${path}`,
      error: new ReflexError(
        CytonCodes.noDaisy,
        `the board at ${path} reports no Daisy module, but the board file asks for 16 channels (source.daisy): ` +
          'seat the Daisy and power-cycle the board, or use the openbci-cyton board',
      ),
    };
  }
  return null;
}

/** No `$$$` after `c` (detach the Daisy) on a board run as 8 channels. */
export function detachProblem(path: string): HandshakeProblem {
  return {
    counter: 'handshake_failures',
    logKey: `cyton-reset-${path}`,
    error: new ReflexError(CytonCodes.noReset, `no "$$$" from ${path} after "c" (detach the Daisy): check the board, or use the openbci-cyton-daisy board`),
  };
}
