/**
 * Board definition: the JSON files in the top-level `boards/` folder.
 * A board names its source, where its pins are (chip label + line offset, never a
 * global GPIO number), and its actuators with their limits and safe states.
 */
export type SourceDef =
  /**
   * `firmwareArgs`: extra host-firmware flags (seed, mains, faults, dump/truth/actuator-log files; see
   * firmware-args.ts for the list); flags the board or runtime sets (rate, channels, block, link) are refused.
   * Relative file paths are resolved from the board file's directory when it is loaded.
   */
  | { kind: 'bridge'; transport: 'sim'; rate: number; channels: number; blockSamples?: number; firmwareArgs?: string[] }
  | { kind: 'bridge'; transport: 'serial'; path: string; baudRate?: number; rate: number; channels: number; blockSamples?: number }
  | { kind: 'cyton'; path: string; baudRate?: number; gain?: number };

export interface LineRef {
  /** gpiochip label as the kernel reports it (e.g. "pinctrl-bcm2711"), not a /dev/gpiochipN number. */
  chip: string;
  /** Line offset within that chip. */
  line: number;
  activeLow?: boolean;
}

export type ActuatorKind = 'digital' | 'pwm' | 'servo';

export interface ActuatorDef {
  name: string;
  kind: ActuatorKind;
  /** Which backend drives it: the firmware bridge's ACTUATE, a GPIO line, a sysfs PWM channel, or a simulated sink. */
  via: 'bridge' | 'gpio' | 'sysfs-pwm' | 'sim';
  /** bridge: actuator channel number on the device. */
  channel?: number;
  /** gpio: the line. */
  line?: LineRef;
  /** sysfs-pwm: chip label/path and channel index. */
  pwm?: { chip: string; channel: number; periodNs: number };
  /** Command range in the actuator's unit (servo: pulse µs; pwm: duty 0..1; digital: 0/1). */
  min: number;
  max: number;
  /** Max change per second in the same unit; Infinity allowed for digital. */
  slewPerS: number;
  /** Value commanded in the safe state. */
  safe: number;
  unit: string;
}

export interface BoardDef {
  id: string;
  /** The file it was read from (start-up errors name it); absent for a definition built in code. */
  file?: string;
  name: string;
  source: SourceDef;
  /** Optional tracker feed built into the board (the sim's ground truth). */
  tracker?: { kind: 'bridge'; dims: number; names: string[]; unit: string };
  /** Pins by role, e.g. { "estop": {...} }. */
  pins?: Record<string, LineRef>;
  actuators: ActuatorDef[];
}
