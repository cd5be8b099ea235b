/**
 * Every code table as a value, keyed by where it lives: for tooling and the check that
 * docs/errors.md lists every code (test/errors-doc.test.ts). Importing this loads every
 * module that holds a table; the runtime never does.
 */
import { ActuateCodes } from '../actuate/codes.js';
import { AlignCodes } from '../align/codes.js';
import { BoardCodes } from '../boards/codes.js';
import { BridgeDeviceCodes, BridgeErrorCodes } from '../bridge/errors.js';
import { CliCodes } from '../cli/codes.js';
import { BridgeLinkCodes } from '../devices/bridge/codes.js';
import { CytonCodes } from '../devices/cyton/codes.js';
import { SupervisorCodes } from '../devices/sim/firmware-supervisor.js';
import { SimFirmwareCodes } from '../devices/sim/firmware.js';
import { TrackerCodes } from '../devices/tracker/codes.js';
import { FakeCodes, GpioCodes, PwmCodes, SpiCodes } from '../hal/codes.js';
import { Ads1299Codes } from '../devices/ads1299/codes.js';
import { LoopCodes, SwapCodes } from '../loop/codes.js';
import { OrakleCodes } from '../orakle/message.js';
import { ModelCodes } from '../predict/errors.js';
import { ProgramCodes } from '../program/errors.js';
import { RecordCodes } from '../record/codes.js';
import { RuntimeCodes } from '../runtime/codes.js';
import { StreamCodes } from '../streams/errors.js';
import { TelemetryCodes } from '../telemetry/codes.js';
import { STRICT_CODES } from '../telemetry/control-decode.js';
import { TrainCodes } from '../train/codes.js';
import { UnitCodes } from '../units/codes.js';
import { CoreCodes, type ErrorCode } from './codes.js';

export const CODE_TABLES = {
  'core/codes.ts CoreCodes': CoreCodes,
  'actuate/codes.ts ActuateCodes': ActuateCodes,
  'align/codes.ts AlignCodes': AlignCodes,
  'boards/codes.ts BoardCodes': BoardCodes,
  'bridge/errors.ts BridgeErrorCodes': BridgeErrorCodes,
  'bridge/errors.ts BridgeDeviceCodes': BridgeDeviceCodes,
  'cli/codes.ts CliCodes': CliCodes,
  'devices/bridge/codes.ts BridgeLinkCodes': BridgeLinkCodes,
  'devices/cyton/codes.ts CytonCodes': CytonCodes,
  'devices/sim/firmware.ts SimFirmwareCodes': SimFirmwareCodes,
  'devices/sim/firmware-supervisor.ts SupervisorCodes': SupervisorCodes,
  'devices/tracker/codes.ts TrackerCodes': TrackerCodes,
  'hal/codes.ts GpioCodes': GpioCodes,
  'hal/codes.ts PwmCodes': PwmCodes,
  'hal/codes.ts FakeCodes': FakeCodes,
  'hal/codes.ts SpiCodes': SpiCodes,
  'devices/ads1299/codes.ts Ads1299Codes': Ads1299Codes,
  'loop/codes.ts LoopCodes': LoopCodes,
  'loop/codes.ts SwapCodes': SwapCodes,
  'orakle/message.ts OrakleCodes': OrakleCodes,
  'predict/errors.ts ModelCodes': ModelCodes,
  'program/errors.ts ProgramCodes': ProgramCodes,
  'runtime/codes.ts RuntimeCodes': RuntimeCodes,
  'streams/errors.ts StreamCodes': StreamCodes,
  'record/codes.ts RecordCodes': RecordCodes,
  'telemetry/codes.ts TelemetryCodes': TelemetryCodes,
  'telemetry/control-decode.ts STRICT_CODES': STRICT_CODES,
  'train/codes.ts TrainCodes': TrainCodes,
  'units/codes.ts UnitCodes': UnitCodes,
} as const satisfies Record<string, Readonly<Record<string, ErrorCode>>>;

type TableCode = { [K in keyof typeof CODE_TABLES]: (typeof CODE_TABLES)[K][keyof (typeof CODE_TABLES)[K]] }[keyof typeof CODE_TABLES];
/** Compile-time check that the list above misses no table of the union (E_DEVICE_CODE_<n> is a pattern, not a table entry). */
type Missing = Exclude<ErrorCode, TableCode | `E_DEVICE_CODE_${number}`>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;

/** Every code in a table, each once. */
export function allTableCodes(): Set<string> {
  const out = new Set<string>();
  for (const table of Object.values(CODE_TABLES)) for (const code of Object.values(table)) out.add(code);
  return out;
}
