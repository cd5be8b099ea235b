/**
 * Board definition: the JSON files in the top-level `boards/` folder.
 * A board names its source, where its pins are (chip label or controller device + line offset, never a
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
  /** `daisy`: a Daisy module is attached and decoded, 16 channels at 125 Hz (default false: 8 at 250 Hz). */
  | { kind: 'cyton'; path: string; baudRate?: number; gain?: number; daisy?: boolean }
  /**
   * An ADS1299 on the board's SPI bus (`spi`, with its `pins` data-ready line): channels 1..channels are on, the rest
   * powered down. `gain`/`input` apply to every channel; `gains`/`inputs` (one entry per channel) override them.
   */
  | {
      kind: 'ads1299';
      rate: Ads1299Rate;
      channels: number;
      gain?: Ads1299Gain;
      input?: Ads1299Input;
      gains?: Ads1299Gain[];
      inputs?: Ads1299Input[];
      blockSamples?: number;
    };

/** ADS1299 data rates (CONFIG1 DR[2:0]), samples per second. */
export type Ads1299Rate = 250 | 500 | 1000 | 2000 | 4000 | 8000 | 16000;
/** ADS1299 PGA gains (CHnSET GAIN[2:0]). */
export type Ads1299Gain = 1 | 2 | 4 | 6 | 8 | 12 | 24;
/** ADS1299 channel input (CHnSET MUX[2:0]): the electrodes, inputs shorted (noise, offset) or the internal test signal. */
export type Ads1299Input = 'normal' | 'shorted' | 'test';

export interface LineRef {
  /**
   * gpiochip label (gpiodetect, e.g. "pinctrl-bcm2711") or controller device name (e.g. "44e07000.gpio");
   * must match exactly one chip; never a /dev/gpiochipN or global number.
   */
  chip: string;
  /** Line offset within that chip. */
  line: number;
  activeLow?: boolean;
  /** Where the line is on the board's header (e.g. "J8-11", "P9_12"): for people wiring it, never used to open it. */
  header?: string;
}

/**
 * An SPI ADC's wiring (ADS1299-class): the `ads1299` source opens `device` (a `fake:` device is the in-process
 * model, src/hal/spi-fake.ts) and watches the `pins` role `dataReady` for its falling edges.
 */
export interface SpiDef {
  /** spidev node, e.g. "/dev/spidev0.0" (bus.chipSelect); "fake:ads1299" is the simulated ADC (tests, demos). */
  device: string;
  bus: number;
  chipSelect: number;
  /** SPI mode 0..3 (the ADS1299 uses mode 1). */
  mode: number;
  maxSpeedHz: number;
  /** Role in `pins` of the data-ready line. */
  dataReady: string;
  /** The ADC part, e.g. "ads1299". */
  adc?: string;
  lines: { sclk: LineRef; mosi: LineRef; miso: LineRef; cs: LineRef };
}

/** The board's own UART, an alternative to USB for the bridge link. */
export interface UartDef {
  device: string;
  tx: LineRef;
  rx: LineRef;
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
  pwm?: { chip: string; channel: number; periodNs: number; header?: string };
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
  /** Pins by role, e.g. { "estop": {...}, "dataReady": {...} }. */
  pins?: Record<string, LineRef>;
  spi?: SpiDef;
  uart?: UartDef;
  /** Where the pin facts come from (datasheets, pinouts, kernel sources). */
  notes?: string[];
  actuators: ActuatorDef[];
  /** Limits and wiring of `reflex hil` (docs/hil.md); absent: the board has not been set up for it. */
  hil?: HilDef;
}

/** The loopback jumper: a bridge actuator's output wired to an EMG input. */
export interface HilLoopback {
  /** Name of a bridge actuator of the board. */
  actuator: string;
  /** EMG input channel, 0-based, below source.channels. */
  channel: number;
}

/** `reflex hil` limits (boards/board.schema.json, `$defs.hil`). */
export interface HilDef {
  /** Largest sample-rate error against the host clock, ppm. */
  ratePpm: number;
  /** Loopback latency limits, ms: 99th percentile and largest. */
  loopbackP99Ms: number;
  loopbackMaxMs: number;
  /** Longest time from the device coming back to samples flowing again, ms. */
  reconnectMaxMs: number;
  /** Stale input puts every actuator safe within this many loop periods after the stale limit. */
  hostWatchdogPeriods: number;
  /** The firmware's own watchdog timeout, ms. */
  firmwareWatchdogMs: number;
  /** Longest time from an e-stop to the safe state, ms. */
  estopMaxMs: number;
  /** Simulated board: how long the injected unplug keeps the cable out, ms (default 300). */
  unplugMs?: number;
  loopback?: HilLoopback;
}
