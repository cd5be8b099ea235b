#include "emg_synth.h"

#include <math.h>

namespace rfx {

namespace {
constexpr double kActTauS = 0.12;    // muscle activation rise/fall
constexpr double kPoseTauS = 0.08;   // activation -> movement lag
constexpr double kBandLowHz = 20.0;
constexpr double kBandHighHz = 450.0;
constexpr double kRestUv = 3.0;      // baseline EMG at rest, µV RMS
constexpr double kFullUv = 180.0;    // at full activation, µV RMS (typical surface EMG)
constexpr double kAmpNoiseUv = 1.0;  // amplifier noise, µV RMS
}  // namespace

// RBJ audio-EQ-cookbook biquads.
void Biquad::lowpass(double fc, double fs, double q) {
  double w = 2 * M_PI * fc / fs, c = cos(w), a = sin(w) / (2 * q), a0 = 1 + a;
  b0 = (1 - c) / 2 / a0; b1 = (1 - c) / a0; b2 = b0;
  a1 = -2 * c / a0; a2 = (1 - a) / a0;
}
void Biquad::highpass(double fc, double fs, double q) {
  double w = 2 * M_PI * fc / fs, c = cos(w), a = sin(w) / (2 * q), a0 = 1 + a;
  b0 = (1 + c) / 2 / a0; b1 = -(1 + c) / a0; b2 = b0;
  a1 = -2 * c / a0; a2 = (1 - a) / a0;
}

EmgSynth::EmgSynth(uint64_t seed, int mains_hz) : rng_(seed), mains_hz_(mains_hz) {
  for (int j = 0; j < kActivations; j++) dwell_s_[j] = rng_.range(0.5, 1.5);
  for (int c = 0; c < kSynthMaxChannels; c++) {
    // Each channel sits mostly over one muscle and picks up the others as crosstalk.
    int main = c % kActivations;
    double sum = 0;
    for (int j = 0; j < kActivations; j++) {
      weight_[c][j] = j == main ? rng_.range(0.6, 1.0) : rng_.range(0.0, 0.3);
      sum += weight_[c][j];
    }
    for (int j = 0; j < kActivations; j++) weight_[c][j] /= sum;
    double sign = rng_.uniform() < 0.5 ? -1 : 1;
    dc_uv_[c] = sign * rng_.range(1000, 5000);
    hum_uv_[c] = rng_.range(5, 40);
    hum_phase_[c] = rng_.range(0, 2 * M_PI);
    gain_uv_[c] = kFullUv * rng_.range(0.6, 1.2);
  }
}

void EmgSynth::configure(uint32_t rate_hz) {
  if (rate_hz == rate_) return;
  rate_ = rate_hz;
  dt_ = 1.0 / rate_hz;
  double fs = rate_hz;
  double hi = kBandHighHz < 0.45 * fs ? kBandHighHz : 0.45 * fs;
  for (int c = 0; c < kSynthMaxChannels; c++) {
    hp_[c] = Biquad();
    lp_[c] = Biquad();
    hp_[c].highpass(kBandLowHz, fs, M_SQRT1_2);
    lp_[c].lowpass(hi, fs, M_SQRT1_2);
  }
  // Unit-variance white noise keeps about (band / Nyquist) of its power after the band-pass.
  norm_ = sqrt((fs / 2) / (hi - kBandLowHz));
}

void EmgSynth::step(int32_t* out, int channels) {
  for (int j = 0; j < kActivations; j++) {
    // Bursty on/off process: Poisson switching between rest and a random contraction level.
    if (rng_.uniform() < dt_ / dwell_s_[j]) {
      target_[j] = rng_.uniform() < 0.45 ? 0.0 : rng_.range(0.15, 1.0);
    }
    act_[j] += (target_[j] - act_[j]) * (dt_ / kActTauS);
  }
  double k = dt_ / kPoseTauS;
  wrist_ += (60.0 * (act_[0] - act_[1]) - wrist_) * k;
  grip_ += (act_[2] - grip_) * k;

  mains_phase_ += 2 * M_PI * mains_hz_ * dt_;
  if (mains_phase_ > 2 * M_PI) mains_phase_ -= 2 * M_PI;
  bool third = 3.0 * mains_hz_ < 0.5 * rate_;
  for (int c = 0; c < channels; c++) {
    double mix = 0;
    for (int j = 0; j < kActivations; j++) mix += weight_[c][j] * act_[j];
    double band = lp_[c].step(hp_[c].step(rng_.gauss())) * norm_;
    double ph = mains_phase_ + hum_phase_[c];
    double hum = sin(ph) + (third ? 0.3 * sin(3 * ph) : 0.0);
    double uv = dc_uv_[c] + (kRestUv + gain_uv_[c] * mix) * band + kAmpNoiseUv * rng_.gauss() + hum_uv_[c] * hum;
    double counts = floor(uv / kUvPerLsb + 0.5);
    if (counts > 8388607) counts = 8388607;
    if (counts < -8388608) counts = -8388608;
    out[c] = static_cast<int32_t>(counts);
  }
  // Channels beyond `channels` are not sampled, but their filters must not depend on how
  // many are enabled, so the random stream is advanced for all of them.
  for (int c = channels; c < kSynthMaxChannels; c++) {
    lp_[c].step(hp_[c].step(rng_.gauss()));
    rng_.gauss();
  }
}

void EmgSynth::pose(float* out) const {
  out[0] = static_cast<float>(wrist_);
  out[1] = static_cast<float>(grip_);
}

}  // namespace rfx
