// The firmware core driven through FakePlatform: sampling schedule (with a drifting
// clock), block framing, transmit queue overflow, link loss; and the synthetic EMG.
#include "../core/device.h"
#include "../core/scheduler.h"
#include "../host/emg_synth.h"
#include "check.h"
#include "fake_platform.h"

using namespace rfx;
using namespace rfxtest;

TEST(scheduler_arithmetic) {
  // 3000 Hz: 333.33 µs per sample; the fraction is carried, never accumulated.
  CHECK_EQ(sample_time_us(0, 1, 3000), 333);
  CHECK_EQ(sample_time_us(0, 2, 3000), 666);
  CHECK_EQ(sample_time_us(0, 3, 3000), 1000);
  CHECK_EQ(sample_time_us(5, 3000000, 3000), 1000000005);
  CHECK_EQ(sample_time_us(0, 4294967296ull, 4000), 1073741824000ull);  // past 2^32 samples
  CHECK_EQ(auto_block_samples(250, 8), 1);
  CHECK_EQ(auto_block_samples(1000, 8), 1);
  CHECK_EQ(auto_block_samples(1499, 8), 1);
  CHECK_EQ(auto_block_samples(1500, 8), 2);
  CHECK_EQ(auto_block_samples(4000, 16), 4);
  CHECK_EQ(max_block_samples(16), 20);
  CHECK_EQ(max_block_samples(1), 255);
  CHECK(24 + 20 * 16 * 3 <= 1020);
  CHECK(24 + 21 * 16 * 3 > 1020);
}

TEST(streaming_blocks_and_timestamps) {
  Rig r;
  uint8_t q[16];
  size_t n = write_config(Config{1, 3000, 3, 0}, q);  // auto block 3
  r.cmd(kConfig, q, n);
  uint64_t t_start = r.p.t;
  n = write_req_only(2, q);
  r.cmd(kStart, q, n);
  CHECK_EQ(r.p.started_rate, 3000);
  std::vector<Frame> all;
  for (int i = 0; i < 1000; i++) {  // 1 s in 1 ms steps
    r.p.t += 1000;
    r.d.poll();
    auto f = r.p.take();
    all.insert(all.end(), f.begin(), f.end());
  }
  auto s = of_type(all, kSamples);
  CHECK_EQ(s.size(), 1000);  // 3000 samples in blocks of 3
  uint32_t expect_first = 0;
  for (size_t i = 0; i < s.size(); i++) {
    SamplesHeader h;
    CHECK(parse_samples_header(s[i].payload.data(), s[i].payload.size(), h) == kOk);
    CHECK_EQ(h.seq, i);
    CHECK_EQ(h.first_sample, expect_first);
    CHECK_EQ(h.t_us, sample_time_us(t_start, expect_first, 3000));
    CHECK(h.channels == 3 && h.samples == 3 && h.uv_per_lsb == 0.25f);
    for (uint8_t k = 0; k < 3; k++) {
      for (uint8_t c = 0; c < 3; c++) {
        int32_t want = (c % 2 ? -1 : 1) * int32_t((expect_first + k) * 16 + c);
        CHECK_EQ(get_i24(s[i].payload.data() + 24 + 3 * (k * 3 + c)), want);
      }
    }
    expect_first += 3;
  }
  CHECK_EQ(of_type(all, kHeartbeat).size(), 1);
  CHECK(of_type(all, kTracker).empty());  // no tracker on this device
}

TEST(drifting_clock_sets_the_sample_count) {
  // The schedule runs on device time: a crystal 500 ppm fast delivers 0.05 % more samples
  // per true second, with t_us still exactly k * 1e6 / rate apart.
  Rig r;
  uint8_t q[16];
  size_t n = write_config(Config{1, 2000, 1, 1}, q);
  r.cmd(kConfig, q, n);
  n = write_req_only(2, q);
  uint64_t dev0 = r.p.t;
  auto frames = r.cmd(kStart, q, n);  // sample 0 is due at once
  size_t count = 0;
  uint64_t last_t = 0, first_t = 0;
  for (uint64_t true_us = 0; true_us <= 10000000; true_us += 500) {
    r.p.t = dev0 + true_us + true_us * 500 / 1000000;
    r.d.poll();
    auto more = r.p.take();
    frames.insert(frames.end(), more.begin(), more.end());
    for (auto& f : of_type(frames, kSamples)) {
      SamplesHeader h;
      parse_samples_header(f.payload.data(), f.payload.size(), h);
      if (count == 0) first_t = h.t_us;
      last_t = h.t_us;
      count++;
    }
    frames.clear();
  }
  CHECK_EQ(count, 20011);  // 10 s true = 10.005 s device -> samples 0..20010
  CHECK_EQ(last_t - first_t, 10005000);
}

