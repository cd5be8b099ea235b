#include "protocol.h"

#include <string.h>

#include "cobs.h"
#include "crc16.h"

namespace rfx {

const char* rx_status_name(RxStatus s) {
  switch (s) {
    case kOk: return "ok";
    case kBadCobs: return "bad_cobs";
    case kOversize: return "oversize";
    case kTruncated: return "truncated";
    case kBadCrc: return "bad_crc";
    case kWrongVersion: return "wrong_version";
    case kUnknownType: return "unknown_type";
    case kBadPayload: return "bad_payload";
  }
  return "unknown";
}

void put_f32(uint8_t* p, float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  put_u32(p, u);
}
float get_f32(const uint8_t* p) {
  uint32_t u = get_u32(p);
  float v;
  memcpy(&v, &u, 4);
  return v;
}
void put_i24(uint8_t* p, int32_t v) {
  if (v > 8388607) v = 8388607;
  if (v < -8388608) v = -8388608;
  uint32_t u = static_cast<uint32_t>(v);
  p[0] = uint8_t(u);
  p[1] = uint8_t(u >> 8);
  p[2] = uint8_t(u >> 16);
}
int32_t get_i24(const uint8_t* p) {
  uint32_t u = uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16);
  if (u & 0x800000u) u |= 0xFF000000u;
  return static_cast<int32_t>(u);
}

// ---- writers ----------------------------------------------------------------------------
size_t write_hello(const Hello& h, uint8_t* o) {
  o[0] = h.proto_major; o[1] = h.proto_minor;
  o[2] = h.fw_major; o[3] = h.fw_minor; o[4] = h.fw_patch;
  o[5] = h.max_channels; o[6] = h.adc_bits; o[7] = h.n_actuators;
  put_u32(o + 8, h.boot_id);
  put_u32(o + 12, h.rate_hz);
  o[16] = h.channels; o[17] = h.block_samples; o[18] = h.flags; o[19] = 0;
  put_u16(o + 20, 0);
  uint8_t n = h.name_len > kMaxNameLen ? uint8_t(kMaxNameLen) : h.name_len;
  o[22] = n;
  memcpy(o + 23, h.name, n);
  return 23 + n;
}
size_t write_samples_header(const SamplesHeader& h, uint8_t* o) {
  put_u32(o, h.seq);
  put_u32(o + 4, h.first_sample);
  put_u64(o + 8, h.t_us);
  put_f32(o + 16, h.uv_per_lsb);
  o[20] = h.channels; o[21] = h.samples; o[22] = h.format; o[23] = 0;
  return kSamplesHeader + size_t(h.channels) * h.samples * 3;
}
size_t write_ack(const Ack& a, uint8_t* o) {
  put_u16(o, a.req_id); o[2] = a.command_type; o[3] = 0;
  return 4;
}
size_t write_error(const Error& e, uint8_t* o) {
  put_u16(o, e.req_id); o[2] = e.command_type; o[3] = e.code; o[4] = 0;
  uint8_t n = e.msg_len > kMaxErrorMsg ? uint8_t(kMaxErrorMsg) : e.msg_len;
  o[5] = n;
  memcpy(o + 6, e.msg, n);
  return 6 + n;
}
size_t write_pong(const Pong& p, uint8_t* o) {
  put_u32(o, p.ping_id); put_u64(o + 4, p.host_token); put_u64(o + 12, p.t_rx_us); put_u64(o + 20, p.t_tx_us);
  return 28;
}
size_t write_heartbeat(const Heartbeat& h, uint8_t* o) {
  put_u64(o, h.t_us); put_u32(o + 8, h.frames_sent); put_u32(o + 12, h.frames_dropped);
  put_u32(o + 16, h.rx_bad); o[20] = h.state; o[21] = o[22] = o[23] = 0;
  return 24;
}
size_t write_tracker(const TrackerHeader& h, const float* values, uint8_t* o) {
  put_u32(o, h.seq); put_u64(o + 4, h.t_us); o[12] = h.dims; o[13] = o[14] = o[15] = 0;
  for (uint8_t i = 0; i < h.dims; i++) put_f32(o + 16 + 4 * i, values[i]);
  return 16 + 4 * size_t(h.dims);
}
size_t write_hello_req(const HelloReq& r, uint8_t* o) {
  put_u16(o, r.req_id); o[2] = r.min_major; o[3] = r.max_major;
  return 4;
}
size_t write_req_only(uint16_t req_id, uint8_t* o) { put_u16(o, req_id); return 2; }
size_t write_config(const Config& c, uint8_t* o) {
  put_u16(o, c.req_id); put_u32(o + 2, c.rate_hz); o[6] = c.channels; o[7] = c.block_samples;
  return 8;
}
size_t write_actuate(uint16_t req_id, const ActuateEntry* e, uint8_t count, uint8_t* o) {
  put_u16(o, req_id); o[2] = count; o[3] = o[4] = o[5] = 0;
  for (uint8_t i = 0; i < count; i++) {
    uint8_t* q = o + 6 + 8 * size_t(i);
    q[0] = e[i].channel; q[1] = e[i].kind; put_u16(q + 2, 0); put_i32(q + 4, e[i].value);
  }
  return 6 + 8 * size_t(count);
}
size_t write_ping(const Ping& p, uint8_t* o) { put_u32(o, p.ping_id); put_u64(o + 4, p.host_token); return 12; }
size_t write_fault(const Fault& f, uint8_t* o) {
  put_u16(o, f.req_id); o[2] = f.kind; o[3] = o[4] = o[5] = 0; put_i32(o + 6, f.param);
  return 10;
}

