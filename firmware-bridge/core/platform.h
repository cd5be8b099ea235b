// The platform layer: everything the portable core needs from a board or an OS.
// The core calls these; a platform never calls into the core except through Device's
// public methods (poll, enqueue_raw) from inside fault().
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace rfx {

class Device;

// What the core knows about a frame it is about to queue; fault hooks key off it.
struct FrameMeta {
  uint8_t type;
  uint32_t seq;           // SAMPLES / TRACKER seq, else 0
  uint32_t first_sample;  // SAMPLES only
  uint64_t t_us;          // SAMPLES / TRACKER / HEARTBEAT device time, else the queue time
};

enum TxVerdict : uint8_t { kTxKeep = 0, kTxDrop = 1 };

// Result of a platform-handled command (FAULT): code 0 = success.
struct CmdResult {
  uint8_t code;
  const char* msg;  // static string, shown in ERROR when code != 0
};

class Platform {
 public:
  virtual ~Platform() = default;

  // Device time in µs since power-up: monotonic, 64-bit (extend a 32-bit micros()).
  virtual uint64_t now_us() = 0;
  // Nonblocking: copy up to `max` received bytes into buf, return the count (0 if none).
  virtual size_t rx_read(uint8_t* buf, size_t max) = 0;
  // Nonblocking: accept up to `len` bytes for transmission, return how many were taken.
  virtual size_t tx_write(const uint8_t* buf, size_t len) = 0;
  // Whether a host is there to receive (USB host attached / pty slave open). While it is
  // false the core drops frames and counts them, like an unplugged USB device.
  virtual bool link_up() = 0;
  // One ADC conversion of all `channels` for sample `index` (since START) scheduled at
  // device time `t_us`: int24-range counts into out[0..channels).
  virtual void adc_sample(uint32_t index, uint64_t t_us, int32_t* out, uint8_t channels) = 0;
  // Whether actuator `channel` can be driven as `kind` (see ActuatorKind).
  virtual bool actuator_supports(uint8_t channel, uint8_t kind) = 0;
  // Apply an already validated output.
  virtual void actuator_set(uint8_t channel, uint8_t kind, int32_t value, uint64_t t_us) = 0;
  // Put every output in its safe state (digital 0, PWM 0, servo pulses stopped).
  virtual void actuator_safe(uint64_t t_us) = 0;
  virtual uint32_t random_u32() = 0;

  // ---- optional ----
  // The stream geometry changed (CONFIG) or a stream (re)started.
  virtual void stream_started(uint32_t rate_hz, uint8_t channels) { (void)rate_hz; (void)channels; }
  // Pose for a TRACKER frame at device time t_us; returns dims written (0 = none).
  virtual uint8_t tracker_read(uint64_t t_us, float* values, uint8_t max_dims) {
    (void)t_us; (void)values; (void)max_dims;
    return 0;
  }
  // FAULT command. Only called when DeviceInfo::faults is set.
  virtual CmdResult fault(Device& dev, uint8_t kind, int32_t param) {
    (void)dev; (void)kind; (void)param;
    return CmdResult{3, "faults not supported"};
  }
  // Called with the finished wire bytes before a frame is queued: a fault layer may
  // corrupt them in place, drop the frame, or hold it until device time *hold_until_us.
  virtual TxVerdict tx_filter(const FrameMeta& m, uint8_t* wire, size_t len, uint64_t* hold_until_us) {
    (void)m; (void)wire; (void)len; (void)hold_until_us;
    return kTxKeep;
  }
  // A frame was accepted into the transmit queue.
  virtual void tx_queued(const FrameMeta& m) { (void)m; }
};

}  // namespace rfx
