#include "offline.h"

#include <stdio.h>
#include <string.h>

#include <vector>

#include "../core/protocol.h"
#include "../core/scheduler.h"
#include "emg_synth.h"

namespace rfx {

namespace {
constexpr uint32_t kTrackerRateHz = 100;
constexpr size_t kHeaderBytes = 64;
}  // namespace

int run_offline(const std::string& path, double seconds, uint32_t rate_hz, uint8_t channels, uint64_t seed,
                int mains_hz) {
  FILE* f = fopen(path.c_str(), "wb");
  if (!f) {
    perror(path.c_str());
    return 1;
  }
  setvbuf(f, nullptr, _IOFBF, 1 << 20);
  EmgSynth synth(seed, mains_hz);
  synth.configure(rate_hz);
  const uint64_t n_samples = uint64_t(seconds * rate_hz + 0.5);
  const uint64_t end_us = sample_time_us(0, n_samples, rate_hz);
  uint64_t n_tracker = 0;
  while (sample_time_us(0, n_tracker, kTrackerRateHz) < end_us) n_tracker++;

  uint8_t hdr[kHeaderBytes] = {};
  memcpy(hdr, "RFXSIM1", 8);
  put_u32(hdr + 8, rate_hz);
  put_u32(hdr + 12, channels);
  put_u32(hdr + 16, kTrackerRateHz);
  put_u32(hdr + 20, kTrackerDims);
  put_f32(hdr + 24, static_cast<float>(kUvPerLsb));
  put_u32(hdr + 28, static_cast<uint32_t>(mains_hz));
  put_u64(hdr + 32, n_samples);
  put_u64(hdr + 40, n_tracker);
  put_u64(hdr + 48, seed);
  fwrite(hdr, 1, kHeaderBytes, f);

  // EMG section first, tracker section after; the pose for tracker instant j is taken
  // once every sample scheduled at or before it has been generated, as the device does.
  std::vector<float> poses(size_t(n_tracker) * kTrackerDims);
  uint64_t j = 0;
  int32_t v[kSynthMaxChannels];
  uint8_t rec[kSynthMaxChannels * 4];
  for (uint64_t i = 0; i < n_samples; i++) {
    uint64_t t = sample_time_us(0, i, rate_hz);
    while (j < n_tracker && sample_time_us(0, j, kTrackerRateHz) < t) {
      synth.pose(&poses[size_t(j) * kTrackerDims]);
      j++;
    }
    synth.step(v, channels);
    for (uint8_t c = 0; c < channels; c++) put_i32(rec + 4 * c, v[c]);
    fwrite(rec, 4, channels, f);
  }
  for (; j < n_tracker; j++) synth.pose(&poses[size_t(j) * kTrackerDims]);
  uint8_t fb[4];
  for (float x : poses) {
    put_f32(fb, x);
    fwrite(fb, 1, 4, f);
  }
  bool ok = !ferror(f);
  if (fclose(f) != 0) ok = false;
  if (!ok) {
    fprintf(stderr, "reflex-bridge-host: write error on %s\n", path.c_str());
    return 1;
  }
  return 0;
}

}  // namespace rfx
