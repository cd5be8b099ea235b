// reflex-bridge-host: the firmware core on a POSIX platform (pseudo-terminal, synthetic
// EMG and tracker, fault injection). See ../README.md for flags and file formats.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <string>
#include <vector>

#include "../core/device.h"
#include "host_platform.h"
#include "offline.h"
#include "vectors.h"

using namespace rfx;

namespace {

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_usr[2] = {0, 0};
void on_signal(int) { g_stop = 1; }
void on_usr(int sig) { g_usr[sig == SIGUSR2 ? 1 : 0] = 1; }

const char* kUsage =
    "usage: reflex-bridge-host [flags]\n"
    "  --rate HZ            sample rate, 250..4000 (default 1000)\n"
    "  --channels N         enabled channels, 1..16 (default 8)\n"
    "  --block N            samples per SAMPLES frame, 0 = automatic (default 0)\n"
    "  --seed N             seed of the synthetic signals (default 1)\n"
    "  --mains 50|60        mains hum frequency (default 50)\n"
    "  --drift-ppm PPM      device clock error, positive = fast (default 0)\n"
    "  --jitter-us US       delay each frame by uniform 0..US (order kept)\n"
    "  --corrupt N          flip one random byte in every N-th frame\n"
    "  --fault KIND:PARAM[@MS]  inject a FAULT at MS ms after start (repeatable); KIND is\n"
    "                       corrupt|drop|stall|disconnect|drift|jitter|garbage\n"
    "  --fault-on-usr1 KIND:PARAM  inject that fault on every SIGUSR1 (repeatable); KIND as\n"
    "                       --fault, or deaf:MS (drop all host input for MS ms, or until\n"
    "                       the host closes the pty or it is unplugged)\n"
    "  --fault-on-usr2 KIND:PARAM  the same on SIGUSR2\n"
    "  --loopback ACT:CH    read actuator channel ACT's output back on EMG channel CH (jumper)\n"
    "  --no-watchdog        outputs ignore the watchdog's safe state (fault for tests)\n"
    "  --autostart          start streaming at power-up without a START command\n"
    "  --link PATH          keep a symlink at PATH pointing to the current pty slave\n"
    "  --dump FILE          every generated sample: `index v_ch1 v_ch2 ...` (int24 counts)\n"
    "  --truth FILE         per SAMPLES frame queued: `seq first_sample t_us true_monotonic_ns`\n"
    "  --actuator-log FILE  `t_us channel kind value` per applied output, `t_us safe` on safe state\n"
    "  --exit-with-parent   exit when the parent process dies (Linux)\n"
    "  --vectors            print the canonical protocol frames as JSON lines and exit\n"
    "  --offline SECONDS    no pty, no real time: write SECONDS of EMG + tracker to --out\n"
    "  --out FILE           output of --offline (binary, see README.md)\n"
    "  --help               this text\n";

// Host-only signal fault, not a protocol FAULT kind: the host stops talking (see go_deaf).
constexpr uint8_t kFaultDeaf = 100;

struct ScheduledFault {
  uint8_t kind;
  int32_t param;
  int64_t at_ns;
  bool done;
};

[[noreturn]] void usage_error(const char* fmt, const char* arg) {
  fprintf(stderr, "reflex-bridge-host: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n%s", kUsage);
  exit(2);
}

long long parse_int(const char* flag, const char* v, long long lo, long long hi) {
  if (!v) usage_error("%s needs a value", flag);
  char* end = nullptr;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || !end || *end || end == v || x < lo || x > hi) usage_error("bad value for %s", flag);
  return x;
}

double parse_double(const char* flag, const char* v, double lo, double hi) {
  if (!v) usage_error("%s needs a value", flag);
  char* end = nullptr;
  double x = strtod(v, &end);
  if (!end || *end || end == v || !(x >= lo && x <= hi)) usage_error("bad value for %s", flag);
  return x;
}

