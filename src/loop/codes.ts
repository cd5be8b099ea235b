/** Error codes of the control loop and live model switching (docs/errors.md, "loop"). */
export const LoopCodes = {
  /** The loop rate is outside the supported range. */
  rate: 'E_LOOP_RATE',
  /** The overrun policy or maxCatchUp is invalid. */
  policy: 'E_LOOP_POLICY',
  /** A predictor module spec lacks inputSize or outputNames. */
  predictor: 'E_LOOP_PREDICTOR',
  /** The main-thread actuator sink does not fit the loop's actuators, or opens what the worker opens. */
  sink: 'E_LOOP_SINK',
  /** actuateIn is invalid or "worker" without worker backends. */
  actuateIn: 'E_LOOP_ACTUATE_IN',
  /** spinUs is out of range. */
  spin: 'E_LOOP_SPIN',
  /** The loop worker did not become ready in time, or exited before it was ready. */
  start: 'E_LOOP_START',
  /** The loop worker failed with an error that carried no code of its own. */
  worker: 'E_LOOP_WORKER',
  /** The watchdog options are invalid. */
  watchdog: 'E_WATCHDOG',
  /** No loop is running (or it ended), so there is no model to switch or release. */
  noLoop: 'E_NO_LOOP',
} as const;

/** Codes of a live model switch; the old model keeps running after each of them. */
export const SwapCodes = {
  /** Another model switch is under way or completing. */
  busy: 'E_SWAP_BUSY',
  /** A newer switch replaced this one before it took effect. */
  superseded: 'E_SWAP_SUPERSEDED',
  /** No gap between loop cycles was long enough to swap the model in. */
  noGap: 'E_SWAP_NO_GAP',
  /** Building the new predictor failed with an error that carried no code of its own. */
  build: 'E_SWAP_BUILD',
  /** The new model produced a non-finite output on the current window. */
  nonFinite: 'E_SWAP_NON_FINITE',
  /** Checking the new model in its verification worker timed out, crashed or failed. */
  verify: 'E_SWAP_VERIFY',
} as const;
