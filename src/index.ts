/**
 * The package's main entry, `reflex`: run a runtime on a board with a configuration.
 * Everything else users build with has its own subpath (`reflex/units`, `reflex/streams`,
 * `reflex/program`, `reflex/orakle`, `reflex/telemetry`, `reflex/bridge`, `reflex/testing`:
 * see docs/api.md). What is not exported here or there is internal and may change.
 */
export { Runtime, type RuntimeOptions, type RuntimeState } from './runtime/runtime.js';
export { DEFAULT_OUTPUTS, defaultConfig, loadConfig, validateConfig, type OutputMap, type RunConfig, type TrackerConfig } from './runtime/config.js';
export { boardsDir, listBoards, loadBoard, validateBoard } from './boards/load.js';
export type { ActuatorDef, ActuatorKind, BoardDef, LineRef, SourceDef } from './boards/types.js';
export { META_FILE, readModelMeta, validateModelMeta, type ReflexModelMeta } from './predict/metadata.js';
export {
  formatLogRecord,
  formattedSink,
  LOG_FORMATS,
  Logger,
  nullLogger,
  parseLogFormat,
  type LogFields,
  type LogFormat,
  type LogLevel,
  type LogRecord,
  type LogSettings,
  type LogSink,
} from './core/log.js';
export { ConfigError, DisconnectedError, isReflexError, ReflexError, type ErrorCode } from './core/errors.js';
export type { SampleBlock } from './core/block.js';
export { monotonicMs } from './time/monotonic.js';
