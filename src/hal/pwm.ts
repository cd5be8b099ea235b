/**
 * A PWM channel (Linux sysfs PWM: /sys/class/pwm/pwmchipN/pwmM). Synchronous for the
 * same reason as GPIO writes: the loop worker calls it inside its cycle.
 */
export interface PwmRef {
  /** Chip as a label/device name the backend resolves (e.g. "fe20c000.pwm"), or a path for tests. */
  chip: string;
  channel: number;
}

export interface PwmChannel {
  readonly ref: PwmRef;
  setPeriodNs(ns: number): void;
  setDutyNs(ns: number): void;
  enable(on: boolean): void;
  close(): void;
}

export interface PwmProvider {
  readonly name: string;
  open(ref: PwmRef): PwmChannel;
}
