// firmware-bridge protocol v1: constants, payload layouts, builders and parsers for every
// frame type in docs/protocol.md (the document is authoritative; this follows it).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace rfx {

constexpr uint8_t kProtoMajor = 1;
constexpr uint8_t kProtoMinor = 0;
constexpr size_t kMaxPacket = 1024;
constexpr size_t kMaxPayload = 1020;
constexpr size_t kMaxEncoded = 1030;   // COBS(packet) without delimiter
constexpr size_t kMaxWire = kMaxEncoded + 1;
constexpr uint16_t kUnsolicited = 0xFFFF;
constexpr uint8_t kMaxChannels = 16;
constexpr size_t kSamplesHeader = 24;
constexpr size_t kMaxNameLen = 32;
constexpr size_t kMaxErrorMsg = 64;
constexpr uint8_t kMaxTrackerDims = 32;
constexpr uint8_t kMaxActuateCount = 126;  // (1020 - 6) / 8

enum FrameType : uint8_t {
  kHello = 0x01, kSamples = 0x02, kAck = 0x03, kError = 0x04, kPong = 0x05, kHeartbeat = 0x06,
  kTracker = 0x07,
  kHelloReq = 0x40, kStart = 0x41, kStop = 0x42, kConfig = 0x43, kActuate = 0x44, kPing = 0x45,
  kFault = 0x46,
};

enum ErrorCode : uint8_t {
  kErrNone = 0, kErrUnknownType = 1, kErrBadArg = 2, kErrUnsupported = 3, kErrBusy = 4,
  kErrBadVersion = 5, kErrRxError = 6, kErrOverflow = 7,
};

// Receiver classification (protocol section 1); kOk means "deliver".
enum RxStatus : uint8_t {
  kOk = 0, kBadCobs, kOversize, kTruncated, kBadCrc, kWrongVersion, kUnknownType, kBadPayload,
};
const char* rx_status_name(RxStatus s);

enum ActuatorKind : uint8_t { kDigital = 0, kPwm = 1, kServo = 2 };
enum FaultKind : uint8_t {
  kFaultCorrupt = 1, kFaultDrop = 2, kFaultStall = 3, kFaultDisconnect = 4, kFaultDrift = 5,
  kFaultJitter = 6, kFaultGarbage = 7,
};

// ---- little-endian access ---------------------------------------------------------------
inline void put_u16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); }
// Constant shifts, written out: an 8-bit MCU turns them into byte moves, while a loop's
// variable shift of a 64-bit value is a library call per byte.
inline void put_u32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); p[2] = uint8_t(v >> 16); p[3] = uint8_t(v >> 24);
}
inline void put_u64(uint8_t* p, uint64_t v) { put_u32(p, uint32_t(v)); put_u32(p + 4, uint32_t(v >> 32)); }
inline void put_i32(uint8_t* p, int32_t v) { put_u32(p, static_cast<uint32_t>(v)); }
void put_f32(uint8_t* p, float v);
void put_i24(uint8_t* p, int32_t v);  // clamps to the int24 range
inline uint16_t get_u16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t get_u32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
inline uint64_t get_u64(const uint8_t* p) { return uint64_t(get_u32(p)) | (uint64_t(get_u32(p + 4)) << 32); }
inline int32_t get_i32(const uint8_t* p) { return static_cast<int32_t>(get_u32(p)); }
float get_f32(const uint8_t* p);
int32_t get_i24(const uint8_t* p);

// ---- payloads ---------------------------------------------------------------------------
struct Hello {
  uint8_t proto_major = kProtoMajor, proto_minor = kProtoMinor;
  uint8_t fw_major = 0, fw_minor = 0, fw_patch = 0;
  uint8_t max_channels = 0, adc_bits = 24, n_actuators = 0;
  uint32_t boot_id = 0, rate_hz = 0;
  uint8_t channels = 0, block_samples = 0, flags = 0;
  uint8_t name_len = 0;
  char name[kMaxNameLen + 1] = {};
};
struct SamplesHeader {
  uint32_t seq = 0, first_sample = 0;
  uint64_t t_us = 0;
  float uv_per_lsb = 0;
  uint8_t channels = 0, samples = 0, format = 0;
};
struct Ack { uint16_t req_id = 0; uint8_t command_type = 0; };
struct Error {
  uint16_t req_id = kUnsolicited;
  uint8_t command_type = 0, code = 0, msg_len = 0;
  char msg[kMaxErrorMsg + 1] = {};
};
struct Pong { uint32_t ping_id = 0; uint64_t host_token = 0, t_rx_us = 0, t_tx_us = 0; };
struct Heartbeat { uint64_t t_us = 0; uint32_t frames_sent = 0, frames_dropped = 0, rx_bad = 0; uint8_t state = 0; };
struct TrackerHeader { uint32_t seq = 0; uint64_t t_us = 0; uint8_t dims = 0; };
struct HelloReq { uint16_t req_id = 0; uint8_t min_major = 1, max_major = 1; };
struct Config { uint16_t req_id = 0; uint32_t rate_hz = 0; uint8_t channels = 0, block_samples = 0; };
struct ActuateEntry { uint8_t channel = 0, kind = 0; int32_t value = 0; };
struct Ping { uint32_t ping_id = 0; uint64_t host_token = 0; };
struct Fault { uint16_t req_id = 0; uint8_t kind = 0; int32_t param = 0; };

