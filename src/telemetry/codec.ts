/**
 * CBOR settings shared by every telemetry and control message.
 *
 * cbor-x's defaults are tuned for cbor-x talking to itself (record extension, tag 259 maps);
 * a workstation in Python or MATLAB needs plain CBOR: maps with text keys and RFC 8746
 * typed-array tags (cbor-x writes the little-endian tags 69..86 on little-endian hosts and
 * reads both byte orders).
 */
import { Decoder, Encoder, type Options } from 'cbor-x';
import type { Envelope } from './topics.js';

// Both options exist in cbor-x 1.6 but are missing from its type declarations.
type FullOptions = Options & { useTag259ForMaps?: boolean; int64AsNumber?: boolean };

export function createEncoder(): Encoder {
  const opts: FullOptions = { useRecords: false, variableMapSize: true, useTag259ForMaps: false, tagUint8Array: true, pack: false };
  return new Encoder(opts);
}

/** Decoded maps become plain objects; 64-bit integers become numbers (all our integers fit). */
export function createDecoder(): Decoder {
  const opts: FullOptions = { useRecords: false, mapsAsObjects: true, int64AsNumber: true };
  return new Decoder(opts);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/**
 * Check the envelope of a decoded frame-2 map (topic and source come from frame 1). Bodies
 * are not deep-checked (the publisher is typed); a receiver that needs more should check
 * the fields it uses.
 */
export function asEnvelope(value: unknown): Envelope | undefined {
  if (!isObject(value)) return undefined;
  const { v, seq, mono_ms, wall_ms, body } = value;
  if (typeof v !== 'number') return undefined;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) return undefined;
  if (typeof mono_ms !== 'number' || typeof wall_ms !== 'number' || !isObject(body)) return undefined;
  return value as unknown as Envelope;
}
