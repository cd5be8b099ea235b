/** Error codes of actuators, their limits and the output mapping (docs/errors.md, "actuate"). */
export const ActuateCodes = {
  /** An actuator definition in the board file is incomplete or contradicts its `via`. */
  config: 'E_ACTUATOR_CONFIG',
  /** An actuator's min/max/safe/slewPerS limits are not a safe, consistent set. */
  limits: 'E_ACTUATOR_LIMITS',
  /** No backend (GPIO chip, PWM, bridge link) was given for an actuator that needs one. */
  backend: 'E_ACTUATOR_BACKEND',
  /** One or more actuators could not be put in their safe state. */
  safeFailed: 'E_SAFE_FAILED',
  /** An output-mapping entry names an actuator the board does not have. */
  mapActuator: 'E_MAP_ACTUATOR',
  /** An output-mapping entry names an output the model does not have. */
  mapOutput: 'E_MAP_OUTPUT',
  /** Two output-mapping entries drive the same actuator. */
  mapDuplicate: 'E_MAP_DUPLICATE',
  /** An output-mapping entry's scale or offset is not a finite number. */
  mapLinear: 'E_MAP_LINEAR',
} as const;
