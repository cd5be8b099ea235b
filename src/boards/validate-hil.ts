/**
 * The board's `hil` section: the limits `reflex hil` judges each step by, and the loopback
 * jumper. Structure as in boards/board.schema.json (`$defs.hil`); the cross-field rules a schema
 * cannot state (the loopback actuator exists and is on the bridge, its channel is streamed,
 * max >= p99) are checked here only.
 */
import type { Validator } from '../core/validate.js';
import type { ActuatorDef, HilDef, SourceDef } from './types.js';

const KEYS = ['ratePpm', 'loopbackP99Ms', 'loopbackMaxMs', 'reconnectMaxMs', 'hostWatchdogPeriods', 'firmwareWatchdogMs', 'estopMaxMs', 'unplugMs', 'loopback'];

export function validateHil(v: Validator, raw: unknown, source: SourceDef, actuators: readonly ActuatorDef[]): HilDef {
  const h = v.object(raw, 'hil');
  v.onlyKeys(h, 'hil', KEYS);
  const hil: HilDef = {
    ratePpm: v.number(h.ratePpm, 'hil.ratePpm', [1, 100_000]),
    loopbackP99Ms: v.number(h.loopbackP99Ms, 'hil.loopbackP99Ms', [0.1, 10_000]),
    loopbackMaxMs: v.number(h.loopbackMaxMs, 'hil.loopbackMaxMs', [0.1, 10_000]),
    reconnectMaxMs: v.number(h.reconnectMaxMs, 'hil.reconnectMaxMs', [1, 600_000]),
    hostWatchdogPeriods: v.number(h.hostWatchdogPeriods, 'hil.hostWatchdogPeriods', [1, 100]),
    firmwareWatchdogMs: v.number(h.firmwareWatchdogMs, 'hil.firmwareWatchdogMs', [1, 60_000]),
    estopMaxMs: v.number(h.estopMaxMs, 'hil.estopMaxMs', [1, 10_000]),
  };
  if (hil.loopbackMaxMs < hil.loopbackP99Ms) v.fail('hil.loopbackMaxMs', `(${hil.loopbackMaxMs}) is below loopbackP99Ms (${hil.loopbackP99Ms})`);
  if (h.unplugMs !== undefined) hil.unplugMs = v.integer(h.unplugMs, 'hil.unplugMs', [0, 60_000]);
  if (h.loopback !== undefined) {
    const l = v.object(h.loopback, 'hil.loopback');
    v.onlyKeys(l, 'hil.loopback', ['actuator', 'channel']);
    const actuator = v.string(l.actuator, 'hil.loopback.actuator');
    const channel = v.integer(l.channel, 'hil.loopback.channel', [0, 15]);
    const a = actuators.find((x) => x.name === actuator);
    if (!a) v.fail('hil.loopback.actuator', `"${actuator}" is not an actuator of this board (${actuators.map((x) => x.name).join(', ') || 'none'})`);
    // The check drives the jumpered output itself with ACTUATE frames, so it must be on the bridge.
    if (a.via !== 'bridge') v.fail('hil.loopback.actuator', `"${actuator}" is driven via ${a.via}; the loopback needs a bridge actuator`);
    const streamed = 'channels' in source ? source.channels : undefined;
    if (streamed !== undefined && channel >= streamed)
      v.fail('hil.loopback.channel', `(${channel}) is not streamed: source.channels is ${streamed} (channels are 0-based)`);
    hil.loopback = { actuator, channel };
  }
  return hil;
}
