/*
 * cyclic: this machine's timer floor, with as little software as possible.
 *
 * A periodic loop on absolute CLOCK_MONOTONIC deadlines, deadline(k) = start + k * period,
 * that records how late every cycle woke (wake time minus deadline) and prints ONE JSON
 * line at the end. It is what Reflex's loop worker does (src/loop/worker.ts), minus
 * JavaScript: with --spin-us N it sleeps until N us before the deadline and busy-waits on
 * clock_gettime for the rest, as the worker does with Atomics.wait and its default 150 us
 * spin; with --spin-us 0 it is a plain cyclictest-style clock_nanosleep(TIMER_ABSTIME).
 * Overruns follow the worker's 'skip' policy, and cycles are counted by deadline, so
 * cycles == run + skipped == hz * seconds exactly.
 *
 * To tell who took the time when a cycle is very late, every cycle also reads this
 * thread's /proc/thread-self/schedstat (time on CPU, time waiting on a run queue, times
 * switched in). Run-queue wait is the guest's own scheduling. On-CPU time includes
 * interrupt work done while the thread was current (unless the kernel has
 * IRQ_TIME_ACCOUNTING). What is neither ("unaccounted") is time the thread was not
 * running and not runnable: its timer fired late, or, with PARAVIRT_TIME_ACCOUNTING,
 * the hypervisor ran something else on the virtual CPU (steal, which on-CPU time
 * excludes). /proc/stat is read before and after for steal totals, and with
 * --steal-ms N a second, normal-priority thread samples per-CPU steal every N ms so
 * steal can be matched to the worst cycles.
 *
 * Defaults: --hz 1000 --seconds 10 --spin-us 0 (bench/platform-floor.ts passes 150).
 *
 *   cc -O2 -std=c99 -pthread -o cyclic cyclic.c -lm
 *   cyclic --hz 1000 --seconds 60 [--spin-us 150] [--fifo 50] [--mlock] [--cpu 1] [--steal-ms 10]
 *          [--slack-ns 1]
 *
 * Timer slack is left at the thread's default unless --slack-ns is given: a normal-policy
 * thread's sleeps (and Node's Atomics.wait) may end up to timer_slack_ns (50 us by
 * default) late so the kernel can batch wake-ups; SCHED_FIFO threads get no slack.
 *
 * Exit status: 0 measured (failures to apply --fifo / --mlock / --cpu are reported in
 * "errors", not fatal), 1 could not measure, 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define WORST 5
#define MAX_CPUS 256
#define MAX_CYCLES 20000000L
#define MAX_ERRORS 8

typedef int64_t ns_t;

static ns_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (ns_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(ns_t t) {
  struct timespec ts = { (time_t)(t / 1000000000), (long)(t % 1000000000) };
  /* A signal can end the sleep early; the deadline is absolute, so just sleep again. */
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

/* ---- reported failures (never fatal once measuring can start) ---- */

static char errors[MAX_ERRORS][200];
static int n_errors;

static void report(const char *what, int err) {
  if (n_errors < MAX_ERRORS) snprintf(errors[n_errors++], sizeof errors[0], "%s: %s", what, strerror(err));
}

static void usage_fail(const char *msg) {
  fprintf(stderr, "cyclic: %s\nusage: cyclic --hz HZ --seconds S [--spin-us N] [--fifo 1..99] [--mlock] [--cpu N] [--steal-ms N] [--slack-ns N]\n", msg);
  exit(2);
}

static double num_arg(int argc, char **argv, int *i, double lo, double hi) {
  if (*i + 1 >= argc) usage_fail("missing value after a flag");
  char *end = NULL;
  double v = strtod(argv[*i + 1], &end);
  if (end == argv[*i + 1] || *end != '\0' || !(v >= lo && v <= hi)) {
    fprintf(stderr, "cyclic: %s must be a number in %g..%g, got \"%s\"\n", argv[*i], lo, hi, argv[*i + 1]);
    exit(2);
  }
  (*i)++;
  return v;
}

/* ---- /proc/stat ---- */

/* Jiffies per CPU line: user nice system idle iowait irq softirq steal (guest is inside user). */
enum { F_USER, F_NICE, F_SYSTEM, F_IDLE, F_IOWAIT, F_IRQ, F_SOFTIRQ, F_STEAL, N_FIELDS };

typedef struct {
  unsigned long long all[N_FIELDS];
  unsigned long long cpu[MAX_CPUS][N_FIELDS];
  int ncpu; /* highest CPU number seen + 1 */
} cpu_stat;