// ---- parsers ----------------------------------------------------------------------------
RxStatus parse_hello(const uint8_t* p, size_t n, Hello& h) {
  if (n < 23) return kTruncated;
  h.proto_major = p[0]; h.proto_minor = p[1];
  h.fw_major = p[2]; h.fw_minor = p[3]; h.fw_patch = p[4];
  h.max_channels = p[5]; h.adc_bits = p[6]; h.n_actuators = p[7];
  h.boot_id = get_u32(p + 8); h.rate_hz = get_u32(p + 12);
  h.channels = p[16]; h.block_samples = p[17]; h.flags = p[18];
  h.name_len = p[22];
  if (h.name_len > kMaxNameLen) return kBadPayload;
  if (n < 23 + size_t(h.name_len)) return kTruncated;
  if (h.max_channels < 1 || h.max_channels > kMaxChannels || h.n_actuators > 32) return kBadPayload;
  if (h.channels < 1 || h.channels > h.max_channels) return kBadPayload;
  memcpy(h.name, p + 23, h.name_len);
  h.name[h.name_len] = 0;
  return kOk;
}
RxStatus parse_samples_header(const uint8_t* p, size_t n, SamplesHeader& h) {
  if (n < kSamplesHeader) return kTruncated;
  h.seq = get_u32(p); h.first_sample = get_u32(p + 4); h.t_us = get_u64(p + 8);
  h.uv_per_lsb = get_f32(p + 16);
  h.channels = p[20]; h.samples = p[21]; h.format = p[22];
  if (h.channels < 1 || h.channels > kMaxChannels || h.samples < 1 || h.format != 0) return kBadPayload;
  if (n != kSamplesHeader + size_t(h.channels) * h.samples * 3) return kBadPayload;
  return kOk;
}
RxStatus parse_ack(const uint8_t* p, size_t n, Ack& a) {
  if (n < 4) return kTruncated;
  a.req_id = get_u16(p); a.command_type = p[2];
  return kOk;
}
RxStatus parse_error(const uint8_t* p, size_t n, Error& e) {
  if (n < 6) return kTruncated;
  e.req_id = get_u16(p); e.command_type = p[2]; e.code = p[3]; e.msg_len = p[5];
  if (e.msg_len > kMaxErrorMsg) return kBadPayload;
  if (n < 6 + size_t(e.msg_len)) return kTruncated;
  memcpy(e.msg, p + 6, e.msg_len);
  e.msg[e.msg_len] = 0;
  return kOk;
}
RxStatus parse_pong(const uint8_t* p, size_t n, Pong& o) {
  if (n < 28) return kTruncated;
  o.ping_id = get_u32(p); o.host_token = get_u64(p + 4); o.t_rx_us = get_u64(p + 12); o.t_tx_us = get_u64(p + 20);
  return kOk;
}
RxStatus parse_heartbeat(const uint8_t* p, size_t n, Heartbeat& h) {
  if (n < 24) return kTruncated;
  h.t_us = get_u64(p); h.frames_sent = get_u32(p + 8); h.frames_dropped = get_u32(p + 12);
  h.rx_bad = get_u32(p + 16); h.state = p[20];
  return kOk;
}
RxStatus parse_tracker_header(const uint8_t* p, size_t n, TrackerHeader& h) {
  if (n < 16) return kTruncated;
  h.seq = get_u32(p); h.t_us = get_u64(p + 4); h.dims = p[12];
  if (h.dims < 1 || h.dims > kMaxTrackerDims) return kBadPayload;
  if (n != 16 + 4 * size_t(h.dims)) return kBadPayload;
  return kOk;
}
RxStatus parse_hello_req(const uint8_t* p, size_t n, HelloReq& r) {
  if (n < 4) return kTruncated;
  r.req_id = get_u16(p); r.min_major = p[2]; r.max_major = p[3];
  return r.req_id == kUnsolicited ? kBadPayload : kOk;
}
RxStatus parse_req_id(const uint8_t* p, size_t n, uint16_t& req_id) {
  if (n < 2) return kTruncated;
  req_id = get_u16(p);
  return req_id == kUnsolicited ? kBadPayload : kOk;
}
RxStatus parse_config(const uint8_t* p, size_t n, Config& c) {
  if (n < 8) return kTruncated;
  c.req_id = get_u16(p); c.rate_hz = get_u32(p + 2); c.channels = p[6]; c.block_samples = p[7];
  return c.req_id == kUnsolicited ? kBadPayload : kOk;
}
RxStatus parse_actuate(const uint8_t* p, size_t n, uint16_t& req_id, uint8_t& count) {
  // req_id first: a too-short ACTUATE whose req_id is readable is answered for that request,
  // like every other malformed command of a known type (protocol section 3, "Refusals").
  if (n >= 2) req_id = get_u16(p);
  if (n < 6) return kTruncated;
  count = p[2];
  if (req_id == kUnsolicited) return kBadPayload;
  if (n != 6 + 8 * size_t(count)) return n < 6 + 8 * size_t(count) ? kTruncated : kBadPayload;
  return kOk;
}
ActuateEntry actuate_entry(const uint8_t* p, uint8_t i) {
  const uint8_t* q = p + 6 + 8 * size_t(i);
  ActuateEntry e;
  e.channel = q[0]; e.kind = q[1]; e.value = get_i32(q + 4);
  return e;
}
RxStatus parse_ping(const uint8_t* p, size_t n, Ping& o) {
  if (n < 12) return kTruncated;
  o.ping_id = get_u32(p); o.host_token = get_u64(p + 4);
  return kOk;
}
RxStatus parse_fault(const uint8_t* p, size_t n, Fault& f) {
  if (n < 10) return kTruncated;
  f.req_id = get_u16(p); f.kind = p[2]; f.param = get_i32(p + 6);
  return f.req_id == kUnsolicited ? kBadPayload : kOk;
}

