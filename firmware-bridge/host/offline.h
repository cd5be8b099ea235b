#pragma once
#include <stdint.h>

#include <string>

namespace rfx {
// Generates `seconds` of EMG + tracker truth without a pty or real time into `path`
// (format: README.md, "Offline file"). Returns a process exit code.
int run_offline(const std::string& path, double seconds, uint32_t rate_hz, uint8_t channels, uint64_t seed,
                int mains_hz);
}  // namespace rfx