static char stat_buf[1 << 16];

/* Parses an open /proc/stat (read from offset 0). Returns 0 on success. */
static int read_cpu_stat(int fd, cpu_stat *s) {
  ssize_t n = pread(fd, stat_buf, sizeof stat_buf - 1, 0);
  if (n <= 0) return -1;
  stat_buf[n] = '\0';
  s->ncpu = 0;
  char *line = stat_buf;
  while (line && strncmp(line, "cpu", 3) == 0) {
    unsigned long long f[N_FIELDS] = { 0 };
    char *p = line + 3;
    int id = -1;
    if (*p >= '0' && *p <= '9') id = (int)strtol(p, &p, 10);
    for (int j = 0; j < N_FIELDS; j++) f[j] = strtoull(p, &p, 10);
    if (id < 0) memcpy(s->all, f, sizeof f);
    else if (id < MAX_CPUS) {
      memcpy(s->cpu[id], f, sizeof f);
      if (id + 1 > s->ncpu) s->ncpu = id + 1;
    }
    line = strchr(line, '\n');
    if (line) line++;
  }
  return 0;
}

/* ---- optional steal sampler thread ---- */

typedef struct {
  int fd;
  ns_t interval;
  long cap;
  long n;
  ns_t *t;
  /* steal[i * MAX_CPUS + cpu] */
  unsigned long long *steal;
  volatile int stop;
} sampler;

static cpu_stat sampler_stat;

static void take_sample(sampler *s) {
  ns_t t = mono_ns();
  if (s->n < s->cap && read_cpu_stat(s->fd, &sampler_stat) == 0) {
    s->t[s->n] = t;
    for (int c = 0; c < sampler_stat.ncpu; c++) s->steal[s->n * MAX_CPUS + c] = sampler_stat.cpu[c][F_STEAL];
    s->n++;
  }
}

/* The first sample is taken before the loop starts and the last after it ends (by main), so every cycle is bracketed. */
static void *sample_steal(void *arg) {
  sampler *s = arg;
  ns_t next = mono_ns();
  for (;;) {
    next += s->interval;
    sleep_until(next);
    if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) break;
    take_sample(s);
  }
  return NULL;
}

/* Steal jiffies on `cpu` (or all CPUs when cpu < 0) between the samples around [from, to]. */
static long long steal_between(const sampler *s, ns_t from, ns_t to, int cpu, int ncpu) {
  long a = -1, b = -1;
  for (long i = 0; i < s->n; i++) {
    if (s->t[i] <= from) a = i;
    if (s->t[i] >= to && b < 0) b = i;
  }
  if (a < 0 || b < 0) return -1;
  long long sum = 0;
  for (int c = 0; c < ncpu; c++) {
    if (cpu >= 0 && c != cpu) continue;
    sum += (long long)(s->steal[b * MAX_CPUS + c] - s->steal[a * MAX_CPUS + c]);
  }
  return sum;
}

/* ---- per-thread scheduler accounting ---- */

/* /proc/thread-self/schedstat: ns on CPU, ns waiting on a run queue, times switched in. */
static int read_schedstat(int fd, unsigned long long *exec, unsigned long long *wait, unsigned long long *slices) {
  char buf[128];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = '\0';
  return sscanf(buf, "%llu %llu %llu", exec, wait, slices) == 3 ? 0 : -1;
}

typedef struct {
  ns_t lateness;
  long k;
  ns_t wake;
  int cpu;
  ns_t wait, exec; /* run-queue wait and on-CPU time since the previous wake */
  long long slices;
  /*
   * Since the previous cycle, time neither on CPU, nor on a run queue, nor asleep by plan.
   * A lower bound (clamped at 0): a preemption between planning the sleep and entering it
   * is counted as run-queue wait and also shortens the sleep, which the plan cannot see.
   */
  ns_t lost;
  /* How late the sleep itself ended, and how long the spin after it took (wall time). */
  ns_t woke_late, spun;
} spike;

static int cmp_ns(const void *a, const void *b) {
  ns_t x = *(const ns_t *)a, y = *(const ns_t *)b;
  return (x > y) - (x < y);
}