// ---- framing ----------------------------------------------------------------------------
size_t encode_frame(uint8_t type, const uint8_t* payload, size_t payload_len, uint8_t* out) {
  if (payload_len > kMaxPayload) return 0;
  // The packet is version|type|payload|crc; it is COBS-encoded straight from those parts
  // instead of being copied into a 1 KiB packet first (stack an 8 KiB MCU cannot spare).
  const uint8_t head[2] = {kProtoMajor, type};
  uint16_t crc = crc16_update(crc16(head, 2), payload, payload_len);
  uint8_t tail[2];
  put_u16(tail, crc);
  const size_t len = payload_len + 4;
  // Same algorithm as cobs_encode() (canonical: no empty block after a final 0xFF block).
  size_t code_pos = 0;
  size_t o = 1;
  uint8_t code = 1;
  for (size_t i = 0; i < len; i++) {
    const uint8_t b = i < 2 ? head[i] : i < 2 + payload_len ? payload[i - 2] : tail[i - 2 - payload_len];
    if (b == 0) {
      out[code_pos] = code;
      code_pos = o++;
      code = 1;
      continue;
    }
    out[o++] = b;
    code++;
    if (code == 0xFF) {
      out[code_pos] = code;
      code = 1;
      if (i + 1 < len) {
        code_pos = o++;
      } else {
        out[o] = 0;
        return o + 1;
      }
    }
  }
  out[code_pos] = code;
  out[o] = 0;
  return o + 1;
}

bool is_device_type(uint8_t t) { return t >= kHello && t <= kTracker; }
bool is_host_type(uint8_t t) { return t >= kHelloReq && t <= kFault; }

bool FrameDecoder::push(uint8_t byte, Result& r) {
  if (byte != 0) {
    if (discarding_) return false;
    if (len_ >= kMaxEncoded) {
      // Report once, then skip to the next delimiter (protocol section 1, `oversize`).
      discarding_ = true;
      len_ = 0;
      r = Result{kOversize, 0, 0, nullptr, 0};
      return true;
    }
    enc_[len_++] = byte;
    return false;
  }
  if (discarding_) {
    discarding_ = false;
    return false;
  }
  size_t n = len_;
  len_ = 0;
  if (n == 0) return false;  // empty frame: a flush, not an error
  long dn = cobs_decode(enc_, n, enc_);
  r = Result{kOk, 0, 0, nullptr, 0};
  if (dn < 0) { r.status = kBadCobs; return true; }
  size_t pn = static_cast<size_t>(dn);
  if (pn < 4) { r.status = kTruncated; return true; }
  if (pn > kMaxPacket) { r.status = kOversize; return true; }
  uint16_t want = get_u16(enc_ + pn - 2);
  if (crc16(enc_, pn - 2) != want) { r.status = kBadCrc; return true; }
  r.version = enc_[0];
  r.type = enc_[1];
  r.payload = enc_ + 2;
  r.payload_len = pn - 4;
  if (r.version != kProtoMajor && r.type != kHello) r.status = kWrongVersion;
  return true;
}

}  // namespace rfx
