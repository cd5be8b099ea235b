// Sampling schedule arithmetic (protocol section 2): sample k is due at device time
// t_start + k * 1e6 / rate. Computed from k each time, never accumulated, so there is no
// rounding drift however long the stream runs.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace rfx {

// Due time of sample k, truncated to whole µs.
inline uint64_t sample_time_us(uint64_t t_start_us, uint64_t k, uint32_t rate_hz) {
  return t_start_us + (k * 1000000ull) / rate_hz;
}

// Largest block that fits one SAMPLES payload for `channels` (and the u8 sample count).
inline uint8_t max_block_samples(uint8_t channels) {
  size_t n = (1020 - 24) / (3 * size_t(channels));
  return static_cast<uint8_t>(n > 255 ? 255 : n);
}

// Automatic block size: about one frame per millisecond, max(1, round(rate/1000)), capped.
inline uint8_t auto_block_samples(uint32_t rate_hz, uint8_t channels) {
  uint32_t n = (rate_hz + 500) / 1000;
  if (n < 1) n = 1;
  uint8_t cap = max_block_samples(channels);
  return static_cast<uint8_t>(n > cap ? cap : n);
}

}  // namespace rfx