/* The same nearest-rank definition as bench/_util.ts percentile(). */
static double pct_us(const ns_t *sorted, long n, double p) {
  if (n == 0) return NAN;
  long idx = (long)ceil(p / 100.0 * (double)n) - 1;
  if (idx < 0) idx = 0;
  if (idx > n - 1) idx = n - 1;
  return (double)sorted[idx] / 1000.0;
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void json_num(double v) {
  if (isfinite(v)) printf("%.1f", v);
  else printf("null");
}

int main(int argc, char **argv) {
  double hz = 1000, seconds = 10;
  int fifo = 0, cpu_pin = -1, want_mlock = 0;
  long slack_ns = 0;
  double spin_us = 0, steal_ms = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--hz") == 0) hz = num_arg(argc, argv, &i, 1, 100000);
    else if (strcmp(a, "--seconds") == 0) seconds = num_arg(argc, argv, &i, 0.001, 86400);
    else if (strcmp(a, "--fifo") == 0) fifo = (int)num_arg(argc, argv, &i, 1, 99);
    else if (strcmp(a, "--spin-us") == 0) spin_us = num_arg(argc, argv, &i, 0, 1000000);
    else if (strcmp(a, "--cpu") == 0) cpu_pin = (int)num_arg(argc, argv, &i, 0, MAX_CPUS - 1);
    else if (strcmp(a, "--steal-ms") == 0) steal_ms = num_arg(argc, argv, &i, 0, 10000);
    else if (strcmp(a, "--slack-ns") == 0) slack_ns = (long)num_arg(argc, argv, &i, 1, 1e9);
    else if (strcmp(a, "--mlock") == 0) want_mlock = 1;
    else {
      fprintf(stderr, "cyclic: unknown flag \"%s\"\n", a);
      usage_fail("see the flags below");
    }
  }
  const double period = 1e9 / hz;
  const long cycles = lround(hz * seconds);
  if (cycles < 1 || cycles > MAX_CYCLES) usage_fail("hz * seconds must be 1..20000000 cycles");
  const ns_t spin = (ns_t)llround(spin_us * 1000);

  /* Touched now so the loop never page-faults on them. */
  ns_t *late = malloc((size_t)cycles * sizeof *late);
  if (!late) {
    fprintf(stderr, "cyclic: cannot allocate %ld cycles of results\n", cycles);
    return 1;
  }
  memset(late, 0, (size_t)cycles * sizeof *late);

  if (slack_ns > 0 && prctl(PR_SET_TIMERSLACK, (unsigned long)slack_ns, 0, 0, 0) != 0) report("PR_SET_TIMERSLACK", errno);
  if (want_mlock && mlockall(MCL_CURRENT | MCL_FUTURE) != 0) report("mlockall", errno);
  if (cpu_pin >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu_pin, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) report("sched_setaffinity", errno);
  }

  int stat_fd = open("/proc/stat", O_RDONLY);
  static cpu_stat before, after;
  int have_stat = stat_fd >= 0 && read_cpu_stat(stat_fd, &before) == 0;
  if (!have_stat) report("/proc/stat", errno ? errno : EIO);

  /* Started before this thread becomes SCHED_FIFO, so it inherits the normal policy. */
  static sampler smp;
  pthread_t smp_thread;
  int sampling = 0;
  if (steal_ms > 0) {
    smp.fd = open("/proc/stat", O_RDONLY);
    smp.interval = (ns_t)llround(steal_ms * 1e6);
    /* Room for the run and some more; past that the sampler stops recording, not the loop. */
    smp.cap = (long)(seconds * 1000 / steal_ms) + 64;
    smp.t = calloc((size_t)smp.cap, sizeof *smp.t);
    smp.steal = calloc((size_t)smp.cap * MAX_CPUS, sizeof *smp.steal);
    if (smp.fd < 0 || !smp.t || !smp.steal) report("steal sampler", smp.fd < 0 ? errno : ENOMEM);
    else {
      take_sample(&smp);
      if ((errno = pthread_create(&smp_thread, NULL, sample_steal, &smp)) != 0) report("steal sampler thread", errno);
      else sampling = 1;
    }
  }

  if (fifo > 0) {
    struct sched_param sp = { .sched_priority = fifo };
    int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    if (rc != 0) report("SCHED_FIFO (needs root or CAP_SYS_NICE, and RT runtime in this cgroup)", rc);
  }
  char policy[64];
  {
    int pol = SCHED_OTHER;
    struct sched_param sp = { 0 };
    if (pthread_getschedparam(pthread_self(), &pol, &sp) == 0 && pol == SCHED_FIFO) snprintf(policy, sizeof policy, "SCHED_FIFO %d", sp.sched_priority);
    else if (pol == SCHED_RR) snprintf(policy, sizeof policy, "SCHED_RR %d", sp.sched_priority);
    else snprintf(policy, sizeof policy, "SCHED_OTHER");
  }

  int ss_fd = open("/proc/thread-self/schedstat", O_RDONLY);
  unsigned long long ex0 = 0, wt0 = 0, sl0 = 0;
  if (ss_fd < 0 || read_schedstat(ss_fd, &ex0, &wt0, &sl0) != 0) {
    report("/proc/thread-self/schedstat (per-spike accounting off)", errno ? errno : EIO);
    if (ss_fd >= 0) close(ss_fd);
    ss_fd = -1;
  }

  spike worst[WORST];
  int n_worst = 0;
  long run = 0, skipped = 0, over_1ms = 0, over_100us = 0;
  const ns_t start = mono_ns();
  /* Accounting windows run from one schedstat read to the next, so all their parts line up. */
  ns_t prev_read = start, planned = 0, asleep_at = start;
  /* Each deadline from its index, never by adding periods: no drift however long it runs. */
