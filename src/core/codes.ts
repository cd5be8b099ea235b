/**
 * Every error code Reflex raises, as one type. Each module keeps its codes in a table beside
 * its code (`XCodes = { name: 'E_...' } as const`, one comment per code); this file only
 * gathers them, so `ReflexError.code` is checked: an unknown code is a type error.
 * docs/errors.md lists every code with its fix; test/errors-doc.test.ts keeps the two in step.
 * Type-only imports: loading this file loads no module. The tables themselves, as values, are
 * in code-tables.ts.
 */
import type { ActuateCodes } from '../actuate/codes.js';
import type { AlignCodes } from '../align/codes.js';
import type { BoardCodes } from '../boards/codes.js';
import type { BridgeDeviceCode, BridgeErrorCodes } from '../bridge/errors.js';
import type { CliCodes } from '../cli/codes.js';
import type { BridgeLinkCodes } from '../devices/bridge/codes.js';
import type { CytonCodes } from '../devices/cyton/codes.js';
import type { SupervisorCodes } from '../devices/sim/firmware-supervisor.js';
import type { SimFirmwareCodes } from '../devices/sim/firmware.js';
import type { TrackerCodes } from '../devices/tracker/codes.js';
import type { FakeCodes, GpioCodes, PwmCodes, SpiCodes } from '../hal/codes.js';
import type { Ads1299Codes } from '../devices/ads1299/codes.js';
import type { LoopCodes, SwapCodes } from '../loop/codes.js';
import type { OrakleCodes } from '../orakle/message.js';
import type { ModelCodes } from '../predict/errors.js';
import type { ProgramCodes } from '../program/errors.js';
import type { RecordCodes } from '../record/codes.js';
import type { RuntimeCodes } from '../runtime/codes.js';
import type { StreamCodes } from '../streams/errors.js';
import type { TelemetryCodes } from '../telemetry/codes.js';
import type { STRICT_CODES } from '../telemetry/control-decode.js';
import type { TrainCodes } from '../train/codes.js';
import type { UnitCodes } from '../units/codes.js';

/** Codes raised from src/core and used across modules. */
export const CoreCodes = {
  /** A configuration file is not valid JSON, or a value in it is wrong (the message names the key). */
  config: 'E_CONFIG',
  /** A command-line flag, argument or option is missing, malformed or contradicts another. */
  usage: 'E_USAGE',
  /** A device or connection went away (unplug, EIO, closed pty or socket): DisconnectedError. */
  disconnected: 'E_DISCONNECTED',
} as const;

type CodesOf<T> = T[keyof T];

export type ErrorCode =
  | CodesOf<typeof CoreCodes>
  | CodesOf<typeof ActuateCodes>
  | CodesOf<typeof AlignCodes>
  | CodesOf<typeof BoardCodes>
  | CodesOf<typeof BridgeErrorCodes>
  | BridgeDeviceCode
  | CodesOf<typeof CliCodes>
  | CodesOf<typeof BridgeLinkCodes>
  | CodesOf<typeof CytonCodes>
  | CodesOf<typeof SimFirmwareCodes>
  | CodesOf<typeof SupervisorCodes>
  | CodesOf<typeof TrackerCodes>
  | CodesOf<typeof GpioCodes>
  | CodesOf<typeof PwmCodes>
  | CodesOf<typeof FakeCodes>
  | CodesOf<typeof SpiCodes>
  | CodesOf<typeof Ads1299Codes>
  | CodesOf<typeof LoopCodes>
  | CodesOf<typeof SwapCodes>
  | CodesOf<typeof OrakleCodes>
  | CodesOf<typeof ModelCodes>
  | CodesOf<typeof ProgramCodes>
  | CodesOf<typeof RuntimeCodes>
  | CodesOf<typeof RecordCodes>
  | CodesOf<typeof StreamCodes>
  | CodesOf<typeof TelemetryCodes>
  | CodesOf<typeof STRICT_CODES>
  | CodesOf<typeof TrainCodes>
  | CodesOf<typeof UnitCodes>;
