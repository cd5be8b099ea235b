// The firmware proper: command handling, sampling schedule, heartbeat, tracker frames,
// transmit queue and the actuator watchdog. Platform-independent; driven by poll().
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "platform.h"
#include "protocol.h"
#include "txqueue.h"

namespace rfx {

struct DeviceInfo {
  uint8_t fw_major = 1, fw_minor = 0, fw_patch = 0;
  uint8_t max_channels = 16;
  uint8_t adc_bits = 24;
  uint8_t n_actuators = 0;
  const char* name = "reflex";
  float uv_per_lsb = 1.0f;
  uint32_t rate_hz = 1000;      // power-up configuration
  uint8_t channels = 1;
  uint8_t block_samples = 0;    // 0 = automatic
  bool faults = false;          // HELLO flag bit1: FAULT accepted
  uint32_t tracker_rate_hz = 0; // 0 = no TRACKER frames (HELLO flag bit2 clear)
};

constexpr uint32_t kMinRateHz = 250;
constexpr uint32_t kMaxRateHz = 4000;
constexpr uint64_t kHeartbeatUs = 1000000;
constexpr uint64_t kWatchdogUs = 500000;

struct DeviceStats {
  uint32_t frames_sent = 0;
  uint32_t frames_dropped = 0;
  uint32_t rx_bad = 0;
};

class Device {
 public:
  // `txbuf` and `txrec` back the transmit queue (bytes, and frames waiting at once); their
  // sizes bound how much a slow host can lag. Stream frames keep 1 KiB and 16 records free
  // for replies, so txcap must exceed 1024 + kMaxWire and txrec_count 16 for SAMPLES to flow.
  Device(Platform& platform, const DeviceInfo& info, uint8_t* txbuf, size_t txcap, TxRecord* txrec,
         size_t txrec_count);

  // Power-up: choose boot_id, put actuators in their safe state, schedule the heartbeat.
  void begin();
  // Do everything that is due: read commands, sample, send. Call as often as possible.
  void poll();
  // Earliest device time at which poll() has something to do on its own (no rx).
  uint64_t next_deadline_us() const;

  // Same validation as the CONFIG command; returns 0 or an ErrorCode with *why set.
  uint8_t configure(uint32_t rate_hz, uint8_t channels, uint8_t block_samples, const char** why);
  void start();
  void stop();
  // Queue bytes unframed (GARBAGE fault); false if they do not fit.
  bool enqueue_raw(const uint8_t* data, size_t len);

  bool streaming() const { return streaming_; }
  bool safe() const { return safe_; }
  uint32_t rate_hz() const { return rate_hz_; }
  uint8_t channels() const { return channels_; }
  uint8_t block_samples() const { return block_; }
  uint32_t boot_id() const { return boot_id_; }
  const DeviceStats& stats() const { return stats_; }
  // Nothing queued for transmission (everything handed to the platform).
  bool tx_empty() const { return txq_.empty(); }
  const DeviceInfo& info() const { return info_; }

 private:
  void handle(const FrameDecoder::Result& r, uint64_t t_rx);
  void handle_actuate(const uint8_t* p, size_t n, uint64_t now);
  void reply_ack(uint16_t req_id, uint8_t type);
  void reply_error(uint16_t req_id, uint8_t type, uint8_t code, const char* msg);
  void send_hello();
  void emit(uint8_t type, const uint8_t* payload, size_t len, const FrameMeta& meta);
  void sample_due(uint64_t now);
  void tracker_due(uint64_t now);
  void enter_safe(uint64_t now);
  void seek_sample(uint64_t k);
  void step_sample();
  void link_changed(bool up);

  Platform& p_;
  DeviceInfo info_;
  TxQueue txq_;
  FrameDecoder rx_;
  DeviceStats stats_;

  uint32_t boot_id_ = 0;
  uint32_t rate_hz_;
  uint8_t channels_;
  uint8_t block_;
  bool block_auto_;

  bool streaming_ = false;
  uint64_t t_start_ = 0;
  uint64_t next_k_ = 0;      // next sample index to take
  uint64_t next_t_ = 0;      // its due time, sample_time_us(t_start_, next_k_, rate_hz_)
  uint32_t step_us_ = 0, step_rem_ = 0, acc_rem_ = 0;  // 1e6 / rate, 1e6 % rate, k * 1e6 % rate
  uint64_t block_t_ = 0;     // due time of the current block's first sample
  uint64_t block_k0_ = 0;    // index of the current block's first sample
  uint32_t seq_ = 0;
  uint32_t tracker_seq_ = 0;
  uint64_t tracker_j_ = 0;   // next tracker index since START

  uint64_t next_hb_ = 0;
  bool safe_ = true;
  uint64_t last_feed_ = 0;
  bool link_up_ = false;
  bool overflow_pending_ = false;

  uint8_t samples_[kMaxPayload];
  // Every payload built here except SAMPLES (own buffer) and ERROR (built on the stack):
  // TRACKER with 32 dims is the largest. Sized to that rather than kMaxPayload for 8 KiB MCUs.
  static constexpr size_t kScratchPayload = 16 + 4 * size_t(kMaxTrackerDims);
  uint8_t scratch_[kScratchPayload];
  uint8_t wire_[kMaxWire];
  uint8_t rxbuf_[64];
};

}  // namespace rfx
