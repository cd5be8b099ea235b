#include "vectors.h"

#include <string.h>

#include "../core/protocol.h"

namespace rfx {

namespace {
void emit(FILE* out, const char* name, uint8_t type, const uint8_t* payload, size_t len) {
  uint8_t wire[kMaxWire];
  size_t n = encode_frame(type, payload, len, wire);
  fprintf(out, "{\"name\":\"%s\",\"hex\":\"", name);
  for (size_t i = 0; i < n; i++) fprintf(out, "%02x", wire[i]);
  fprintf(out, "\"}\n");
}
}  // namespace

void print_vectors(FILE* out) {
  uint8_t p[kMaxPayload];
  size_t n;

  n = write_hello_req(HelloReq{1, 1, 1}, p);
  emit(out, "hello_req", kHelloReq, p, n);

  n = write_req_only(2, p);
  emit(out, "start", kStart, p, n);

  n = write_config(Config{5, 4000, 16, 0}, p);
  emit(out, "config", kConfig, p, n);

  SamplesHeader sh;
  sh.seq = 7; sh.first_sample = 14; sh.t_us = 123456789; sh.uv_per_lsb = 0.02235174f;
  sh.channels = 2; sh.samples = 2; sh.format = 0;
  n = write_samples_header(sh, p);
  const int32_t vals[4] = {1, -1, 8388607, -8388608};
  for (int i = 0; i < 4; i++) put_i24(p + kSamplesHeader + 3 * i, vals[i]);
  emit(out, "samples", kSamples, p, n);

  Pong pong;
  pong.ping_id = 5; pong.host_token = 0x0102030405060708ull; pong.t_rx_us = 1000; pong.t_tx_us = 1010;
  n = write_pong(pong, p);
  emit(out, "pong", kPong, p, n);

  ActuateEntry ents[2];
  ents[0].channel = 0; ents[0].kind = kServo; ents[0].value = 1500;
  ents[1].channel = 2; ents[1].kind = kDigital; ents[1].value = 1;
  n = write_actuate(3, ents, 2, p);
  emit(out, "actuate", kActuate, p, n);

  Hello h;
  h.proto_major = 1; h.proto_minor = 0; h.fw_major = 1; h.fw_minor = 2; h.fw_patch = 3;
  h.max_channels = 16; h.adc_bits = 24; h.n_actuators = 4; h.boot_id = 0xDEADBEEF;
  h.rate_hz = 2000; h.channels = 8; h.block_samples = 2; h.flags = 7;
  h.name_len = 10;
  memcpy(h.name, "reflex-sim", 10);
  n = write_hello(h, p);
  emit(out, "hello", kHello, p, n);

  Error e;
  e.req_id = 9; e.command_type = 0x43; e.code = kErrBusy; e.msg_len = 4;
  memcpy(e.msg, "busy", 4);
  n = write_error(e, p);
  emit(out, "error", kError, p, n);

  Heartbeat hb;
  hb.t_us = 5000000; hb.frames_sent = 100; hb.frames_dropped = 2; hb.rx_bad = 1; hb.state = 1;
  n = write_heartbeat(hb, p);
  emit(out, "heartbeat", kHeartbeat, p, n);

  TrackerHeader th;
  th.seq = 3; th.t_us = 20000; th.dims = 2;
  const float tv[2] = {12.5f, 0.25f};
  n = write_tracker(th, tv, p);
  emit(out, "tracker", kTracker, p, n);

  n = write_fault(Fault{4, kFaultDrift, -200}, p);
  emit(out, "fault", kFault, p, n);

  n = write_ping(Ping{1, 42}, p);
  emit(out, "ping", kPing, p, n);

  n = write_ack(Ack{2, kStart}, p);
  emit(out, "ack", kAck, p, n);
}

}  // namespace rfx
