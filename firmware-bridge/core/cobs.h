// COBS (Cheshire & Baker) encode/decode, standard variant (docs/protocol.md section 1).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace rfx {

// Worst-case encoded size of n bytes (without the 0x00 delimiter).
constexpr size_t cobs_max_encoded(size_t n) { return n + n / 254 + 1; }

// Encodes `len` bytes into `out` (room for cobs_max_encoded(len)); returns the encoded
// length. No delimiter is written. A 0xFF block that ends the input is not followed by
// an empty block, so 254 non-zero bytes encode to 255 bytes.
size_t cobs_encode(const uint8_t* in, size_t len, uint8_t* out);

// Decodes one frame (delimiter removed) into `out` (room for `len` bytes); `out` may be
// `in` itself (every byte is read before its position is written). Returns the
// decoded length, or -1 if the frame is invalid (a 0x00 code byte, a code pointing past
// the end, or an empty input).
long cobs_decode(const uint8_t* in, size_t len, uint8_t* out);

}  // namespace rfx
