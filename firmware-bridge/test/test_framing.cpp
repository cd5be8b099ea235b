// CRC, COBS and the frame decoder: known values, round trips, malformed input.
#include <string.h>

#include <vector>

#include "../core/cobs.h"
#include "../core/crc16.h"
#include "../core/protocol.h"
#include "../host/rng.h"
#include "check.h"

using namespace rfx;
using Bytes = std::vector<uint8_t>;

static Bytes enc(const Bytes& in) {
  Bytes out(cobs_max_encoded(in.size()));
  out.resize(cobs_encode(in.data(), in.size(), out.data()));
  return out;
}
static bool dec(const Bytes& in, Bytes& out) {
  out.assign(in.size() + 1, 0);
  long n = cobs_decode(in.data(), in.size(), out.data());
  if (n < 0) return false;
  out.resize(size_t(n));
  return true;
}
static Bytes seq(int from, int to) {
  Bytes b;
  for (int i = from; i <= to; i++) b.push_back(uint8_t(i));
  return b;
}
static Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(crc_check_value) {
  const char* s = "123456789";
  CHECK_EQ(crc16(reinterpret_cast<const uint8_t*>(s), 9), 0x29B1);
  CHECK_EQ(crc16(nullptr, 0), 0xFFFF);
  // Incremental update equals one pass.
  uint16_t c = crc16_update(0xFFFF, reinterpret_cast<const uint8_t*>(s), 4);
  CHECK_EQ(crc16_update(c, reinterpret_cast<const uint8_t*>(s) + 4, 5), 0x29B1);
}

TEST(cobs_known_vectors) {
  CHECK(enc({0x00}) == Bytes({0x01, 0x01}));
  CHECK(enc({0x00, 0x00}) == Bytes({0x01, 0x01, 0x01}));
  CHECK(enc({0x11, 0x22, 0x00, 0x33}) == Bytes({0x03, 0x11, 0x22, 0x02, 0x33}));
  CHECK(enc({0x11, 0x22, 0x33, 0x44}) == Bytes({0x05, 0x11, 0x22, 0x33, 0x44}));
  CHECK(enc({0x11, 0x00, 0x00, 0x00}) == Bytes({0x02, 0x11, 0x01, 0x01, 0x01}));
  // 254 non-zero bytes: one full block, no trailing empty block.
  CHECK(enc(seq(1, 254)) == cat({0xFF}, seq(1, 254)));
  // 255 bytes starting with zero.
  CHECK(enc(seq(0, 254)) == cat(cat({0x01, 0xFF}, seq(1, 254)), {}));
  // 255 non-zero bytes: a full block then a 1-byte block.
  CHECK(enc(seq(1, 255)) == cat(cat({0xFF}, seq(1, 254)), {0x02, 0xFF}));
  // 254 non-zero bytes then a zero.
  CHECK(enc(cat(seq(2, 255), {0x00})) == cat(cat({0xFF}, seq(2, 255)), {0x01, 0x01}));
  CHECK(enc(cat(seq(3, 255), {0x00, 0x01})) == cat(cat({0xFE}, seq(3, 255)), {0x02, 0x01}));
}

TEST(cobs_round_trips) {
  Rng rng(7);
  const size_t lens[] = {0, 1, 2, 253, 254, 255, 256, 507, 508, 509, 510, 1024};
  for (size_t len : lens) {
    for (int variant = 0; variant < 4; variant++) {
      Bytes in(len);
      for (size_t i = 0; i < len; i++) {
        switch (variant) {
          case 0: in[i] = uint8_t(1 + rng.u32() % 255); break;  // no zeros: long runs
          case 1: in[i] = 0; break;
          case 2: in[i] = uint8_t(rng.u32()); break;
          default: in[i] = (i % 254 == 253) ? 0 : uint8_t(1 + i % 200); break;
        }
      }
      Bytes e = enc(in);
      CHECK(e.size() <= cobs_max_encoded(len));
      CHECK(memchr(e.data(), 0, e.size()) == nullptr);
      Bytes back;
      if (len == 0) continue;  // empty input encodes to {1}; receivers ignore empty frames
      CHECK(dec(e, back));
      CHECK(back == in);
    }
  }
}

TEST(cobs_decode_rejects_malformed) {
  Bytes out;
  CHECK(!dec({}, out));
  CHECK(!dec({0x00}, out));               // zero code byte
  CHECK(!dec({0x05, 0x11, 0x22}, out));   // code past the end
  CHECK(!dec({0x02, 0x11, 0x00, 0x01}, out));  // zero inside the data... as a code
  CHECK(dec({0x01}, out) && out.empty());
}

