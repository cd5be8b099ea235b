// firmware-bridge for Teensy 4.x / RP2040 boards: the portable core (src/core) with the
// Arduino platform layer. Build and upload: see firmware-bridge/README.md.
#include "ArduinoPlatform.h"

static bridge::ArduinoPlatform platform;
static uint8_t tx_buffer[16384];

static rfx::DeviceInfo make_info() {
  rfx::DeviceInfo info;
  info.fw_major = 1;
  info.fw_minor = 0;
  info.fw_patch = 0;
  info.max_channels = bridge::kAdcPinCount;  // raise to 16 with an external ADC hook
  info.adc_bits = 24;
  info.n_actuators = 4;
  info.name = "reflex-bridge";
  info.uv_per_lsb = bridge::kBuiltinUvPerLsb;
  info.rate_hz = 1000;
  info.channels = bridge::kAdcPinCount;
  info.block_samples = 0;
  info.faults = false;
  info.tracker_rate_hz = 0;
  return info;
}

static rfx::Device device(platform, make_info(), tx_buffer, sizeof tx_buffer);

void setup() {
  Serial.begin(2000000);  // ignored by USB CDC, honoured by a UART
  platform.begin();
  device.begin();
}

void loop() { device.poll(); }
