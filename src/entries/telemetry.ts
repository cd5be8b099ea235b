/**
 * `reflex/telemetry`: the workstation's side of a runtime: subscribe to its telemetry, decode
 * recordings, send control requests, make CURVE keys (docs/telemetry.md). The runtime's own
 * publisher and control server are internal.
 */
export { TelemetryClient, type ClientStats, type TelemetryClientOptions, type TelemetryEndpoint } from '../telemetry/client.js';
export { ControlClient, ControlReplyError, type ControlClientOptions } from '../telemetry/control-client.js';
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
} from '../telemetry/control-protocol.js';
// The wire codec, for decoding frames received by other means (a raw SUB socket, a recording).
export { asEnvelope, createDecoder, createEncoder } from '../telemetry/codec.js';
export { asDescriptor, asPackedBlock, BLOCK_TOPICS, isBlockTopic, unpackBlock, type PackedBlock, type StreamDescriptor } from '../telemetry/blocks.js';
export {
  isTopic,
  parseTopicFrame,
  SCHEMA_VERSION,
  TOPICS,
  type ActuatorsBody,
  type BlockBody,
  type BlockSamples,
  type BlockTopic,
  type ClockBody,
  type ClockState,
  type ClockTimeBase,
  type Envelope,
  type EventBody,
  type EventLevel,
  type HealthBody,
  type HealthWireBody,
  type LoopBody,
  type PredictionBody,
  type Source,
  type TelemetryMessage,
  type Topic,
  type TopicBodies,
  type TrackerHealth,
  type WireBodies,
} from '../telemetry/topics.js';
export { readRecordFile, RECORD_FORMAT, RECORD_VERSION, type RecordEntry } from '../telemetry/record-file.js';
export { generateKeyPair, loadKeyPair, loadPublicKey, writeKeyPair, type KeyPair } from '../telemetry/keys.js';
export { isLoopbackEndpoint, type CurveClientOptions } from '../telemetry/security.js';
export { deployModel, type DeployOutcome, type DeployProgress } from '../deploy/deploy-client.js';