static Bytes wire(uint8_t type, const Bytes& payload, uint8_t version = 1) {
  Bytes pkt = {version, type};
  pkt.insert(pkt.end(), payload.begin(), payload.end());
  uint16_t c = crc16(pkt.data(), pkt.size());
  pkt.push_back(uint8_t(c));
  pkt.push_back(uint8_t(c >> 8));
  Bytes e = enc(pkt);
  e.push_back(0);
  return e;
}

struct Seen {
  std::vector<RxStatus> status;
  std::vector<uint8_t> types;
  std::vector<Bytes> payloads;
};
static Seen feed(FrameDecoder& d, const Bytes& bytes) {
  Seen s;
  for (uint8_t b : bytes) {
    FrameDecoder::Result r;
    if (d.push(b, r)) {
      s.status.push_back(r.status);
      s.types.push_back(r.type);
      s.payloads.push_back(r.status == kOk ? Bytes(r.payload, r.payload + r.payload_len) : Bytes());
    }
  }
  return s;
}

TEST(encode_frame_matches_manual) {
  uint8_t out[kMaxWire];
  const uint8_t pl[] = {1, 0, 1, 1};
  size_t n = encode_frame(kHelloReq, pl, 4, out);
  Bytes w = wire(kHelloReq, {1, 0, 1, 1});
  CHECK(Bytes(out, out + n) == w);
  uint8_t big[kMaxPayload + 1] = {};
  CHECK_EQ(encode_frame(kSamples, big, kMaxPayload + 1, out), 0);
  CHECK(encode_frame(kSamples, big, kMaxPayload, out) <= kMaxWire);
}

TEST(decoder_classifies_bad_input) {
  FrameDecoder d;
  Bytes good = wire(kStart, {2, 0});
  // Empty frames (extra delimiters) are ignored.
  Seen s = feed(d, cat({0, 0, 0}, good));
  CHECK_EQ(s.status.size(), 1);
  CHECK(s.status[0] == kOk && s.types[0] == kStart && s.payloads[0] == Bytes({2, 0}));

  Bytes bad_crc = good;
  bad_crc[2] ^= 0x40;
  s = feed(d, bad_crc);
  CHECK(s.status.size() == 1 && s.status[0] == kBadCrc);

  s = feed(d, {0x07, 0x01, 0x02, 0x00});  // code points past the end
  CHECK(s.status.size() == 1 && s.status[0] == kBadCobs);

  s = feed(d, {0x03, 0x01, 0x41, 0x00});  // 2-byte packet
  CHECK(s.status.size() == 1 && s.status[0] == kTruncated);

  s = feed(d, wire(kStart, {2, 0}, 2));
  CHECK(s.status.size() == 1 && s.status[0] == kWrongVersion);
  // HELLO from a newer major version still comes through so the host can say who to update.
  s = feed(d, wire(kHello, Bytes(23, 1), 2));
  CHECK(s.status.size() == 1 && s.status[0] == kOk);

  // Oversize: reported once, then everything up to the next delimiter is skipped and the
  // following frame decodes.
  Bytes flood(1500, 0x55);
  s = feed(d, cat(cat(flood, {0}), good));
  CHECK_EQ(s.status.size(), 2);
  CHECK(s.status[0] == kOversize && s.status[1] == kOk);

  // Exactly 1030 encoded bytes is allowed (then fails CRC, not size).
  s = feed(d, cat(Bytes(1030, 0x55), {0}));
  CHECK(s.status.size() == 1 && s.status[0] != kOversize);

  // Resynchronisation after garbage without a delimiter-free prefix.
  s = feed(d, cat({0x13, 0x37, 0xFF, 0x00}, good));
  CHECK(s.status.size() == 2 && s.status[1] == kOk);

  // A frame split byte by byte across pushes is the same as one push.
  FrameDecoder d2;
  Seen s2;
  for (uint8_t b : good) {
    Seen one = feed(d2, {b});
    s2.status.insert(s2.status.end(), one.status.begin(), one.status.end());
  }
  CHECK(s2.status.size() == 1 && s2.status[0] == kOk);
}

