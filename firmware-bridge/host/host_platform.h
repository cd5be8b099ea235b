// POSIX platform for the firmware core: pty link, drifting device clock, synthetic EMG
// and tracker, logged actuators, and the fault injection the FAULT command exposes.
#pragma once
#include <stdint.h>
#include <stdio.h>

#include <string>

#include "../core/device.h"
#include "../core/platform.h"
#include "clock.h"
#include "emg_synth.h"
#include "pty_link.h"
#include "rng.h"

namespace rfx {

struct HostOptions {
  uint64_t seed = 1;
  int mains_hz = 50;
  double drift_ppm = 0;
  int32_t jitter_us = 0;
  int32_t corrupt_every = 0;
  std::string link;
  std::string dump, truth, actuator_log;
  // --loopback ACT:CH: actuator channel ACT's applied output is read back on EMG channel CH
  // (a jumper on a real board); -1 = off.
  int loopback_act = -1, loopback_ch = -1;
  // --no-watchdog: the outputs ignore every safe state after power-up, as a firmware whose
  // watchdog never reaches its output stage would (a fault for testing the host's checks).
  bool no_watchdog = false;
};

// Full scale of a looped-back output on its EMG channel, in ADC counts (about 89 mV here):
// far above any EMG, so the host sees a step it cannot mistake.
constexpr int32_t kLoopbackFullCounts = 4000000;

class HostPlatform : public Platform {
 public:
  explicit HostPlatform(const HostOptions& o);
  ~HostPlatform() override;
  bool open_files();
  bool open_link() { return link_.open(); }
  void shutdown();

  // Timers that live outside the core: reopen after DISCONNECT, deferred faults.
  void service(Device& dev);
  // Called after Device::poll(): faults that must start after the reply went out.
  void after_poll(Device& dev);
  // CLOCK_MONOTONIC ns of the next platform timer, or INT64_MAX.
  int64_t next_timer_ns() const;
  void flush_files();
  // The host "stops talking" for `ms`: every byte it sends is read and dropped, so neither
  // ACTUATE nor PING feeds the watchdog, while the stream goes on (host-only fault). It ends
  // early when the link goes down: a host that opens the pty after that is heard.
  void go_deaf(int32_t ms);

  PtyLink& link() { return link_; }
  const DeviceClock& clock() const { return clock_; }
  bool want_pollout() const { return link_.write_blocked(); }
  uint64_t fault_dropped() const { return fault_dropped_; }

  // Platform
  uint64_t now_us() override { return clock_.dev_us(mono_ns()); }
  size_t rx_read(uint8_t* buf, size_t max) override;
  size_t tx_write(const uint8_t* buf, size_t len) override;
  bool link_up() override { return link_up_; }
  void adc_sample(uint32_t index, uint64_t t_us, int32_t* out, uint8_t channels) override;
  bool actuator_supports(uint8_t channel, uint8_t kind) override;
  void actuator_set(uint8_t channel, uint8_t kind, int32_t value, uint64_t t_us) override;
  void actuator_safe(uint64_t t_us) override;
  uint32_t random_u32() override { return rng_.u32(); }
  void stream_started(uint32_t rate_hz, uint8_t channels) override;
  uint8_t tracker_read(uint64_t t_us, float* values, uint8_t max_dims) override;
  CmdResult fault(Device& dev, uint8_t kind, int32_t param) override;
  TxVerdict tx_filter(const FrameMeta& m, uint8_t* wire, size_t len, uint64_t* hold_until_us) override;
  void tx_queued(const FrameMeta& m) override;

 private:
  bool stalled() { return stall_until_us_ != 0 && now_us() < stall_until_us_; }

  HostOptions opt_;
  Rng rng_;  // non-signal randomness (boot_id, faults): differs per run
  EmgSynth synth_;
  DeviceClock clock_;
  PtyLink link_;
  bool link_up_ = false;
  FILE* dump_ = nullptr;
  FILE* truth_ = nullptr;
  FILE* act_ = nullptr;

  int32_t corrupt_every_ = 0;
  uint32_t corrupt_count_ = 0;
  int32_t drop_left_ = 0;
  int32_t jitter_us_ = 0;
  uint64_t last_hold_us_ = 0;
  uint64_t stall_until_us_ = 0;
  int32_t pending_stall_ms_ = -1;
  int32_t pending_disconnect_ms_ = -1;
  int32_t pending_garbage_ = 0;
  int64_t disconnect_at_ns_ = 0;  // 0: no disconnect pending
  int32_t disconnect_ms_ = 0;
  int64_t reopen_at_ns_ = 0;      // 0: not disconnected
  uint64_t fault_dropped_ = 0;

  // Loopback: the looped-back level before and after the last change, and when it changed,
  // so a sample scheduled before the change (taken late in the same poll) reads the old one.
  int32_t loop_prev_ = 0, loop_cur_ = 0;
  uint64_t loop_change_us_ = 0;
  uint32_t safe_calls_ = 0;
  int64_t deaf_until_ns_ = 0;
  uint64_t last_rx_us_ = 0;  // device time of the last byte the core was given
  void loopback_to(int32_t counts, uint64_t t_us);
};

}  // namespace rfx
