/** What a board asks of its host, read off its definition. */
import type { BoardDef, LineRef } from '../boards/types.js';
import { SIM_CHIP } from '../hal/gpio-select.js';

/** A line the board names, with where in the board file (for messages). */
export interface NamedLine {
  at: string;
  ref: LineRef;
}

/** Every GPIO line the board names: pins by role, SPI and UART wiring, GPIO actuators. */
export function boardLines(b: BoardDef): NamedLine[] {
  const out: NamedLine[] = Object.entries(b.pins ?? {}).map(([role, ref]) => ({ at: `pins.${role}`, ref }));
  if (b.spi) for (const [k, ref] of Object.entries(b.spi.lines)) out.push({ at: `spi.lines.${k}`, ref });
  if (b.uart) out.push({ at: 'uart.tx', ref: b.uart.tx }, { at: 'uart.rx', ref: b.uart.rx });
  b.actuators.forEach((a, i) => a.line && out.push({ at: `actuators[${i}].line`, ref: a.line }));
  return out;
}

/** Lines on host GPIO chips (the simulated chip needs nothing from the host). */
export function hostLines(b: BoardDef): NamedLine[] {
  return boardLines(b).filter((l) => l.ref.chip !== SIM_CHIP);
}

export interface PwmNeed {
  actuator: string;
  chip: string;
  channel: number;
}

export function pwmNeeds(b: BoardDef): PwmNeed[] {
  return b.actuators.flatMap((a) => (a.via === 'sysfs-pwm' && a.pwm ? [{ actuator: a.name, chip: a.pwm.chip, channel: a.pwm.channel }] : []));
}

/** The serial device the EMG source opens; undefined for the simulated source. */
export function serialPath(b: BoardDef): string | undefined {
  const s = b.source;
  if (s.kind === 'cyton') return s.path;
  if (s.kind === 'ads1299') return undefined;
  return s.transport === 'serial' ? s.path : undefined;
}

/** The simulated board: no hardware, no real-time needs (docs/doctor.md). */
export function isSimulated(b: BoardDef): boolean {
  return b.source.kind === 'bridge' && b.source.transport === 'sim';
}

/**
 * Groups the board's user needs, with why. Raspberry Pi OS gives serial devices to dialout,
 * GPIO chips, sysfs GPIO and exported PWM channels to gpio, spidev nodes to spi, and i2c-dev
 * nodes to i2c; no board opens an I2C bus yet, so i2c is never asked for.
 */
export function neededGroups(b: BoardDef): Array<{ group: string; why: string }> {
  const out: Array<{ group: string; why: string }> = [];
  const serial = serialPath(b);
  if (serial !== undefined) out.push({ group: 'dialout', why: `serial device ${serial}` });
  const lines = hostLines(b).filter((l) => !l.at.startsWith('spi.lines') && !l.at.startsWith('uart.'));
  const pwm = pwmNeeds(b);
  if (lines.length > 0 || pwm.length > 0) {
    const what = [lines.length > 0 && 'GPIO lines', pwm.length > 0 && 'PWM channels'].filter(Boolean).join(' and ');
    out.push({ group: 'gpio', why: what });
  }
  if (b.spi) out.push({ group: 'spi', why: `SPI ADC on ${b.spi.device}` });
  return out;
}
