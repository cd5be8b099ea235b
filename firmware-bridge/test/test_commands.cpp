// The firmware core driven through FakePlatform: commands, replies, watchdog, bad input.
#include "../core/device.h"
#include "../core/scheduler.h"
#include "check.h"
#include "fake_platform.h"

using namespace rfx;
using namespace rfxtest;

TEST(hello_and_version_range) {
  Rig r;
  uint8_t q[4];
  size_t n = write_hello_req(HelloReq{1, 1, 1}, q);
  auto f = r.cmd(kHelloReq, q, n);
  CHECK_EQ(f.size(), 1);
  Hello h;
  CHECK(f[0].type == kHello && parse_hello(f[0].payload.data(), f[0].payload.size(), h) == kOk);
  CHECK_EQ(h.boot_id, 0x12345678);
  CHECK_EQ(h.rate_hz, 1000);
  CHECK_EQ(h.channels, 2);
  CHECK_EQ(h.block_samples, 1);
  CHECK_EQ(h.n_actuators, 4);
  CHECK_EQ(h.flags, 0);
  CHECK(strcmp(h.name, "test") == 0);

  n = write_hello_req(HelloReq{2, 2, 3}, q);
  f = r.cmd(kHelloReq, q, n);
  // Refused: ERROR BAD_VERSION, then HELLO so a host of another major can read our version.
  CHECK(f.size() == 2 && f[0].type == kError && error_code(f[0]) == kErrBadVersion && get_u16(f[0].payload.data()) == 2);
  CHECK(f.size() == 2 && f[1].type == kHello);
}

TEST(config_validation_and_busy) {
  Rig r;
  uint8_t q[16];
  auto cfg = [&](uint16_t id, uint32_t rate, uint8_t ch, uint8_t block) {
    size_t n = write_config(Config{id, rate, ch, block}, q);
    return r.cmd(kConfig, q, n);
  };
  auto f = cfg(1, 5000, 0, 0);
  CHECK(f.size() == 1 && f[0].type == kError && error_code(f[0]) == kErrBadArg);
  f = cfg(2, 249, 0, 0);
  CHECK(f.size() == 1 && error_code(f[0]) == kErrBadArg);
  f = cfg(3, 0, 17, 0);
  CHECK(f.size() == 1 && error_code(f[0]) == kErrBadArg);
  f = cfg(4, 4000, 16, 21);  // 21 x 16 x 3 does not fit
  CHECK(f.size() == 1 && error_code(f[0]) == kErrBadArg);
  CHECK_EQ(r.d.rate_hz(), 1000);  // failed CONFIGs change nothing
  f = cfg(5, 4000, 16, 0);
  CHECK(f.size() == 1 && f[0].type == kAck && get_u16(f[0].payload.data()) == 5 && f[0].payload[2] == kConfig);
  CHECK_EQ(r.d.block_samples(), 4);
  f = cfg(6, 0, 0, 20);
  CHECK(f.size() == 1 && f[0].type == kAck);
  CHECK(r.d.rate_hz() == 4000 && r.d.channels() == 16 && r.d.block_samples() == 20);

  size_t n = write_req_only(7, q);
  f = r.cmd(kStart, q, n);
  CHECK(f.size() == 1 && f[0].type == kAck);
  f = cfg(8, 1000, 0, 0);
  CHECK(f.size() == 1 && f[0].type == kError && error_code(f[0]) == kErrBusy);
  n = write_req_only(9, q);
  f = r.cmd(kStop, q, n);
  CHECK(!of_type(f, kAck).empty());
  f = cfg(10, 1000, 0, 0);
  CHECK(f.size() == 1 && f[0].type == kAck);
}

