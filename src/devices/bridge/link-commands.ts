/**
 * The commands a BridgeLink sends through its BridgeCommander: argument checks, frame
 * type, label for error messages and encoding, one function each. Each resolves on the
 * device's ACK and rejects as `BridgeCommander.command` does.
 */
import { ActuatorKind, FaultKind, FrameType, type ActuateEntry, type FaultKindName } from '../../bridge/frames.js';
import type { BridgeCommander } from './commander.js';

export function sendStop(cmd: BridgeCommander): Promise<void> {
  return cmd.command(FrameType.STOP, 'STOP', (id) => cmd.writer.stop(id));
}

export function sendConfig(cmd: BridgeCommander, rate: number, channels: number, block: number): Promise<void> {
  return cmd.command(FrameType.CONFIG, `CONFIG(rate ${rate}, channels ${channels}, block ${block})`, (id) => cmd.writer.config(id, rate, channels, block));
}

export function sendStart(cmd: BridgeCommander): Promise<void> {
  return cmd.command(FrameType.START, 'START', (id) => cmd.writer.start(id));
}

/** ACTUATE, after checking every entry fits its wire field (a bad one sends nothing). */
export function sendActuate(cmd: BridgeCommander, entries: readonly ActuateEntry[]): Promise<void> {
  for (const e of entries) {
    if (!Number.isInteger(e.channel) || e.channel < 0 || e.channel > 255)
      return Promise.reject(new RangeError(`actuator channel must be an integer 0..255, got ${e.channel}`));
    if (!(e.kind in ActuatorKind)) return Promise.reject(new RangeError(`actuator kind must be digital, pwm or servo, got ${String(e.kind)}`));
    if (!Number.isInteger(e.value) || e.value < -(2 ** 31) || e.value >= 2 ** 31)
      return Promise.reject(new RangeError(`actuator value must be a 32-bit integer, got ${e.value}`));
  }
  return cmd.command(FrameType.ACTUATE, 'ACTUATE', (id) => cmd.writer.actuate(id, entries));
}

/** FAULT, by name or raw kind number. */
export function sendFault(cmd: BridgeCommander, kind: FaultKindName | number, param: number): Promise<void> {
  const k = typeof kind === 'number' ? kind : FaultKind[kind];
  if (k === undefined) return Promise.reject(new RangeError(`unknown fault kind ${String(kind)}`));
  return cmd.command(FrameType.FAULT, 'FAULT', (id) => cmd.writer.fault(id, k, param | 0));
}