TEST(payload_parsers_check_ranges) {
  uint8_t p[kMaxPayload] = {};
  SamplesHeader h;
  h.channels = 2; h.samples = 3; h.uv_per_lsb = 0.5f;
  size_t n = write_samples_header(h, p);
  CHECK_EQ(n, 24 + 18);
  SamplesHeader g;
  CHECK(parse_samples_header(p, n, g) == kOk);
  CHECK(parse_samples_header(p, n + 1, g) == kBadPayload);  // exact length required
  CHECK(parse_samples_header(p, n - 1, g) == kBadPayload);
  CHECK(parse_samples_header(p, 23, g) == kTruncated);
  p[20] = 0;
  CHECK(parse_samples_header(p, n, g) == kBadPayload);  // 0 channels
  p[20] = 17;
  CHECK(parse_samples_header(p, n, g) == kBadPayload);

  TrackerHeader th;
  th.dims = 2;
  const float v[2] = {1.5f, -2.0f};
  n = write_tracker(th, v, p);
  CHECK(parse_tracker_header(p, n, th) == kOk);
  CHECK(parse_tracker_header(p, n + 4, th) == kBadPayload);
  CHECK(get_f32(p + 16) == 1.5f && get_f32(p + 20) == -2.0f);

  ActuateEntry e[2];
  n = write_actuate(3, e, 2, p);
  uint16_t req = 0;
  uint8_t count = 0;
  CHECK(parse_actuate(p, n, req, count) == kOk && req == 3 && count == 2);
  CHECK(parse_actuate(p, n - 1, req, count) == kTruncated);
  CHECK(parse_actuate(p, n + 8, req, count) == kBadPayload);

  Hello hl;
  hl.max_channels = 16; hl.channels = 8; hl.name_len = 3;
  memcpy(hl.name, "abc", 3);
  n = write_hello(hl, p);
  Hello hb;
  CHECK(parse_hello(p, n, hb) == kOk && strcmp(hb.name, "abc") == 0);
  CHECK(parse_hello(p, n - 1, hb) == kTruncated);
  p[22] = 40;
  CHECK(parse_hello(p, n, hb) == kBadPayload);

  Error er;
  er.msg_len = 65;
  p[5] = 65;
  CHECK(parse_error(p, 6 + 65, er) == kBadPayload);
  Config cf;
  CHECK(parse_config(p, 7, cf) == kTruncated);

  // int24 helpers clamp and sign-extend.
  put_i24(p, 9000000);
  CHECK_EQ(get_i24(p), 8388607);
  put_i24(p, -9000000);
  CHECK_EQ(get_i24(p), -8388608);
  put_i24(p, -1);
  CHECK(p[0] == 0xFF && p[1] == 0xFF && p[2] == 0xFF);
  CHECK_EQ(get_i24(p), -1);
}

TEST(cobs_decodes_in_place) {
  // FrameDecoder decodes into its own receive buffer; the result must equal a copy decode.
  Rng rng(11);
  for (size_t len : {size_t(1), size_t(253), size_t(254), size_t(255), size_t(600), size_t(1024)}) {
    for (int variant = 0; variant < 3; variant++) {
      Bytes in(len);
      for (size_t i = 0; i < len; i++) {
        in[i] = variant == 0 ? uint8_t(1 + rng.u32() % 255) : variant == 1 ? 0 : uint8_t(rng.u32());
      }
      Bytes e = enc(in);
      long n = cobs_decode(e.data(), e.size(), e.data());
      CHECK(n == long(len));
      CHECK(Bytes(e.begin(), e.begin() + long(len)) == in);
    }
  }
}

TEST(encode_frame_is_cobs_of_the_packet) {
  // encode_frame COBS-encodes version|type|payload|crc without building the packet: it must
  // give the same bytes as encoding the packet, at every block boundary.
  Rng rng(5);
  for (size_t len = 0; len <= kMaxPayload; len += (len < 520 ? 1 : 37)) {
    for (int variant = 0; variant < 3; variant++) {
      Bytes payload(len);
      for (size_t i = 0; i < len; i++) {
        payload[i] = variant == 0 ? uint8_t(1 + rng.u32() % 255) : variant == 1 ? 0 : uint8_t(rng.u32());
      }
      Bytes pkt = cat({kProtoMajor, kSamples}, payload);
      uint16_t crc = crc16(pkt.data(), pkt.size());
      pkt.push_back(uint8_t(crc));
      pkt.push_back(uint8_t(crc >> 8));
      Bytes want = cat(enc(pkt), {0x00});
      Bytes wire(kMaxWire);
      wire.resize(encode_frame(kSamples, payload.data(), len, wire.data()));
      CHECK(wire == want);
    }
  }
  uint8_t big[kMaxPayload + 1] = {};
  uint8_t out[kMaxWire];
  CHECK_EQ(encode_frame(kSamples, big, sizeof big, out), 0);
}

TEST(crc_bytewise_matches_the_bitwise_definition) {
  uint8_t data[300];
  uint32_t x = 12345;
  for (auto& b : data) {
    x = x * 1103515245u + 12345u;
    b = uint8_t(x >> 16);
  }
  for (size_t len : {size_t(0), size_t(1), size_t(2), size_t(17), size_t(300)}) {
    uint16_t ref = 0xFFFF;  // the definition: MSB first, polynomial 0x1021, one bit at a time
    for (size_t i = 0; i < len; i++) {
      ref = uint16_t(ref ^ (data[i] << 8));
      for (int b = 0; b < 8; b++) ref = (ref & 0x8000) ? uint16_t((ref << 1) ^ 0x1021) : uint16_t(ref << 1);
    }
    CHECK_EQ(crc16(data, len), ref);
  }
}