TEST(actuate_is_validated_whole) {
  Rig r;
  uint8_t q[64];
  ActuateEntry e[3];
  e[0].channel = 0; e[0].kind = kServo; e[0].value = 1500;
  e[1].channel = 2; e[1].kind = kDigital; e[1].value = 2;  // bad value
  size_t n = write_actuate(1, e, 2, q);
  auto f = r.cmd(kActuate, q, n);
  CHECK(f.size() == 1 && f[0].type == kError && error_code(f[0]) == kErrBadArg);
  CHECK(r.p.set_calls.empty());  // the valid first entry did not move either
  CHECK(r.d.safe());

  e[1].value = 1;
  e[2].channel = 2; e[2].kind = kPwm; e[2].value = 10;  // PWM not on a digital channel
  n = write_actuate(2, e, 3, q);
  f = r.cmd(kActuate, q, n);
  CHECK(f.size() == 1 && error_code(f[0]) == kErrBadArg && r.p.set_calls.empty());

  e[2].channel = 0; e[2].kind = kServo; e[2].value = 1600;  // channel 0 twice
  n = write_actuate(3, e, 3, q);
  f = r.cmd(kActuate, q, n);
  CHECK(f.size() == 1 && error_code(f[0]) == kErrBadArg && r.p.set_calls.empty());

  e[2].channel = 4; e[2].kind = kDigital; e[2].value = 0;  // no channel 4
  n = write_actuate(4, e, 3, q);
  f = r.cmd(kActuate, q, n);
  CHECK(f.size() == 1 && error_code(f[0]) == kErrBadArg && r.p.set_calls.empty());

  e[0].value = 2501;
  n = write_actuate(5, e, 1, q);
  f = r.cmd(kActuate, q, n);
  CHECK(f.size() == 1 && error_code(f[0]) == kErrBadArg);

  // Length must be exactly 6 + 8*count: counted as a bad frame, answered, nothing moves.
  e[0].value = 1500;
  n = write_actuate(6, e, 2, q);
  uint32_t bad_before = r.d.stats().rx_bad;
  f = r.cmd(kActuate, q, n - 1);
  CHECK(f.size() == 1 && error_code(f[0]) == kErrBadArg && get_u16(f[0].payload.data()) == 6);
  CHECK_EQ(r.d.stats().rx_bad, bad_before + 1);
  CHECK(r.p.set_calls.empty());

  f = r.cmd(kActuate, q, n);
  CHECK(f.size() == 1 && f[0].type == kAck);
  CHECK(r.p.set_calls == std::vector<int>({1500, 200001}));
  CHECK(!r.d.safe());
}

TEST(watchdog_safe_state_and_ping) {
  Rig r;
  CHECK_EQ(r.p.safe_calls, 1);  // outputs start safe at power-up
  uint8_t q[32];
  ActuateEntry e[1];
  e[0].channel = 1; e[0].kind = kPwm; e[0].value = 5000;
  size_t n = write_actuate(1, e, 1, q);
  r.cmd(kActuate, q, n);
  CHECK(!r.d.safe());
  r.p.t += 499999;
  r.d.poll();
  CHECK(!r.d.safe());
  // A PING feeds the watchdog and answers with both device times.
  n = write_ping(Ping{77, 0xABCDEF0123456789ull}, q);
  auto f = r.cmd(kPing, q, n);
  CHECK(f.size() == 1 && f[0].type == kPong);
  Pong pg;
  CHECK(parse_pong(f[0].payload.data(), f[0].payload.size(), pg) == kOk);
  CHECK(pg.ping_id == 77 && pg.host_token == 0xABCDEF0123456789ull && pg.t_rx_us == r.p.t && pg.t_tx_us == r.p.t);
  r.p.t += 499999;
  r.d.poll();
  CHECK(!r.d.safe());
  r.p.t += 1;
  r.d.poll();
  CHECK(r.d.safe());
  CHECK_EQ(r.p.safe_calls, 2);
  CHECK(r.d.next_deadline_us() > r.p.t);
  // Heartbeat reports the safe state (bit1).
  r.p.t += 1000000;
  r.d.poll();
  auto hb = of_type(r.p.take(), kHeartbeat);
  CHECK(!hb.empty() && (hb.back().payload[20] & 2));
}

TEST(bad_frames_are_counted_and_reported) {
  Rig r;
  uint8_t w[kMaxWire];
  const uint8_t pl[2] = {5, 0};
  size_t wn = encode_frame(kStart, pl, 2, w);
  w[1] ^= 0x10;  // corrupt -> bad CRC
  r.p.rx.insert(r.p.rx.end(), w, w + wn);
  r.d.poll();
  auto f = r.p.take();
  CHECK(f.size() == 1 && f[0].type == kError && error_code(f[0]) == kErrRxError);
  CHECK(get_u16(f[0].payload.data()) == kUnsolicited);
  CHECK(!r.d.streaming());
  CHECK_EQ(r.d.stats().rx_bad, 1);

  // Unknown host type and a device-direction type: UNKNOWN_TYPE with the req_id.
  f = r.cmd(0x50, pl, 2);
  CHECK(f.size() == 1 && error_code(f[0]) == kErrUnknownType && get_u16(f[0].payload.data()) == 5);
  f = r.cmd(kSamples, pl, 2);
  CHECK(f.size() == 1 && error_code(f[0]) == kErrUnknownType);
  CHECK_EQ(r.d.stats().rx_bad, 3);

  // Truncated CONFIG with a readable req_id: BAD_ARG for that request, not acted on.
  f = r.cmd(kConfig, pl, 2);
  CHECK(f.size() == 1 && error_code(f[0]) == kErrBadArg && get_u16(f[0].payload.data()) == 5);

  // FAULT on a device without fault injection.
  uint8_t fq[10];
  size_t n = write_fault(Fault{9, kFaultDrop, 1}, fq);
  f = r.cmd(kFault, fq, n);
  CHECK(f.size() == 1 && error_code(f[0]) == kErrUnsupported);
  CHECK(!r.p.faults_called);

  Rig rf(test_info(true));
  f = rf.cmd(kFault, fq, n);
  CHECK(f.size() == 1 && f[0].type == kAck && rf.p.faults_called);
}