#define DEADLINE(k) (start + (ns_t)((double)(k) * period))
  long k = 1;
  while (k <= cycles) {
    const ns_t d = DEADLINE(k);
    ns_t now;
    const ns_t wake_at = spin > 0 ? d - spin : d;
    asleep_at = mono_ns();
    planned = wake_at > asleep_at ? wake_at - asleep_at : 0;
    if (planned > 0) sleep_until(wake_at);
    const ns_t woke = mono_ns();
    while ((now = mono_ns()) < d) {
    }
    const ns_t l = now - d;
    late[run++] = l;
    if (l > 1000000) over_1ms++;
    if (l > 100000) over_100us++;
    unsigned long long ex = ex0, wt = wt0, sl = sl0;
    if (ss_fd >= 0) read_schedstat(ss_fd, &ex, &wt, &sl);
    const ns_t read_at = mono_ns();
    if (n_worst < WORST || l > worst[n_worst - 1].lateness) {
      int j = n_worst < WORST ? n_worst++ : WORST - 1;
      while (j > 0 && worst[j - 1].lateness < l) {
        worst[j] = worst[j - 1];
        j--;
      }
      const ns_t wait = (ns_t)(wt - wt0), exec = (ns_t)(ex - ex0);
      const ns_t lost = (read_at - prev_read) - exec - wait - planned;
      worst[j] = (spike){ l, k, now, sched_getcpu(), wait, exec, (long long)(sl - sl0), lost > 0 ? lost : 0,
                          planned > 0 ? woke - wake_at : 0, now - woke };
    }
    prev_read = read_at;
    ex0 = ex;
    wt0 = wt;
    sl0 = sl;
    /* The worker's 'skip' policy: deadlines already passed are dropped, not run late. */
    const ns_t end = mono_ns();
    long next = k + 1;
    if (end >= DEADLINE(next)) {
      long due = (long)floor((double)(end - start) / period);
      if (due < next) due = next;
      long target = due + 1;
      if (target > cycles + 1) target = cycles + 1;
      skipped += target - next;
      next = target;
    }
    k = next;
  }
  const ns_t finish = mono_ns();

  if (sampling) {
    __atomic_store_n(&smp.stop, 1, __ATOMIC_RELEASE);
    pthread_join(smp_thread, NULL);
    /* The final sample bracket: the cap keeps room only if the run was not much longer than planned. */
    if (smp.n == smp.cap) smp.n--;
    take_sample(&smp);
  }
  if (have_stat && read_cpu_stat(stat_fd, &after) != 0) {
    report("/proc/stat (after)", errno ? errno : EIO);
    have_stat = 0;
  }

  qsort(late, (size_t)run, sizeof *late, cmp_ns);
  double sum = 0;
  for (long i = 0; i < run; i++) sum += (double)late[i];

  char clocksource[64] = "unknown";
  FILE *cs = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
  if (cs) {
    if (fgets(clocksource, sizeof clocksource, cs)) clocksource[strcspn(clocksource, "\n")] = '\0';
    fclose(cs);
  }

  printf("{\"hz\":%g,\"seconds\":%g,\"spin_us\":%g,\"cycles\":%ld,\"run\":%ld,\"skipped\":%ld,", hz, seconds, spin_us, cycles, run, skipped);
  printf("\"elapsed_s\":%.3f,\"min_us\":", (double)(finish - start) / 1e9);
  json_num(run ? (double)late[0] / 1000 : NAN);
  printf(",\"mean_us\":");
  json_num(run ? sum / (double)run / 1000 : NAN);
  printf(",\"p50_us\":");
  json_num(pct_us(late, run, 50));
  printf(",\"p99_us\":");
  json_num(pct_us(late, run, 99));
  printf(",\"p999_us\":");
  json_num(pct_us(late, run, 99.9));
  printf(",\"max_us\":");
  json_num(run ? (double)late[run - 1] / 1000 : NAN);
  printf(",\"over_1ms\":%ld,\"over_100us\":%ld,\"worst\":[", over_1ms, over_100us);
  int ncpu = have_stat ? after.ncpu : 0;
  for (int i = 0; i < n_worst; i++) {
    const spike *w = &worst[i];
    printf("%s{\"cycle\":%ld,\"offset_ms\":%.3f,\"lateness_us\":%.1f,\"cpu\":%d,", i ? "," : "", w->k, (double)(w->wake - start) / 1e6, (double)w->lateness / 1000, w->cpu);
    if (ss_fd >= 0) printf("\"run_queue_us\":%.1f,\"on_cpu_us\":%.1f,\"switched_in\":%lld,\"unaccounted_us\":%.1f,", (double)w->wait / 1000, (double)w->exec / 1000, w->slices, (double)w->lost / 1000);
    else printf("\"run_queue_us\":null,\"on_cpu_us\":null,\"switched_in\":null,\"unaccounted_us\":null,");
    printf("\"woke_late_us\":%.1f,\"spin_wall_us\":%.1f,", (double)w->woke_late / 1000, (double)w->spun / 1000);
    /* From the sample before the previous wake to the sample after this one. */
    const ns_t from = w->wake - w->lateness - (ns_t)period;
    long long st_cpu = sampling ? steal_between(&smp, from, w->wake, w->cpu, ncpu) : -1;
    long long st_all = sampling ? steal_between(&smp, from, w->wake, -1, ncpu) : -1;
    if (st_cpu >= 0) printf("\"steal_jiffies_cpu\":%lld,\"steal_jiffies_all\":%lld}", st_cpu, st_all);
    else printf("\"steal_jiffies_cpu\":null,\"steal_jiffies_all\":null}");
  }
  printf("],\"policy\":");
  json_str(policy);
  printf(",\"fifo_requested\":%d,\"mlock\":%s,\"cpu_pinned\":%d,\"errors\":[", fifo, want_mlock ? "true" : "false", cpu_pin);
  for (int i = 0; i < n_errors; i++) {
    if (i) putchar(',');
    json_str(errors[i]);
  }
  printf("],\"start_monotonic_ns\":%lld,\"clocksource\":", (long long)start);
  json_str(clocksource);
  printf(",\"user_hz\":%ld,\"timer_slack_ns\":%d", sysconf(_SC_CLK_TCK), prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
  if (have_stat) {
    unsigned long long total = 0;
    for (int j = 0; j < N_FIELDS; j++) total += after.all[j] - before.all[j];
    unsigned long long steal = after.all[F_STEAL] - before.all[F_STEAL];
    unsigned long long irq = after.all[F_IRQ] - before.all[F_IRQ] + after.all[F_SOFTIRQ] - before.all[F_SOFTIRQ];
    printf(",\"steal_jiffies\":%llu,\"total_jiffies\":%llu,\"irq_jiffies\":%llu,\"steal_percent\":", steal, total, irq);
    json_num(total ? 100.0 * (double)steal / (double)total : NAN);
    printf(",\"steal_jiffies_per_cpu\":[");
    for (int c = 0; c < after.ncpu; c++) printf("%s%llu", c ? "," : "", after.cpu[c][F_STEAL] - before.cpu[c][F_STEAL]);
    printf("]");
  } else {
    printf(",\"steal_jiffies\":null,\"total_jiffies\":null,\"irq_jiffies\":null,\"steal_percent\":null,\"steal_jiffies_per_cpu\":null");
  }
  if (sampling) {
    /* The worst single sampling interval for steal, to compare with the worst cycles. */
    long long best = -1;
    ns_t best_t = 0;
    for (long i = 1; i < smp.n; i++) {
      long long s = 0;
      for (int c = 0; c < ncpu; c++) s += (long long)(smp.steal[i * MAX_CPUS + c] - smp.steal[(i - 1) * MAX_CPUS + c]);
      if (s > best) {
        best = s;
        best_t = smp.t[i];
      }
    }
    printf(",\"steal_samples\":%ld,\"steal_ms\":%g,\"steal_max_jiffies_in_sample\":%lld,\"steal_max_at_ms\":%.3f", smp.n, steal_ms, best, (double)(best_t - start) / 1e6);
  }
  printf("}\n");
  return 0;
}
