/** Telemetry (ZeroMQ PUB/SUB, CBOR) and remote control (ROUTER/DEALER), secured with CURVE. Wire format: docs/telemetry.md. */
export { TelemetryPublisher, type PublishOptions, type TelemetryPublisherOptions } from './publisher.js';
export { TelemetryClient, type TelemetryClientOptions, type TelemetryEndpoint, type ClientStats } from './client.js';
export { ControlServer, type ControlServerOptions, type ClientInfo, type Handler } from './control-server.js';
export { ControlClient, ControlReplyError, type ControlClientOptions } from './control-client.js';
export {
  CONTROL_COMMANDS,
  MAX_REQUEST_BYTES,
  type ControlArgs,
  type ControlCommand,
  type ControlError,
  type ControlReply,
  type PlainValue,
  type RequestId,
  type SetValue,
} from './control-protocol.js';
export { generateKeyPair, loadKeyPair, loadPublicKey, writeKeyPair, type KeyPair } from './keys.js';
export { checkBindSecurity, isLoopbackEndpoint, type CurveClientOptions, type CurveServerOptions } from './security.js';
export { RecordWriter, readRecordFile, type RecordEntry } from './record-file.js';
export type { ZapDecision } from './zap.js';
export * from './topics.js';
