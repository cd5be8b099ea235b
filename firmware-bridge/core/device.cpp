#include "device.h"

#include <string.h>

#include "scheduler.h"

namespace rfx {

namespace {
// Samples further behind than this are skipped as lost blocks instead of being generated
// in a burst (the device was stalled, or the host process was suspended).
constexpr uint64_t kMaxCatchUpUs = 1000000;
constexpr uint64_t kTrackerMaxCatchUpUs = 100000;
constexpr size_t kReserveForReplies = 256;
constexpr size_t kReserveRecords = 16;
}  // namespace

static_assert(16 + 4 * size_t(kMaxTrackerDims) >= 23 + kMaxNameLen, "HELLO must fit scratch_");
static_assert(16 + 4 * size_t(kMaxTrackerDims) >= 28, "PONG and HEARTBEAT must fit scratch_");

Device::Device(Platform& platform, const DeviceInfo& info, uint8_t* txbuf, size_t txcap, TxRecord* txrec,
               size_t txrec_count)
    : p_(platform), info_(info), txq_(txbuf, txcap, txrec, txrec_count), rate_hz_(info.rate_hz), channels_(info.channels),
      block_(info.block_samples), block_auto_(info.block_samples == 0) {
  if (block_auto_) block_ = auto_block_samples(rate_hz_, channels_);
}

void Device::begin() {
  boot_id_ = p_.random_u32();
  uint64_t now = p_.now_us();
  next_hb_ = now + kHeartbeatUs;
  if (info_.n_actuators) enter_safe(now);
  link_up_ = false;
}

uint8_t Device::configure(uint32_t rate, uint8_t channels, uint8_t block, const char** why) {
  uint32_t r = rate ? rate : rate_hz_;
  uint8_t c = channels ? channels : channels_;
  if (r < kMinRateHz || r > kMaxRateHz) { *why = "rate_hz out of 250..4000"; return kErrBadArg; }
  if (c < 1 || c > info_.max_channels) { *why = "channels out of range"; return kErrBadArg; }
  if (block > max_block_samples(c)) { *why = "block_samples does not fit a frame"; return kErrBadArg; }
  rate_hz_ = r;
  channels_ = c;
  block_auto_ = block == 0;
  block_ = block_auto_ ? auto_block_samples(r, c) : block;
  if (streaming_) seek_sample(next_k_);  // the schedule follows the new rate from t_start
  return kErrNone;
}

void Device::start() {
  streaming_ = true;
  t_start_ = p_.now_us();
  next_k_ = block_k0_ = 0;
  seek_sample(0);
  seq_ = 0;
  tracker_seq_ = 0;
  tracker_j_ = 0;
  p_.stream_started(rate_hz_, channels_);
}

void Device::stop() { streaming_ = false; }

void Device::poll() {
  bool up = p_.link_up();
  if (up != link_up_) link_changed(up);

  size_t n;
  while ((n = p_.rx_read(rxbuf_, sizeof rxbuf_)) > 0) {
    for (size_t i = 0; i < n; i++) {
      FrameDecoder::Result r;
      if (rx_.push(rxbuf_[i], r)) handle(r, p_.now_us());
    }
  }

  uint64_t now = p_.now_us();
  if (streaming_) sample_due(now);
  if (streaming_ && info_.tracker_rate_hz) tracker_due(now);

  if (now >= next_hb_) {
    Heartbeat h;
    h.t_us = now;
    h.frames_sent = stats_.frames_sent;
    h.frames_dropped = stats_.frames_dropped;
    h.rx_bad = stats_.rx_bad;
    h.state = uint8_t((streaming_ ? 1 : 0) | (safe_ ? 2 : 0));
    size_t len = write_heartbeat(h, scratch_);
    emit(kHeartbeat, scratch_, len, FrameMeta{kHeartbeat, 0, 0, now});
    next_hb_ += kHeartbeatUs;
    if (next_hb_ <= now) next_hb_ = now + kHeartbeatUs;
  }

  if (info_.n_actuators && !safe_ && now - last_feed_ >= kWatchdogUs) enter_safe(now);

  if (overflow_pending_ && link_up_ && txq_.free_bytes() > kReserveForReplies) {
    overflow_pending_ = false;
    reply_error(kUnsolicited, 0, kErrOverflow, "tx buffer overflow, frames lost");
  }

  if (link_up_) {
    stats_.frames_sent += txq_.drain(p_.now_us(), [this](const uint8_t* b, size_t len) { return p_.tx_write(b, len); });
  }
}

uint64_t Device::next_deadline_us() const {
  uint64_t d = next_hb_;
  if (streaming_) {
    uint64_t t = sample_time_us(t_start_, block_k0_ + block_ - 1, rate_hz_);
    if (t < d) d = t;
    if (info_.tracker_rate_hz) {
      uint64_t tt = sample_time_us(t_start_, tracker_j_, info_.tracker_rate_hz);
      if (tt < d) d = tt;
    }
  }
  if (info_.n_actuators && !safe_ && last_feed_ + kWatchdogUs < d) d = last_feed_ + kWatchdogUs;
  if (!txq_.empty() && txq_.head_hold_us() < d) d = txq_.head_hold_us();
  return d;
}

void Device::link_changed(bool up) {
  link_up_ = up;
  if (!up) {
    // Whatever was queued for a host that is gone is lost, like bytes in an unplugged cable.
    stats_.frames_dropped += txq_.clear();
    rx_.reset();
    return;
  }
  // One delimiter first flushes whatever partial frame the new host may hold (section 1).
  static const uint8_t kZero = 0;
  enqueue_raw(&kZero, 1);
  send_hello();
}

bool Device::enqueue_raw(const uint8_t* data, size_t len) {
  if (!link_up_) return false;
  return txq_.push(data, len, 0, false);
}

void Device::emit(uint8_t type, const uint8_t* payload, size_t len, const FrameMeta& meta) {
  size_t wn = encode_frame(type, payload, len, wire_);
  if (wn == 0) return;  // cannot happen with the core's own builders; nothing sane to send
  if (!link_up_) {
    stats_.frames_dropped++;
    return;
  }
  // Stream frames leave headroom for replies: under backpressure a host loses samples
  // (and sees the gap) but still gets its ACK/ERROR/PONG and the heartbeat.
  const bool stream = type == kSamples || type == kTracker;
  if (stream && (txq_.free_bytes() < wn + kReserveForReplies * 4 || txq_.free_records() < kReserveRecords)) {
    stats_.frames_dropped++;
    overflow_pending_ = true;
    return;
  }
  uint64_t hold = 0;
  if (p_.tx_filter(meta, wire_, wn, &hold) == kTxDrop) return;
  if (!txq_.push(wire_, wn, hold, true)) {
    stats_.frames_dropped++;
    overflow_pending_ = true;
    return;
  }
  p_.tx_queued(meta);
}

void Device::send_hello() {
  Hello h;
  h.fw_major = info_.fw_major;
  h.fw_minor = info_.fw_minor;
  h.fw_patch = info_.fw_patch;
  h.max_channels = info_.max_channels;
  h.adc_bits = info_.adc_bits;
  h.n_actuators = info_.n_actuators;
  h.boot_id = boot_id_;
  h.rate_hz = rate_hz_;
  h.channels = channels_;
  h.block_samples = block_;
  h.flags = uint8_t((streaming_ ? 1 : 0) | (info_.faults ? 2 : 0) | (info_.tracker_rate_hz ? 4 : 0));
  size_t nl = strlen(info_.name);
  if (nl > kMaxNameLen) nl = kMaxNameLen;
  h.name_len = static_cast<uint8_t>(nl);
  memcpy(h.name, info_.name, nl);
  size_t len = write_hello(h, scratch_);
  emit(kHello, scratch_, len, FrameMeta{kHello, 0, 0, p_.now_us()});
}

void Device::reply_ack(uint16_t req_id, uint8_t type) {
  uint8_t b[4];
  size_t len = write_ack(Ack{req_id, type}, b);
  emit(kAck, b, len, FrameMeta{kAck, 0, 0, p_.now_us()});
}

void Device::reply_error(uint16_t req_id, uint8_t type, uint8_t code, const char* msg) {
  Error e;
  e.req_id = req_id;
  e.command_type = type;
  e.code = code;
  size_t ml = msg ? strlen(msg) : 0;
  if (ml > kMaxErrorMsg) ml = kMaxErrorMsg;
  e.msg_len = static_cast<uint8_t>(ml);
  if (ml) memcpy(e.msg, msg, ml);
  uint8_t b[6 + kMaxErrorMsg];
  size_t len = write_error(e, b);
  emit(kError, b, len, FrameMeta{kError, 0, 0, p_.now_us()});
}

void Device::handle(const FrameDecoder::Result& r, uint64_t t_rx) {
  if (r.status != kOk) {
    stats_.rx_bad++;
    // Unsolicited reports are a courtesy; under a flood of garbage they must not crowd
    // out samples, so they only go out while the queue has room to spare.
    if (txq_.free_bytes() > 4 * kReserveForReplies) reply_error(kUnsolicited, 0, kErrRxError, rx_status_name(r.status));
    return;
  }
  const uint8_t* p = r.payload;
  size_t n = r.payload_len;
  uint16_t req_id = n >= 2 ? get_u16(p) : kUnsolicited;
  if (!is_host_type(r.type)) {
    stats_.rx_bad++;
    reply_error(req_id, r.type, kErrUnknownType, "unknown command type");
    return;
  }
  RxStatus st = kOk;
  switch (r.type) {
    case kHelloReq: {
      HelloReq q;
      st = parse_hello_req(p, n, q);
      if (st != kOk) break;
      if (q.min_major > kProtoMajor || q.max_major < kProtoMajor) {
        reply_error(q.req_id, kHelloReq, kErrBadVersion, "device speaks protocol 1");
        // The ERROR carries our version byte, which a host of another major cannot read;
        // HELLO's first bytes are readable by every version (protocol section 5).
        send_hello();
      } else {
        send_hello();
      }
      return;
    }
    case kStart:
    case kStop: {
      st = parse_req_id(p, n, req_id);
      if (st != kOk) break;
      if (r.type == kStart) start();
      else stop();
      reply_ack(req_id, r.type);
      return;
    }
    case kConfig: {
      Config c;
      st = parse_config(p, n, c);
      if (st != kOk) break;
      if (streaming_) {
        reply_error(c.req_id, kConfig, kErrBusy, "CONFIG while streaming: send STOP first");
        return;
      }
      const char* why = "";
      uint8_t code = configure(c.rate_hz, c.channels, c.block_samples, &why);
      if (code) reply_error(c.req_id, kConfig, code, why);
      else reply_ack(c.req_id, kConfig);
      return;
    }
    case kActuate:
      handle_actuate(p, n, t_rx);
      return;
    case kPing: {
      Ping q;
      st = parse_ping(p, n, q);
      if (st != kOk) break;
      last_feed_ = t_rx;
      Pong o;
      o.ping_id = q.ping_id;
      o.host_token = q.host_token;
      o.t_rx_us = t_rx;
      o.t_tx_us = p_.now_us();
      size_t len = write_pong(o, scratch_);
      emit(kPong, scratch_, len, FrameMeta{kPong, 0, 0, o.t_tx_us});
      return;
    }
    case kFault: {
      Fault f;
      st = parse_fault(p, n, f);
      if (st != kOk) break;
      if (!info_.faults) {
        reply_error(f.req_id, kFault, kErrUnsupported, "no fault injection on this device");
        return;
      }
      CmdResult res = p_.fault(*this, f.kind, f.param);
      if (res.code) reply_error(f.req_id, kFault, res.code, res.msg);
      else reply_ack(f.req_id, kFault);
      return;
    }
    default:
      break;
  }
  // Malformed command of a known type: counted, never acted on, answered so the host's
  // one-reply-per-command bookkeeping stays in step when the req_id is readable.
  stats_.rx_bad++;
  if (r.type == kPing || req_id == kUnsolicited) reply_error(kUnsolicited, 0, kErrRxError, rx_status_name(st));
  else reply_error(req_id, r.type, kErrBadArg, rx_status_name(st));
}

void Device::handle_actuate(const uint8_t* p, size_t n, uint64_t now) {
  uint16_t req_id = kUnsolicited;
  uint8_t count = 0;
  RxStatus st = parse_actuate(p, n, req_id, count);
  if (st != kOk) {
    stats_.rx_bad++;
    if (req_id == kUnsolicited) reply_error(kUnsolicited, 0, kErrRxError, rx_status_name(st));
    else reply_error(req_id, kActuate, kErrBadArg, "payload length must be 6 + 8*count");
    return;
  }
  if (count == 0) { reply_error(req_id, kActuate, kErrBadArg, "count is 0"); return; }
  // Validate everything before touching any output: one bad entry and nothing moves.
  uint32_t seen = 0;
  for (uint8_t i = 0; i < count; i++) {
    ActuateEntry e = actuate_entry(p, i);
    const char* why = nullptr;
    if (e.channel >= info_.n_actuators) why = "channel out of range";
    else if (seen & (uint32_t(1) << e.channel)) why = "channel repeated in one command";
    else if (e.kind > kServo) why = "unknown kind";
    else if (!p_.actuator_supports(e.channel, e.kind)) why = "kind not supported on this channel";
    else if (e.kind == kDigital && (e.value < 0 || e.value > 1)) why = "digital value must be 0 or 1";
    else if (e.kind == kPwm && (e.value < 0 || e.value > 10000)) why = "pwm value must be 0..10000";
    else if (e.kind == kServo && (e.value < 500 || e.value > 2500)) why = "servo value must be 500..2500";
    if (why) {
      reply_error(req_id, kActuate, kErrBadArg, why);
      return;
    }
    seen |= uint32_t(1) << e.channel;
  }
  for (uint8_t i = 0; i < count; i++) {
    ActuateEntry e = actuate_entry(p, i);
    p_.actuator_set(e.channel, e.kind, e.value, now);
  }
  safe_ = false;
  last_feed_ = now;
  reply_ack(req_id, kActuate);
}

void Device::enter_safe(uint64_t now) {
  safe_ = true;
  p_.actuator_safe(now);
}

void Device::seek_sample(uint64_t k) {
  next_t_ = sample_time_us(t_start_, k, rate_hz_);
  step_us_ = 1000000u / rate_hz_;
  step_rem_ = 1000000u % rate_hz_;
  acc_rem_ = static_cast<uint32_t>((k * 1000000ull) % rate_hz_);
}

void Device::step_sample() {
  // t(k+1) - t(k) is 1e6 / rate plus one when the remainder carries: exactly
  // sample_time_us(t_start, k + 1, rate) without its 64-bit division, which costs an 8-bit
  // MCU ~2000 cycles (an ATmega2560 would spend more on the schedule than on sampling).
  next_t_ += step_us_;
  acc_rem_ += step_rem_;
  if (acc_rem_ >= rate_hz_) {
    acc_rem_ -= rate_hz_;
    next_t_++;
  }
  next_k_++;
}

void Device::sample_due(uint64_t now) {
  // Lost time (stall, suspended process): skip whole blocks so seq and first_sample still
  // advance and the host sees a gap of the right size.
  while (now > next_t_ + kMaxCatchUpUs) {
    next_k_ = block_k0_ + block_;
    block_k0_ = next_k_;
    seq_++;
    seek_sample(next_k_);
  }
  int32_t v[kMaxChannels];
  const uint8_t c = channels_;
  while (next_t_ <= now) {
    const uint64_t t = next_t_;
    if (next_k_ == block_k0_) block_t_ = t;
    p_.adc_sample(static_cast<uint32_t>(next_k_), t, v, c);
    uint8_t* dst = samples_ + kSamplesHeader + size_t(next_k_ - block_k0_) * c * 3;
    for (uint8_t ch = 0; ch < c; ch++) put_i24(dst + 3 * ch, v[ch]);
    step_sample();
    if (next_k_ - block_k0_ == block_) {
      SamplesHeader h;
      h.seq = seq_;
      h.first_sample = static_cast<uint32_t>(block_k0_);
      h.t_us = block_t_;
      h.uv_per_lsb = info_.uv_per_lsb;
      h.channels = c;
      h.samples = block_;
      h.format = 0;
      size_t len = write_samples_header(h, samples_);
      emit(kSamples, samples_, len, FrameMeta{kSamples, h.seq, h.first_sample, h.t_us});
      seq_++;
      block_k0_ = next_k_;
    }
  }
}

void Device::tracker_due(uint64_t now) {
  const uint32_t tr = info_.tracker_rate_hz;
  while (now > sample_time_us(t_start_, tracker_j_, tr) + kTrackerMaxCatchUpUs) tracker_j_++;
  float vals[kMaxTrackerDims];
  while (sample_time_us(t_start_, tracker_j_, tr) <= now) {
    uint64_t t = sample_time_us(t_start_, tracker_j_, tr);
    tracker_j_++;
    uint8_t dims = p_.tracker_read(t, vals, kMaxTrackerDims);
    if (dims == 0) continue;
    TrackerHeader h;
    h.seq = tracker_seq_++;
    h.t_us = t;
    h.dims = dims;
    size_t len = write_tracker(h, vals, scratch_);
    emit(kTracker, scratch_, len, FrameMeta{kTracker, h.seq, 0, t});
  }
}

}  // namespace rfx