bool parse_fault(const char* spec, ScheduledFault& f) {
  static const char* names[] = {"corrupt", "drop", "stall", "disconnect", "drift", "jitter", "garbage"};
  const char* colon = strchr(spec, ':');
  if (!colon) return false;
  std::string kind(spec, size_t(colon - spec));
  f.kind = 0;
  for (uint8_t i = 0; i < 7; i++) {
    if (kind == names[i]) f.kind = uint8_t(i + 1);
  }
  if (!f.kind) return false;
  char* end = nullptr;
  long p = strtol(colon + 1, &end, 10);
  f.param = int32_t(p);
  long at_ms = 0;
  if (*end == '@') at_ms = strtol(end + 1, &end, 10);
  if (*end || at_ms < 0) return false;
  f.at_ns = int64_t(at_ms) * 1000000;
  f.done = false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  HostOptions ho;
  uint32_t rate = 1000;
  uint8_t channels = 8, block = 0;
  bool autostart = false, vectors = false, exit_with_parent = false;
  double offline_s = -1;
  std::string out;
  std::vector<ScheduledFault> faults;
  std::vector<ScheduledFault> usr_faults[2];

  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    auto takes = [&]() { i++; };
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(kUsage, stdout); return 0; }
    else if (!strcmp(a, "--rate")) { rate = uint32_t(parse_int(a, v, 250, 4000)); takes(); }
    else if (!strcmp(a, "--channels")) { channels = uint8_t(parse_int(a, v, 1, 16)); takes(); }
    else if (!strcmp(a, "--block")) { block = uint8_t(parse_int(a, v, 0, 255)); takes(); }
    else if (!strcmp(a, "--seed")) { ho.seed = uint64_t(parse_int(a, v, 0, INT64_MAX)); takes(); }
    else if (!strcmp(a, "--mains")) {
      ho.mains_hz = int(parse_int(a, v, 50, 60));
      if (ho.mains_hz != 50 && ho.mains_hz != 60) usage_error("%s must be 50 or 60", a);
      takes();
    }
    else if (!strcmp(a, "--drift-ppm")) { ho.drift_ppm = parse_double(a, v, -100000, 100000); takes(); }
    else if (!strcmp(a, "--jitter-us")) { ho.jitter_us = int32_t(parse_int(a, v, 0, 1000000)); takes(); }
    else if (!strcmp(a, "--corrupt")) { ho.corrupt_every = int32_t(parse_int(a, v, 0, INT32_MAX)); takes(); }
    else if (!strcmp(a, "--fault")) {
      ScheduledFault f{};
      if (!v || !parse_fault(v, f)) usage_error("bad --fault spec %s (want KIND:PARAM[@MS])", v ? v : "");
      faults.push_back(f);
      takes();
    }
    else if (!strcmp(a, "--fault-on-usr1") || !strcmp(a, "--fault-on-usr2")) {
      ScheduledFault f{};
      long deaf_ms = -1;
      char* end = nullptr;
      if (v && !strncmp(v, "deaf:", 5)) {
        deaf_ms = strtol(v + 5, &end, 10);
        if (end == v + 5 || *end || deaf_ms < 0 || deaf_ms > 60000) usage_error("bad signal fault %s (deaf:MS, MS 0..60000)", v);
        f.kind = kFaultDeaf;
        f.param = int32_t(deaf_ms);
      } else if (!v || !parse_fault(v, f) || f.at_ns != 0) {
        usage_error("bad signal fault %s (want KIND:PARAM)", v ? v : "");
      }
      usr_faults[a[14] == '2' ? 1 : 0].push_back(f);
      takes();
    }
    else if (!strcmp(a, "--loopback")) {
      if (!v) usage_error("%s needs a value", a);
      int act = -1, ch = -1;
      char tail = 0;
      if (sscanf(v, "%d:%d%c", &act, &ch, &tail) != 2 || act < 0 || act > 3 || ch < 0 || ch > 15) {
        usage_error("bad --loopback %s (want ACT:CH, ACT 0..3, CH 0..15)", v);
      }
      ho.loopback_act = act;
      ho.loopback_ch = ch;
      takes();
    }
    else if (!strcmp(a, "--no-watchdog")) ho.no_watchdog = true;
    else if (!strcmp(a, "--autostart")) autostart = true;
    else if (!strcmp(a, "--exit-with-parent")) exit_with_parent = true;
    else if (!strcmp(a, "--link")) { if (!v) usage_error("%s needs a value", a); ho.link = v; takes(); }
    else if (!strcmp(a, "--dump")) { if (!v) usage_error("%s needs a value", a); ho.dump = v; takes(); }
    else if (!strcmp(a, "--truth")) { if (!v) usage_error("%s needs a value", a); ho.truth = v; takes(); }
    else if (!strcmp(a, "--actuator-log")) { if (!v) usage_error("%s needs a value", a); ho.actuator_log = v; takes(); }
    else if (!strcmp(a, "--vectors")) vectors = true;
    else if (!strcmp(a, "--offline")) { offline_s = parse_double(a, v, 0, 1e6); takes(); }
    else if (!strcmp(a, "--out")) { if (!v) usage_error("%s needs a value", a); out = v; takes(); }
    else usage_error("unknown flag %s", a);
  }

  if (vectors) {
    print_vectors(stdout);
    return 0;
  }
  if (offline_s >= 0) {
    if (out.empty()) usage_error("%s", "--offline needs --out FILE");
    return run_offline(out, offline_s, rate, channels, ho.seed, ho.mains_hz);
  }

  // Parent death check before installing handlers: a launcher that already died must not
  // leave us running.
  pid_t parent = getppid();