// Every ACTUATE refusal the protocol lists (section 3, "Refusals"), with its reply: the
// code, the req_id it is matched by, and that nothing moves, the device stays safe and
// the watchdog is not fed.
TEST(actuate_refusals_as_documented) {
  Rig r;
  uint8_t q[64];
  ActuateEntry e[2];
  auto refused = [&](const uint8_t* p, size_t n, uint8_t code, uint16_t want_id) {
    auto f = r.cmd(kActuate, p, n);
    return f.size() == 1 && f[0].type == kError && error_code(f[0]) == code && get_u16(f[0].payload.data()) == want_id &&
           f[0].payload[2] == (want_id == kUnsolicited ? 0 : kActuate) && r.p.set_calls.empty() && r.d.safe();
  };
  // count 0 (a well-formed 6-byte payload): BAD_ARG, not a bad frame.
  size_t n = write_actuate(1, e, 0, q);
  uint32_t bad = r.d.stats().rx_bad;
  CHECK(refused(q, n, kErrBadArg, 1));
  CHECK_EQ(r.d.stats().rx_bad, bad);
  // Unknown kind 3.
  e[0].channel = 0; e[0].kind = 3; e[0].value = 1500;
  n = write_actuate(2, e, 1, q);
  CHECK(refused(q, n, kErrBadArg, 2));
  // Each kind's value range, at the first value outside it.
  e[0].kind = kServo; e[0].value = 499;
  n = write_actuate(3, e, 1, q);
  CHECK(refused(q, n, kErrBadArg, 3));
  e[0].kind = kPwm; e[0].value = 10001;
  n = write_actuate(4, e, 1, q);
  CHECK(refused(q, n, kErrBadArg, 4));
  e[0].kind = kPwm; e[0].value = -1;
  n = write_actuate(5, e, 1, q);
  CHECK(refused(q, n, kErrBadArg, 5));
  e[0].channel = 3; e[0].kind = kDigital; e[0].value = -1;
  n = write_actuate(6, e, 1, q);
  CHECK(refused(q, n, kErrBadArg, 6));
  // Shorter than the fixed part but with a readable req_id: BAD_ARG for that request, a bad frame.
  n = write_actuate(7, e, 1, q);
  bad = r.d.stats().rx_bad;
  CHECK(refused(q, 3, kErrBadArg, 7));
  CHECK_EQ(r.d.stats().rx_bad, bad + 1);
  // No readable req_id (1 byte), or the reserved 0xFFFF: unsolicited RX_ERROR.
  CHECK(refused(q, 1, kErrRxError, kUnsolicited));
  n = write_actuate(kUnsolicited, e, 1, q);
  CHECK(refused(q, n, kErrRxError, kUnsolicited));
  CHECK_EQ(r.d.stats().rx_bad, bad + 3);
  // Longer than 6 + 8*count: BAD_ARG (the length must be exact).
  n = write_actuate(8, e, 1, q);
  CHECK(refused(q, n + 1, kErrBadArg, 8));
  // A refused ACTUATE does not feed the watchdog: the outputs stay safe and a valid one still works.
  e[0].channel = 0; e[0].kind = kServo; e[0].value = 1500;
  n = write_actuate(9, e, 1, q);
  auto f = r.cmd(kActuate, q, n);
  CHECK(f.size() == 1 && f[0].type == kAck && !r.d.safe());
}

// CONFIG with block_samples 0: round(rate_hz / 1000) with halves rounded up, at least 1,
// capped to what fits one frame (protocol section 3, CONFIG).
TEST(automatic_block_rounds_halves_up) {
  CHECK_EQ(auto_block_samples(250, 1), 1);
  CHECK_EQ(auto_block_samples(1499, 1), 1);
  CHECK_EQ(auto_block_samples(1500, 1), 2);
  CHECK_EQ(auto_block_samples(2499, 8), 2);
  CHECK_EQ(auto_block_samples(2500, 8), 3);
  CHECK_EQ(auto_block_samples(3500, 16), 4);
  CHECK_EQ(auto_block_samples(4000, 16), 4);
  CHECK_EQ(max_block_samples(16), 20);
  CHECK_EQ(max_block_samples(1), 255);
}
