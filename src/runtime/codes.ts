/** Error codes of the runtime: configuration checks, start-up, control commands (docs/errors.md, "runtime"). */
export const RuntimeCodes = {
  /** The run configuration file does not exist. */
  configMissing: 'E_CONFIG_MISSING',
  /** The board's GPIO actuators mix the simulated chip with real ones. */
  boardGpio: 'E_BOARD_GPIO',
  /** The board asks for more channels than its device has. */
  deviceChannels: 'E_DEVICE_CHANNELS',
  /** An actuator channel is beyond the device's actuator channels. */
  deviceActuator: 'E_DEVICE_ACTUATOR',
  /** The device refused the board's rate, channels or block size (CONFIG answered ERROR). */
  deviceConfig: 'E_DEVICE_CONFIG',
  /** The model was trained for another sample rate than the board streams. */
  modelRate: 'E_MODEL_RATE',
  /** The model's input window (ms) does not match its sample count. */
  modelWindow: 'E_MODEL_WINDOW',
  /** telemetry.keysDir has no client keys, so nobody could connect. */
  noClients: 'E_NO_CLIENTS',
  /** The tracker's serial path cannot be opened. */
  trackerPath: 'E_TRACKER_PATH',
  /** Start-up was aborted while the source was still connecting. */
  sourceNotConnected: 'E_SOURCE_NOT_CONNECTED',
  /** The source did not stop in time. */
  stopTimeout: 'E_STOP_TIMEOUT',
  /** A part of the runtime failed while stopping (the message names it). */
  stop: 'E_STOP',
  /** A control command does not fit the run's current state. */
  state: 'E_STATE',
  /** "set" names a parameter that does not exist. */
  setPath: 'E_SET_PATH',
  /** "set" names a parameter that cannot change while running. */
  setUnsupported: 'E_SET_UNSUPPORTED',
  /** `deploy.begin` while another deploy is receiving or being verified (one at a time). */
  deployBusy: 'E_DEPLOY_BUSY',
  /** A deploy command names no deploy in progress (never begun, aborted, finished or timed out). */
  deployUnknown: 'E_DEPLOY_UNKNOWN',
  /** A deploy is larger than the runtime accepts (deploy.maxBytes), or a chunk runs past its file's size. */
  deploySize: 'E_DEPLOY_SIZE',
  /** A received file's sha256, or the model's content hash, is not the one declared at `deploy.begin`. */
  deployHash: 'E_DEPLOY_HASH',
  /** A chunk's offset is not the next byte the runtime expects for that file. */
  deployOffset: 'E_DEPLOY_OFFSET',
  /** `deploy.commit` before every byte of every file arrived. */
  deployIncomplete: 'E_DEPLOY_INCOMPLETE',
  /** The model store cannot be created or written (deploy.store). */
  deployStore: 'E_DEPLOY_STORE',
} as const;
