#include "cobs.h"

namespace rfx {

size_t cobs_encode(const uint8_t* in, size_t len, uint8_t* out) {
  size_t code_pos = 0;
  size_t o = 1;
  uint8_t code = 1;
  for (size_t i = 0; i < len; i++) {
    if (in[i] == 0) {
      out[code_pos] = code;
      code_pos = o++;
      code = 1;
      continue;
    }
    out[o++] = in[i];
    code++;
    if (code == 0xFF) {
      out[code_pos] = code;
      code = 1;
      // Only open a new block if input remains: canonical COBS has no trailing empty block.
      if (i + 1 < len) code_pos = o++;
      else return o;
    }
  }
  out[code_pos] = code;
  return o;
}

long cobs_decode(const uint8_t* in, size_t len, uint8_t* out) {
  if (len == 0) return -1;
  size_t i = 0;
  size_t o = 0;
  while (i < len) {
    uint8_t code = in[i++];
    if (code == 0) return -1;
    size_t n = static_cast<size_t>(code) - 1;
    if (i + n > len) return -1;
    for (size_t k = 0; k < n; k++) {
      if (in[i] == 0) return -1;
      out[o++] = in[i++];
    }
    if (code != 0xFF && i < len) out[o++] = 0;
  }
  return static_cast<long>(o);
}

}  // namespace rfx