TEST(tx_overflow_drops_whole_frames) {
  Rig r(test_info(), 2048);
  uint8_t q[16];
  size_t n = write_config(Config{1, 4000, 16, 0}, q);
  r.cmd(kConfig, q, n);
  n = write_req_only(2, q);
  r.cmd(kStart, q, n);
  r.p.blocked = true;  // host stops reading
  for (int i = 0; i < 50; i++) {
    r.p.t += 1000;
    r.d.poll();
  }
  CHECK(r.d.stats().frames_dropped > 30);
  r.p.blocked = false;
  r.p.t += 1000;
  r.d.poll();
  auto f = r.p.take();
  CHECK_EQ(r.p.bad, 0);  // never half a frame on the wire
  // The overflow is reported once there is room again, and the stream goes on past a gap.
  r.p.t += 1000;
  r.d.poll();
  auto later = r.p.take();
  CHECK_EQ(r.p.bad, 0);
  auto s = of_type(f, kSamples);
  auto s2 = of_type(later, kSamples);
  s.insert(s.end(), s2.begin(), s2.end());
  CHECK(!s.empty());
  bool gap = false;
  for (size_t i = 1; i < s.size(); i++) {
    if (get_u32(s[i].payload.data()) != get_u32(s[i - 1].payload.data()) + 1) gap = true;
  }
  CHECK(gap);
  bool overflow = false;
  for (auto& x : later) if (x.type == kError && error_code(x) == kErrOverflow) overflow = true;
  for (auto& x : f) if (x.type == kError && error_code(x) == kErrOverflow) overflow = true;
  CHECK(overflow);
}

TEST(link_loss_drops_and_link_up_says_hello) {
  Rig r(test_info(), 8192);
  uint8_t q[4];
  size_t n = write_req_only(1, q);
  r.cmd(kStart, q, n);
  r.p.up = false;
  uint32_t dropped = r.d.stats().frames_dropped;
  for (int i = 0; i < 100; i++) {
    r.p.t += 1000;
    r.d.poll();
  }
  CHECK(r.p.tx.empty());
  CHECK(r.d.stats().frames_dropped >= dropped + 100);
  r.p.up = true;
  r.d.poll();
  CHECK(!r.p.tx.empty() && r.p.tx[0] == 0);  // a delimiter first
  auto f = r.p.take();
  CHECK(!f.empty() && f[0].type == kHello);
  CHECK(f[0].payload[18] & 1);  // streaming flag
}

TEST(synth_is_deterministic_and_channel_count_independent) {
  EmgSynth a(42, 50), b(42, 50), c(43, 50);
  a.configure(2000);
  b.configure(2000);
  c.configure(2000);
  int32_t va[16], vb[16], vc[16];
  bool differ = false;
  double sum = 0;
  for (int i = 0; i < 4000; i++) {
    a.step(va, 16);
    b.step(vb, 4);
    c.step(vc, 16);
    for (int ch = 0; ch < 4; ch++) CHECK(va[ch] == vb[ch]);
    if (va[0] != vc[0]) differ = true;
    sum += va[0];
    for (int ch = 0; ch < 16; ch++) CHECK(va[ch] >= -8388608 && va[ch] <= 8388607);
  }
  CHECK(differ);
  // Electrode DC offset of 1..5 mV dominates the mean.
  double mean_uv = sum / 4000 * kUvPerLsb;
  CHECK((mean_uv > 900 && mean_uv < 5100) || (mean_uv < -900 && mean_uv > -5100));
  float pose[2];
  a.pose(pose);
  CHECK(pose[0] >= -60 && pose[0] <= 60 && pose[1] >= 0 && pose[1] <= 1);
}

TEST(stepped_schedule_matches_the_formula_at_every_rate_and_after_a_skip) {
  // The device steps sample times by 1e6/rate with a carried remainder instead of dividing;
  // every SAMPLES t_us must still be sample_time_us(t_start, first_sample, rate) exactly,
  // including after a stall has skipped blocks (which re-seeds the stepping).
  const uint32_t rates[] = {250, 333, 999, 1000, 1499, 2048, 3001, 3333, 4000};
  for (uint32_t rate : rates) {
    Rig r;
    uint8_t q[16];
    size_t n = write_config(Config{1, rate, 2, 0}, q);
    r.cmd(kConfig, q, n);
    uint64_t t_start = r.p.t;
    n = write_req_only(2, q);
    r.cmd(kStart, q, n);
    size_t frames = 0;
    bool skipped = false;
    uint32_t prev_seq = 0;
    for (int i = 0; i < 1200; i++) {
      r.p.t += (i == 600) ? 2500000 : 1 + uint64_t(i * 7919) % 1700;  // one 2.5 s stall
      r.d.poll();
      for (auto& f : of_type(r.p.take(), kSamples)) {
        uint32_t seq = get_u32(f.payload.data());
        uint32_t first = get_u32(f.payload.data() + 4);
        if (frames > 0 && seq != prev_seq + 1) skipped = true;
        prev_seq = seq;
        CHECK_EQ(get_u64(f.payload.data() + 8), sample_time_us(t_start, first, rate));
        frames++;
      }
    }
    CHECK(frames > 100);
    CHECK(skipped);
  }
}
