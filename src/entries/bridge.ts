/**
 * `reflex/bridge`: the firmware-bridge byte protocol v1 (docs/protocol.md) as a codec: frame
 * layouts, an encoder, a streaming decoder, COBS and CRC-16. Enough to talk to a bridge device
 * without the runtime, or to test a firmware of your own. The runtime's link (handshake,
 * reconnects, watchdog) is internal.
 */
export * from '../bridge/frames.js';
export { FrameWriter, MAX_ACTUATE_ENTRIES } from '../bridge/encode.js';
export {
  BridgeDecoder,
  type BridgeDecoderHandlers,
  type BridgeDecoderOptions,
  type DecoderCounterKey,
  type DecoderStats,
  type ForeignHello,
  type SampleGap,
  type StreamRestart,
} from '../bridge/decoder.js';
export { cobsDecodeInPlace, cobsEncode, cobsMaxEncodedLength } from '../bridge/cobs.js';
export { crc16, CRC16_INIT, CRC16_TABLE } from '../bridge/crc16.js';
export { BridgeDeviceCodes, BridgeDeviceError, BridgeErrorCodes } from '../bridge/errors.js';
export type { SampleBlock } from '../core/block.js';
