// Minimal test harness: plain checks that report file:line and keep going, so one run
// shows every failure. No framework, nothing to install on a lab machine.
#pragma once
#include <stdio.h>

namespace rfxtest {
extern int failures;
extern int checks;
typedef void (*TestFn)();
struct Registrar {
  Registrar(const char* name, TestFn fn);
};
}  // namespace rfxtest

#define CHECK(cond)                                                           \
  do {                                                                        \
    rfxtest::checks++;                                                        \
    if (!(cond)) {                                                            \
      rfxtest::failures++;                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                         \
  } while (0)

#define CHECK_EQ(a, b)                                                                            \
  do {                                                                                            \
    rfxtest::checks++;                                                                            \
    long long va_ = static_cast<long long>(a), vb_ = static_cast<long long>(b);                   \
    if (va_ != vb_) {                                                                             \
      rfxtest::failures++;                                                                        \
      fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", __FILE__, __LINE__, #a, \
              #b, va_, vb_);                                                                      \
    }                                                                                             \
  } while (0)

#define TEST(name)                                              \
  static void name();                                           \
  static rfxtest::Registrar reg_##name(#name, name);            \
  static void name()
