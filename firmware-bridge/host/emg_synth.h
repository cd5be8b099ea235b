// Synthetic surface EMG with a ground truth: 3 hidden muscle activations (slow, bursty,
// 0..1) modulate band-limited noise on each channel through per-channel weights, plus
// mains hum with its 3rd harmonic, electrode DC offset and amplifier noise. The same
// activations drive a simulated tracker (wrist angle, grip), so a model trained on the
// EMG has something real to learn. Everything is deterministic from the seed.
#pragma once
#include <stdint.h>

#include "rng.h"

namespace rfx {

// µV per count: 4.5 V reference, gain 24, 24-bit signed (ADS1299-like front end).
constexpr double kUvPerLsb = 4.5e6 / 24.0 / 8388607.0;
constexpr int kActivations = 3;
constexpr int kSynthMaxChannels = 16;
constexpr int kTrackerDims = 2;

struct Biquad {
  double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
  double z1 = 0, z2 = 0;
  double step(double x) {
    double y = b0 * x + z1;
    z1 = b1 * x - a1 * y + z2;
    z2 = b2 * x - a2 * y;
    return y;
  }
  void lowpass(double fc, double fs, double q);
  void highpass(double fc, double fs, double q);
};

class EmgSynth {
 public:
  EmgSynth(uint64_t seed, int mains_hz);
  // Sets the sample rate; filter state is kept when the rate does not change.
  void configure(uint32_t rate_hz);
  // One sample for channels 0..channels-1, in ADC counts (int24 range).
  void step(int32_t* out, int channels);
  // Current pose: [wrist_angle_deg, grip_0_to_1].
  void pose(float* out) const;
  double activation(int j) const { return act_[j]; }

 private:
  Rng rng_;
  int mains_hz_;
  uint32_t rate_ = 0;
  double dt_ = 0;
  double norm_ = 1;
  double act_[kActivations] = {};
  double target_[kActivations] = {};
  double dwell_s_[kActivations] = {};
  double weight_[kSynthMaxChannels][kActivations] = {};
  double dc_uv_[kSynthMaxChannels] = {};
  double hum_uv_[kSynthMaxChannels] = {};
  double hum_phase_[kSynthMaxChannels] = {};
  double gain_uv_[kSynthMaxChannels] = {};
  Biquad hp_[kSynthMaxChannels], lp_[kSynthMaxChannels];
  double mains_phase_ = 0;
  double wrist_ = 0, grip_ = 0;
};

}  // namespace rfx
