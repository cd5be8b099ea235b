// Size-check image for Cortex-M (targets/check.sh), not a firmware to flash: the portable
// core linked with a platform whose hardware calls are single register reads and writes,
// so that every core symbol must resolve and the linker's RAM/flash regions are checked.
// The real Teensy/RP2040 build is the Arduino sketch, whose cores Debian does not ship.
// Buffer sizes mirror ArduinoPlatform.h's non-AVR defaults (16 KiB, 512 records).
#include <stddef.h>
#include <stdint.h>

#include "../../core/device.h"

namespace {

// Stand-ins for peripheral registers: volatile, so no access is optimised away and the
// core's calls into the platform stay in the image.
volatile uint32_t g_timer_lo, g_timer_hi, g_rx_count, g_rx_data, g_tx_room, g_tx_data, g_link, g_adc, g_out;

class SizePlatform : public rfx::Platform {
 public:
  uint64_t now_us() override { return (uint64_t(g_timer_hi) << 32) | g_timer_lo; }
  size_t rx_read(uint8_t* buf, size_t max) override {
    size_t n = 0;
    while (n < max && g_rx_count > 0) buf[n++] = uint8_t(g_rx_data);
    return n;
  }
  size_t tx_write(const uint8_t* buf, size_t len) override {
    size_t n = len < g_tx_room ? len : g_tx_room;
    for (size_t i = 0; i < n; i++) g_tx_data = buf[i];
    return n;
  }
  bool link_up() override { return g_link != 0; }
  void adc_sample(uint32_t, uint64_t, int32_t* out, uint8_t channels) override {
    for (uint8_t c = 0; c < channels; c++) out[c] = int32_t(g_adc);
  }
  bool actuator_supports(uint8_t channel, uint8_t kind) override {
    return channel < 2 ? kind != rfx::kDigital : kind == rfx::kDigital;
  }
  void actuator_set(uint8_t channel, uint8_t kind, int32_t value, uint64_t) override {
    g_out = (uint32_t(channel) << 24) ^ (uint32_t(kind) << 16) ^ uint32_t(value);
  }
  void actuator_safe(uint64_t) override { g_out = 0; }
  uint32_t random_u32() override { return g_adc ^ g_timer_lo; }
};

SizePlatform platform;
uint8_t tx_buffer[16384];
rfx::TxRecord tx_records[512];

rfx::DeviceInfo make_info() {
  rfx::DeviceInfo info;
  info.max_channels = 16;
  info.n_actuators = 4;
  info.name = "reflex-bridge";
  info.channels = 8;
  return info;
}

rfx::Device device(platform, make_info(), tx_buffer, sizeof tx_buffer, tx_records, 512);

}  // namespace

int main() {
  device.begin();
  for (;;) device.poll();
}

// Debian's toolchain has no libstdc++ for newlib, and the core needs none: these are the
// only C++ runtime symbols the image names. A firmware never returns from main, so static
// destructors are not registered (__aeabi_atexit does nothing, as on bare-metal runtimes). Platform's pure virtuals name
// __cxa_pure_virtual (called only on a broken vtable) and its virtual destructor names
// operator delete (no object is ever deleted). Both trap.
extern "C" {
void* __dso_handle = nullptr;
int __aeabi_atexit(void*, void (*)(void*), void*) { return 0; }
}
extern "C" void __cxa_pure_virtual() {
  for (;;) {
  }
}
void operator delete(void*) noexcept {
  for (;;) {
  }
}
void operator delete(void*, size_t) noexcept {
  for (;;) {
  }
}
