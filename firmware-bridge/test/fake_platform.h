// A scriptable platform for driving the firmware core in tests: a settable device
// clock, byte queues for both directions, recorded actuator calls.
#pragma once
#include <string.h>

#include <vector>

#include "../core/device.h"
#include "../core/scheduler.h"

namespace rfxtest {

using namespace rfx;
using Bytes = std::vector<uint8_t>;

struct Frame {
  uint8_t type;
  Bytes payload;
};

class FakePlatform : public Platform {
 public:
  uint64_t t = 1000000;  // device time; tests move it
  bool up = true;
  bool blocked = false;
  Bytes rx;
  Bytes tx;
  std::vector<int> set_calls;  // channel*100000 + value, in order
  int safe_calls = 0;
  uint32_t started_rate = 0;
  bool faults_called = false;

  uint64_t now_us() override { return t; }
  size_t rx_read(uint8_t* buf, size_t max) override {
    size_t n = rx.size() < max ? rx.size() : max;
    memcpy(buf, rx.data(), n);
    rx.erase(rx.begin(), rx.begin() + long(n));
    return n;
  }
  size_t tx_write(const uint8_t* buf, size_t len) override {
    if (blocked) return 0;
    tx.insert(tx.end(), buf, buf + len);
    return len;
  }
  bool link_up() override { return up; }
  // Distinct, reconstructible values: sample index and channel, with a sign.
  void adc_sample(uint32_t index, uint64_t, int32_t* out, uint8_t channels) override {
    for (uint8_t c = 0; c < channels; c++) out[c] = (c % 2 ? -1 : 1) * int32_t(index * 16 + c);
  }
  bool actuator_supports(uint8_t channel, uint8_t kind) override {
    return channel < 2 ? (kind == kServo || kind == kPwm) : kind == kDigital;
  }
  void actuator_set(uint8_t channel, uint8_t, int32_t value, uint64_t) override {
    set_calls.push_back(channel * 100000 + value);
  }
  void actuator_safe(uint64_t) override { safe_calls++; }
  uint32_t random_u32() override { return 0x12345678; }
  void stream_started(uint32_t rate_hz, uint8_t) override { started_rate = rate_hz; }
  CmdResult fault(Device&, uint8_t, int32_t) override {
    faults_called = true;
    return {0, nullptr};
  }

  void send(uint8_t type, const uint8_t* payload, size_t n) {
    uint8_t w[kMaxWire];
    size_t wn = encode_frame(type, payload, n, w);
    rx.insert(rx.end(), w, w + wn);
  }
  std::vector<Frame> take() {
    std::vector<Frame> out;
    for (uint8_t b : tx) {
      FrameDecoder::Result r;
      if (!dec.push(b, r)) continue;
      if (r.status == kOk) out.push_back(Frame{r.type, Bytes(r.payload, r.payload + r.payload_len)});
      else bad++;
    }
    tx.clear();
    return out;
  }
  int bad = 0;

 private:
  FrameDecoder dec;
};

inline DeviceInfo test_info(bool faults = false) {
  DeviceInfo i;
  i.max_channels = 16;
  i.n_actuators = 4;
  i.name = "test";
  i.uv_per_lsb = 0.25f;
  i.rate_hz = 1000;
  i.channels = 2;
  i.faults = faults;
  return i;
}

struct Rig {
  FakePlatform p;
  uint8_t buf[8192];
  TxRecord rec[512];
  Device d;
  explicit Rig(DeviceInfo info = test_info(), size_t cap = 8192) : d(p, info, buf, cap, rec, 512) {
    d.begin();
    d.poll();
    p.take();  // link-up delimiter + HELLO
  }
  std::vector<Frame> cmd(uint8_t type, const uint8_t* payload, size_t n) {
    p.send(type, payload, n);
    d.poll();
    return p.take();
  }
};

inline std::vector<Frame> of_type(const std::vector<Frame>& f, uint8_t type) {
  std::vector<Frame> out;
  for (auto& x : f) if (x.type == type) out.push_back(x);
  return out;
}

inline uint8_t error_code(const Frame& f) { return f.payload[3]; }


}  // namespace rfxtest
