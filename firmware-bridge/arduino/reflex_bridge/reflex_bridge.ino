// firmware-bridge for Teensy 4.x / RP2040 / Arduino Mega 2560 boards: the portable core
// (src/core) with the Arduino platform layer. Build and upload: see firmware-bridge/README.md.
#include "ArduinoPlatform.h"

static bridge::ArduinoPlatform platform;
static uint8_t tx_buffer[REFLEX_TX_BYTES];
static rfx::TxRecord tx_records[REFLEX_TX_RECORDS];

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
#if defined(__AVR__)
  // A 16 MHz AVR spends ~119 µs per analogRead() and ~7400 cycles per frame: 4 channels
  // at 500 Hz use about 70 % of it (targets/avr-sim/run.sh; the README has the table).
  info.rate_hz = 500;
  info.channels = bridge::kAdcPinCount < 4 ? bridge::kAdcPinCount : 4;
#else
  info.rate_hz = 1000;
  info.channels = bridge::kAdcPinCount;
#endif
  info.block_samples = 0;
  info.faults = false;
  info.tracker_rate_hz = 0;
  return info;
}

static rfx::Device device(platform, make_info(), tx_buffer, sizeof tx_buffer, tx_records,
                          sizeof tx_records / sizeof tx_records[0]);

void setup() {
  Serial.begin(REFLEX_SERIAL_BAUD);
  platform.begin();
  device.begin();
}

void loop() { device.poll(); }
