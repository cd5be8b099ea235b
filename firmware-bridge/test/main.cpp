#include <stdio.h>

#include "check.h"

namespace rfxtest {
int failures = 0;
int checks = 0;
namespace {
struct Entry { const char* name; TestFn fn; };
Entry* registry() { static Entry e[256]; return e; }
int& count() { static int n = 0; return n; }
}  // namespace
Registrar::Registrar(const char* name, TestFn fn) {
  if (count() < 256) registry()[count()++] = Entry{name, fn};
}
}  // namespace rfxtest

int main() {
  for (int i = 0; i < rfxtest::count(); i++) {
    int before = rfxtest::failures;
    rfxtest::registry()[i].fn();
    if (rfxtest::failures != before) fprintf(stderr, "FAIL %s\n", rfxtest::registry()[i].name);
  }
  if (rfxtest::failures) {
    fprintf(stderr, "core-tests: %d of %d checks failed\n", rfxtest::failures, rfxtest::checks);
    return 1;
  }
  return 0;
}