// Payload writers return the payload length written into `out` (room for kMaxPayload).
size_t write_hello(const Hello& h, uint8_t* out);
size_t write_samples_header(const SamplesHeader& h, uint8_t* out);  // data follows at out+24
size_t write_ack(const Ack& a, uint8_t* out);
size_t write_error(const Error& e, uint8_t* out);
size_t write_pong(const Pong& p, uint8_t* out);
size_t write_heartbeat(const Heartbeat& h, uint8_t* out);
size_t write_tracker(const TrackerHeader& h, const float* values, uint8_t* out);
size_t write_hello_req(const HelloReq& r, uint8_t* out);
size_t write_req_only(uint16_t req_id, uint8_t* out);  // START, STOP
size_t write_config(const Config& c, uint8_t* out);
size_t write_actuate(uint16_t req_id, const ActuateEntry* e, uint8_t count, uint8_t* out);
size_t write_ping(const Ping& p, uint8_t* out);
size_t write_fault(const Fault& f, uint8_t* out);

// Payload parsers check lengths and field ranges; kOk, kTruncated or kBadPayload.
RxStatus parse_hello(const uint8_t* p, size_t n, Hello& out);
// Data (N*C*3 bytes) is at p+24 when kOk.
RxStatus parse_samples_header(const uint8_t* p, size_t n, SamplesHeader& out);
RxStatus parse_ack(const uint8_t* p, size_t n, Ack& out);
RxStatus parse_error(const uint8_t* p, size_t n, Error& out);
RxStatus parse_pong(const uint8_t* p, size_t n, Pong& out);
RxStatus parse_heartbeat(const uint8_t* p, size_t n, Heartbeat& out);
// Values (dims f32) are at p+16 when kOk.
RxStatus parse_tracker_header(const uint8_t* p, size_t n, TrackerHeader& out);
RxStatus parse_hello_req(const uint8_t* p, size_t n, HelloReq& out);
RxStatus parse_req_id(const uint8_t* p, size_t n, uint16_t& req_id);
RxStatus parse_config(const uint8_t* p, size_t n, Config& out);
// Entries are read with actuate_entry(p, i) after kOk; whole-length check included.
// req_id is set whenever the payload has 2 bytes, even when the result is not kOk.
RxStatus parse_actuate(const uint8_t* p, size_t n, uint16_t& req_id, uint8_t& count);
ActuateEntry actuate_entry(const uint8_t* p, uint8_t i);
RxStatus parse_ping(const uint8_t* p, size_t n, Ping& out);
RxStatus parse_fault(const uint8_t* p, size_t n, Fault& out);

// Builds the full wire form of one frame: COBS(version|type|payload|crc) followed by 0x00.
// `out` needs kMaxWire bytes. Returns the wire length, or 0 if the payload is too long.
size_t encode_frame(uint8_t type, const uint8_t* payload, size_t payload_len, uint8_t* out);

// True if `type` is a device-to-host frame type / a host-to-device frame type.
bool is_device_type(uint8_t type);
bool is_host_type(uint8_t type);

// Incremental receiver: push bytes, get whole packets or a classification of bad input.
// Checks COBS, size, CRC and version (HELLO exempt from the version check, section 5);
// type and payload checks are the caller's, since they depend on the direction.
class FrameDecoder {
 public:
  struct Result {
    RxStatus status;
    uint8_t version;
    uint8_t type;
    const uint8_t* payload;  // valid until the next push()
    size_t payload_len;
  };
  // Returns true when a frame ended at this byte (good or bad); `r` says which.
  bool push(uint8_t byte, Result& r);
  void reset() { len_ = 0; discarding_ = false; }

 private:
  // COBS is decoded in place (the output never overtakes the input), so one buffer holds
  // the frame: 1 KiB less RAM on an 8 KiB MCU.
  uint8_t enc_[kMaxEncoded];
  size_t len_ = 0;
  bool discarding_ = false;
};

}  // namespace rfx
