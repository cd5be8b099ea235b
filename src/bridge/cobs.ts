/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker 1999), the framing of the
 * firmware-bridge protocol (docs/protocol.md section 1). Neither function allocates.
 *
 * A packet ending in a full 254-byte run of non-zero bytes is encoded without a final
 * empty block (no trailing `0x01`), as firmware-bridge/core does, so both ends produce
 * identical bytes. The decoder also accepts the trailing `0x01` that the paper's
 * reference code emits.
 */

/** Worst-case encoded size of an `n`-byte packet (without the 0x00 delimiter). */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/**
 * Encode `src[srcStart, srcEnd)` into `dst` at `dstStart`; returns the number of bytes
 * written (no delimiter). `dst` must have `cobsMaxEncodedLength(n)` bytes free and must
 * not overlap the source.
 */
export function cobsEncode(src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstStart: number): number {
  let codeAt = dstStart;
  let w = dstStart + 1;
  let code = 1;
  for (let r = srcStart; r < srcEnd; r++) {
    const b = src[r]!;
    if (b === 0) {
      dst[codeAt] = code;
      codeAt = w++;
      code = 1;
    } else {
      dst[w++] = b;
      if (++code === 0xff) {
        dst[codeAt] = code;
        // A full block at the very end needs no empty block after it.
        if (r + 1 === srcEnd) return w - dstStart;
        codeAt = w++;
        code = 1;
      }
    }
  }
  dst[codeAt] = code;
  return w - dstStart;
}

/**
 * Decode the COBS frame `buf[start, end)` (delimiter excluded) in place. The caller has
 * split the stream at 0x00, so data bytes are not checked for zero again.
 *
 * Returns the packet length `n`, or -1 if the frame is not valid COBS (a zero code byte,
 * or a code pointing past `end`). The packet is left at `buf[start + 1, start + 1 + n)`:
 * one byte past `start`, so a frame whose blocks are all shorter than 254 bytes needs no
 * byte moved at all (each code byte is simply overwritten by the zero it stands for).
 */
export function cobsDecodeInPlace(buf: Uint8Array, start: number, end: number): number {
  if (end <= start) return -1;
  let r = start; // position of the current code byte
  let code = buf[r]!;
  let shift = 0; // how far data must move back: one per 0xFF block already decoded
  for (;;) {
    if (code === 0) return -1;
    const blockEnd = r + code; // one past this block's data
    if (blockEnd > end) return -1;
    if (shift > 0 && code > 1) buf.copyWithin(r + 1 - shift, r + 1, blockEnd);
    if (blockEnd === end) return blockEnd - start - 1 - shift;
    // Read the next code byte before the zero below may overwrite it.
    const next = buf[blockEnd]!;
    if (code === 0xff) shift++;
    else buf[blockEnd - shift] = 0;
    r = blockEnd;
    code = next;
  }
}
