/**
 * The wiring parts of a board file: GPIO lines, the SPI ADC's bus and the board's UART
 * (boards/board.schema.json, "line", "spi", "uart"). Split from load.ts, which checks the rest.
 */
import type { Validator } from '../core/validate.js';
import type { LineRef, SpiDef, UartDef } from './types.js';

export function validateLine(v: Validator, raw: unknown, path: string): LineRef {
  const l = v.object(raw, path);
  v.onlyKeys(l, path, ['chip', 'line', 'activeLow', 'header']);
  const ref: LineRef = { chip: v.string(l.chip, `${path}.chip`), line: v.integer(l.line, `${path}.line`, [0, 1023]) };
  if (l.activeLow !== undefined) ref.activeLow = v.boolean(l.activeLow, `${path}.activeLow`);
  if (l.header !== undefined) ref.header = v.string(l.header, `${path}.header`);
  return ref;
}

/** `pins`: the roles the board declares, so `dataReady` can be checked against them. */
export function validateSpi(v: Validator, raw: unknown, pins: Record<string, LineRef> | undefined): SpiDef {
  const s = v.object(raw, 'spi');
  v.onlyKeys(s, 'spi', ['device', 'bus', 'chipSelect', 'mode', 'maxSpeedHz', 'dataReady', 'adc', 'lines']);
  const lines = v.object(s.lines, 'spi.lines');
  v.onlyKeys(lines, 'spi.lines', ['sclk', 'mosi', 'miso', 'cs']);
  const spi: SpiDef = {
    device: v.string(s.device, 'spi.device'),
    bus: v.integer(s.bus, 'spi.bus', [0, 31]),
    chipSelect: v.integer(s.chipSelect, 'spi.chipSelect', [0, 7]),
    mode: v.integer(s.mode, 'spi.mode', [0, 3]),
    maxSpeedHz: v.integer(s.maxSpeedHz, 'spi.maxSpeedHz', [1000, 50_000_000]),
    dataReady: v.string(s.dataReady, 'spi.dataReady'),
    lines: {
      sclk: validateLine(v, lines.sclk, 'spi.lines.sclk'),
      mosi: validateLine(v, lines.mosi, 'spi.lines.mosi'),
      miso: validateLine(v, lines.miso, 'spi.lines.miso'),
      cs: validateLine(v, lines.cs, 'spi.lines.cs'),
    },
  };
  if (s.adc !== undefined) spi.adc = v.string(s.adc, 'spi.adc');
  // A data-ready role that names no pin would leave the ADC source without its sample clock.
  if (!pins || !Object.hasOwn(pins, spi.dataReady)) {
    v.fail('spi.dataReady', `names "${spi.dataReady}", which is not a role in "pins" (roles: ${pins ? Object.keys(pins).join(', ') || 'none' : 'no "pins"'})`);
  }
  return spi;
}

export function validateUart(v: Validator, raw: unknown): UartDef {
  const u = v.object(raw, 'uart');
  v.onlyKeys(u, 'uart', ['device', 'tx', 'rx']);
  return { device: v.string(u.device, 'uart.device'), tx: validateLine(v, u.tx, 'uart.tx'), rx: validateLine(v, u.rx, 'uart.rx') };
}

export function validateNotes(v: Validator, raw: unknown): string[] {
  return v.array(raw, 'notes').map((n, i) => v.string(n, `notes[${i}]`));
}
