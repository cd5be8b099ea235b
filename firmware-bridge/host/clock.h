// The simulated device crystal: device µs = offset + CLOCK_MONOTONIC elapsed scaled by
// (1 + ppm/1e6). Drift changes re-anchor the line so device time stays continuous.
#pragma once
#include <stdint.h>
#include <time.h>

namespace rfx {

inline int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000ll + ts.tv_nsec;
}

class DeviceClock {
 public:
  void init(int64_t now_mono_ns, uint64_t boot_offset_us, double ppm) {
    anchor_mono_ = now_mono_ns;
    anchor_dev_ = double(boot_offset_us);
    ppm_ = ppm;
  }
  uint64_t dev_us(int64_t mono) const {
    double d = anchor_dev_ + double(mono - anchor_mono_) * 1e-3 * (1.0 + ppm_ * 1e-6);
    return d <= 0 ? 0 : uint64_t(d);
  }
  // CLOCK_MONOTONIC ns at which the device clock reads `dev` (on the current drift line).
  int64_t mono_at(uint64_t dev) const {
    return anchor_mono_ + int64_t((double(dev) - anchor_dev_) * 1e3 / (1.0 + ppm_ * 1e-6));
  }
  void set_ppm(int64_t now_mono_ns, double ppm) {
    anchor_dev_ = anchor_dev_ + double(now_mono_ns - anchor_mono_) * 1e-3 * (1.0 + ppm_ * 1e-6);
    anchor_mono_ = now_mono_ns;
    ppm_ = ppm;
  }
  double ppm() const { return ppm_; }

 private:
  int64_t anchor_mono_ = 0;
  double anchor_dev_ = 0;
  double ppm_ = 0;
};

}  // namespace rfx