#ifdef __linux__
  if (exit_with_parent) prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
  if (exit_with_parent && getppid() != parent) return 0;

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction su {};
  su.sa_handler = on_usr;
  sigemptyset(&su.sa_mask);
  sigaction(SIGUSR1, &su, nullptr);
  sigaction(SIGUSR2, &su, nullptr);
  signal(SIGPIPE, SIG_IGN);

  HostPlatform plat(ho);
  if (!plat.open_files()) return 1;

  DeviceInfo info;
  info.fw_major = 1; info.fw_minor = 0; info.fw_patch = 0;
  info.max_channels = 16;
  info.adc_bits = 24;
  info.n_actuators = 4;
  info.name = "reflex-sim";
  info.uv_per_lsb = static_cast<float>(kUvPerLsb);
  info.rate_hz = 1000;
  info.channels = 1;
  info.faults = true;
  info.tracker_rate_hz = 100;

  static uint8_t txbuf[65536];
  static TxRecord txrec[512];
  Device dev(plat, info, txbuf, sizeof txbuf, txrec, sizeof txrec / sizeof txrec[0]);
  const char* why = "";
  if (dev.configure(rate, channels, block, &why) != kErrNone) usage_error("bad configuration: %s", why);
  dev.begin();
  if (!plat.open_link()) return 1;
  if (autostart) dev.start();

  const int64_t t0 = mono_ns();
  int64_t next_flush = t0 + 1000000000;
  while (!g_stop) {
    int64_t now = mono_ns();
    for (auto& f : faults) {
      if (!f.done && now - t0 >= f.at_ns) {
        f.done = true;
        CmdResult r = plat.fault(dev, f.kind, f.param);
        if (r.code) fprintf(stderr, "reflex-bridge-host: --fault rejected: %s\n", r.msg);
      }
    }
    for (int k = 0; k < 2; k++) {
      if (!g_usr[k]) continue;
      g_usr[k] = 0;
      for (auto& f : usr_faults[k]) {
        if (f.kind == kFaultDeaf) {
          plat.go_deaf(f.param);
          continue;
        }
        CmdResult r = plat.fault(dev, f.kind, f.param);
        if (r.code) fprintf(stderr, "reflex-bridge-host: signal fault rejected: %s\n", r.msg);
      }
    }
    plat.service(dev);
    dev.poll();
    plat.after_poll(dev);
    if (now >= next_flush) {
      plat.flush_files();
      next_flush = now + 1000000000;
    }

    // Sleep until the device has something due, a platform timer fires or the host sends
    // bytes; never longer than 5 ms so a host opening the pty is noticed promptly.
    now = mono_ns();
    int64_t wake = plat.clock().mono_at(dev.next_deadline_us());
    int64_t t = plat.next_timer_ns();
    if (t < wake) wake = t;
    for (auto& f : faults) {
      if (!f.done && t0 + f.at_ns < wake) wake = t0 + f.at_ns;
    }
    if (wake > now + 5000000) wake = now + 5000000;
    if (wake <= now) continue;
    if (plat.link_up()) {
      pollfd p{plat.link().fd(), short(POLLIN | (plat.want_pollout() ? POLLOUT : 0)), 0};
      timespec ts{time_t((wake - now) / 1000000000), long((wake - now) % 1000000000)};
      ppoll(&p, 1, &ts, nullptr);
    } else {
      timespec ts{time_t(wake / 1000000000), long(wake % 1000000000)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
    }
    if (exit_with_parent && getppid() != parent) break;
  }
  plat.shutdown();
  return 0;
}
