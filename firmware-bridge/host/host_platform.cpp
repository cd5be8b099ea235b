#include "host_platform.h"

#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

namespace rfx {

namespace {
uint64_t entropy() {
  uint64_t v = 0;
  int fd = ::open("/dev/urandom", O_RDONLY);
  if (fd >= 0) {
    if (::read(fd, &v, sizeof v) != static_cast<ssize_t>(sizeof v)) v = 0;
    ::close(fd);
  }
  return v ^ uint64_t(mono_ns()) ^ (uint64_t(getpid()) << 32);
}

constexpr int64_t kDisconnectGraceNs = 1000000000;

FILE* open_out(const std::string& path) {
  if (path.empty()) return nullptr;
  FILE* f = fopen(path.c_str(), "w");
  if (!f) {
    perror(path.c_str());
    return nullptr;
  }
  setvbuf(f, nullptr, _IOFBF, 1 << 16);
  return f;
}
}  // namespace

HostPlatform::HostPlatform(const HostOptions& o)
    : opt_(o), rng_(entropy()), synth_(o.seed, o.mains_hz), link_(o.link) {
  // A random boot offset: the host must never assume device time starts near zero.
  uint64_t boot_offset_us = 1000000 + rng_.next() % 4000000000ull;
  clock_.init(mono_ns(), boot_offset_us, o.drift_ppm);
  jitter_us_ = o.jitter_us;
  corrupt_every_ = o.corrupt_every;
}

HostPlatform::~HostPlatform() { shutdown(); }

bool HostPlatform::open_files() {
  dump_ = open_out(opt_.dump);
  truth_ = open_out(opt_.truth);
  act_ = open_out(opt_.actuator_log);
  return (opt_.dump.empty() || dump_) && (opt_.truth.empty() || truth_) && (opt_.actuator_log.empty() || act_);
}

void HostPlatform::flush_files() {
  if (dump_) fflush(dump_);
  if (truth_) fflush(truth_);
  if (act_) fflush(act_);
}

void HostPlatform::shutdown() {
  for (FILE** f : {&dump_, &truth_, &act_}) {
    if (*f) fclose(*f);
    *f = nullptr;
  }
  link_.close_all();
  link_.remove_link();
}

void HostPlatform::service(Device& dev) {
  // Closing the master discards what the host has not read yet, so the "cable" is only
  // pulled once the ACK to the DISCONNECT has left the queue and been read by the host,
  // or after a grace period.
  if (disconnect_at_ns_ != 0 &&
      (mono_ns() >= disconnect_at_ns_ || !link_.peer_present() || (dev.tx_empty() && link_.unread_by_host() == 0))) {
    disconnect_at_ns_ = 0;
    link_.unplug();
    reopen_at_ns_ = mono_ns() + int64_t(disconnect_ms_) * 1000000 + 1;
  }
  if (reopen_at_ns_ != 0 && mono_ns() >= reopen_at_ns_) {
    reopen_at_ns_ = 0;
    link_.announce();
  }
  const bool up = link_.peer_present();
  // `deaf` is the host of this connection going silent. Once the cable is pulled (or the
  // host closes the port) that host is gone; the next one to open the pty must be heard,
  // or its handshake would run into what is left of the silence (reflex hil pulls the
  // cable right after the firmware-watchdog step silenced the host).
  if (link_up_ && !up) deaf_until_ns_ = 0;
  link_up_ = up;
}

void HostPlatform::after_poll(Device& dev) {
  if (pending_garbage_ > 0) {
    // After the ACK, so the reply to the FAULT itself is not swallowed by the junk.
    uint8_t junk[4096];
    for (int32_t i = 0; i < pending_garbage_; i++) junk[i] = static_cast<uint8_t>(rng_.u32());
    if (!dev.enqueue_raw(junk, size_t(pending_garbage_))) fault_dropped_++;
  }
  pending_garbage_ = 0;
  if (pending_stall_ms_ >= 0) {
    stall_until_us_ = now_us() + uint64_t(pending_stall_ms_) * 1000 + 1;
    pending_stall_ms_ = -1;
  }
  if (pending_disconnect_ms_ >= 0) {
    disconnect_ms_ = pending_disconnect_ms_;
    disconnect_at_ns_ = mono_ns() + kDisconnectGraceNs;
    pending_disconnect_ms_ = -1;
  }
}

int64_t HostPlatform::next_timer_ns() const {
  int64_t t = INT64_MAX;
  if (reopen_at_ns_ != 0) t = reopen_at_ns_;
  if (disconnect_at_ns_ != 0 && disconnect_at_ns_ < t) t = disconnect_at_ns_;
  if (stall_until_us_ != 0) {
    int64_t s = clock_.mono_at(stall_until_us_);
    if (s > mono_ns() && s < t) t = s;
  }
  return t;
}

size_t HostPlatform::rx_read(uint8_t* buf, size_t max) {
  if (!link_up_) return 0;
  size_t n = link_.read(buf, max);
  if (deaf_until_ns_ != 0) {
    if (mono_ns() < deaf_until_ns_) return 0;  // read and dropped: never reaches the core
    deaf_until_ns_ = 0;
  }
  if (n > 0) last_rx_us_ = now_us();
  return n;
}

void HostPlatform::go_deaf(int32_t ms) {
  deaf_until_ns_ = mono_ns() + int64_t(ms) * 1000000 + 1;
  // When the host was last heard: the watchdog's 500 ms run from here (`t_us silent`).
  if (act_) {
    fprintf(act_, "%" PRIu64 " silent\n", last_rx_us_);
    fflush(act_);
  }
}

size_t HostPlatform::tx_write(const uint8_t* buf, size_t len) {
  if (!link_up_ || stalled()) return 0;
  return link_.write(buf, len);
}

void HostPlatform::adc_sample(uint32_t index, uint64_t t_us, int32_t* out, uint8_t channels) {
  (void)t_us;
  synth_.step(out, channels);
  if (opt_.loopback_ch >= 0 && opt_.loopback_ch < channels) {
    out[opt_.loopback_ch] = t_us < loop_change_us_ ? loop_prev_ : loop_cur_;
  }
  if (dump_) {
    fprintf(dump_, "%" PRIu32, index);
    for (uint8_t c = 0; c < channels; c++) fprintf(dump_, " %" PRId32, out[c]);
    fputc('\n', dump_);
  }
}

// Channels 0 and 1 are servo/PWM outputs, 2 and 3 digital (n_actuators = 4).
bool HostPlatform::actuator_supports(uint8_t channel, uint8_t kind) {
  if (channel < 2) return kind == kServo || kind == kPwm;
  if (channel < 4) return kind == kDigital;
  return false;
}

void HostPlatform::loopback_to(int32_t counts, uint64_t t_us) {
  if (counts == loop_cur_) return;
  loop_prev_ = loop_cur_;
  loop_cur_ = counts;
  loop_change_us_ = t_us;
}

void HostPlatform::actuator_set(uint8_t channel, uint8_t kind, int32_t value, uint64_t t_us) {
  if (channel == opt_.loopback_act) {
    // The output's level as a fraction of full: digital 0/1, PWM duty /10000, servo pulse /2500 us.
    double f = kind == kDigital ? value : kind == kPwm ? value / 10000.0 : value / 2500.0;
    loopback_to(static_cast<int32_t>(f * kLoopbackFullCounts + 0.5), t_us);
  }
  if (act_) fprintf(act_, "%" PRIu64 " %u %u %" PRId32 "\n", t_us, channel, kind, value);
}

void HostPlatform::actuator_safe(uint64_t t_us) {
  // The power-up call always applies: the fault is a watchdog that never reaches the outputs.
  if (opt_.no_watchdog && safe_calls_++ > 0) return;
  loopback_to(0, t_us);
  if (act_) {
    fprintf(act_, "%" PRIu64 " safe\n", t_us);
    fflush(act_);
  }
}

void HostPlatform::stream_started(uint32_t rate_hz, uint8_t channels) {
  synth_.configure(rate_hz);
  if (dump_) fprintf(dump_, "# start rate_hz=%" PRIu32 " channels=%u\n", rate_hz, channels);
}

uint8_t HostPlatform::tracker_read(uint64_t t_us, float* values, uint8_t max_dims) {
  (void)t_us;
  if (max_dims < kTrackerDims) return 0;
  synth_.pose(values);
  return kTrackerDims;
}

CmdResult HostPlatform::fault(Device& dev, uint8_t kind, int32_t param) {
  (void)dev;
  const bool neg = param < 0;
  switch (kind) {
    case kFaultCorrupt:
      if (neg) return {kErrBadArg, "CORRUPT param must be >= 0"};
      corrupt_every_ = param;
      corrupt_count_ = 0;
      return {0, nullptr};
    case kFaultDrop:
      if (neg) return {kErrBadArg, "DROP param must be >= 0"};
      drop_left_ = param;
      return {0, nullptr};
    case kFaultStall:
      if (neg || param > 60000) return {kErrBadArg, "STALL param must be 0..60000 ms"};
      pending_stall_ms_ = param;
      return {0, nullptr};
    case kFaultDisconnect:
      if (neg || param > 60000) return {kErrBadArg, "DISCONNECT param must be 0..60000 ms"};
      pending_disconnect_ms_ = param;
      return {0, nullptr};
    case kFaultDrift:
      if (param < -100000 || param > 100000) return {kErrBadArg, "DRIFT param must be -100000..100000 ppm"};
      clock_.set_ppm(mono_ns(), param);
      return {0, nullptr};
    case kFaultJitter:
      if (neg || param > 1000000) return {kErrBadArg, "JITTER param must be 0..1000000 us"};
      jitter_us_ = param;
      return {0, nullptr};
    case kFaultGarbage:
      if (neg || param > 4096) return {kErrBadArg, "GARBAGE param must be 0..4096 bytes"};
      pending_garbage_ = param;
      return {0, nullptr};
    default:
      return {kErrBadArg, "unknown fault kind"};
  }
}

TxVerdict HostPlatform::tx_filter(const FrameMeta& m, uint8_t* wire, size_t len, uint64_t* hold_until_us) {
  if (stalled()) {
    fault_dropped_++;
    return kTxDrop;
  }
  if (m.type == kSamples && drop_left_ > 0) {
    drop_left_--;
    fault_dropped_++;
    return kTxDrop;
  }
  if (corrupt_every_ > 0 && ++corrupt_count_ >= uint32_t(corrupt_every_)) {
    corrupt_count_ = 0;
    size_t at = rng_.u32() % (len - 1);  // never the delimiter
    wire[at] ^= static_cast<uint8_t>(1 + rng_.u32() % 255);
  }
  if (jitter_us_ > 0) {
    uint64_t hold = now_us() + rng_.u32() % (uint32_t(jitter_us_) + 1);
    // Order is kept: a frame never overtakes the one before it.
    if (hold < last_hold_us_) hold = last_hold_us_;
    last_hold_us_ = hold;
    *hold_until_us = hold;
  }
  return kTxKeep;
}

void HostPlatform::tx_queued(const FrameMeta& m) {
  if (m.type == kSamples && truth_) {
    fprintf(truth_, "%" PRIu32 " %" PRIu32 " %" PRIu64 " %" PRId64 "\n", m.seq, m.first_sample, m.t_us, clock_.mono_at(m.t_us));
  }
}

}  // namespace rfx
