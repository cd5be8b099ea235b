/**
 * How the host splits the 16-bit req_id space (docs/protocol.md: the device echoes whatever
 * req_id it gets, so this is a host-side convention on top of protocol v1, not part of it).
 */

/**
 * req_ids from here up to 0xFFFE are the control loop's: its worker writes ACTUATE frames
 * straight to the port's fd (docs/loop.md). The link numbers its own commands below, so
 * it never mistakes one of those replies for the answer to a command it is waiting on.
 */
export const LOOP_REQ_ID_BASE = 0x8000;
/**
 * The main thread's safe frame: the worker cycles through LOOP_REQ_ID_BASE..LOOP_REQ_ID_MAIN-1
 * and never uses this one.
 */
export const LOOP_REQ_ID_MAIN = 0xfffe;
