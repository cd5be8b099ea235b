// Arduino-framework platform layer for the firmware core (Teensy 4.x, RP2040 class).
// Thin on purpose: everything protocol-related lives in the core (src/core/, copied from
// firmware-bridge/core by `make arduino-sketch`). No fault injection on hardware.
#pragma once
#include <Arduino.h>
#include <Servo.h>

#include "src/core/device.h"

namespace bridge {

// ---- board wiring: edit for your board ------------------------------------------------
// Analog inputs used when no external ADC hook is installed, one per channel.
#if defined(ARDUINO_ARCH_RP2040)
static const uint8_t kAdcPins[] = {A0, A1, A2};  // GP26..GP28; A3 is VSYS/3 on a Pico
#else
static const uint8_t kAdcPins[] = {A0, A1, A2, A3, A4, A5, A6, A7};
#endif
constexpr uint8_t kAdcPinCount = sizeof(kAdcPins) / sizeof(kAdcPins[0]);
constexpr uint8_t kAnalogBits = 12;
// µV per 24-bit count for the built-in ADC: 3.3 V full scale over 2^24 counts, divided by
// the gain of the analog front end in front of the pin (an EMG amplifier module).
constexpr float kFrontEndGain = 1000.0f;
constexpr float kBuiltinUvPerLsb = 3.3e6f / 16777216.0f / kFrontEndGain;
// Actuators: channels 0 and 1 servo or PWM, channels 2 and 3 digital.
static const uint8_t kActuatorPins[4] = {2, 3, 4, 5};
constexpr uint8_t kPwmBits = 12;

// External ADC (ADS1299 or similar over SPI): fill out[0..channels) with signed 24-bit
// counts for one conversion of all channels. Install with ArduinoPlatform::set_adc_hook.
typedef void (*AdcHook)(int32_t* out, uint8_t channels);

class ArduinoPlatform : public rfx::Platform {
 public:
  void begin() {
    analogReadResolution(kAnalogBits);
    analogWriteResolution(kPwmBits);
    for (uint8_t i = 0; i < 4; i++) pinMode(kActuatorPins[i], OUTPUT);
  }
  void set_adc_hook(AdcHook hook) { adc_hook_ = hook; }

  // micros() wraps every 71.6 minutes; extend it to 64 bits. poll() runs far more often
  // than that, so a single wrap between two calls is all that can happen.
  uint64_t now_us() override {
    uint32_t m = micros();
    if (m < last_micros_) high_ += (uint64_t(1) << 32);
    last_micros_ = m;
    return high_ | m;
  }

  size_t rx_read(uint8_t* buf, size_t max) override {
    size_t n = 0;
    while (n < max && Serial.available() > 0) buf[n++] = uint8_t(Serial.read());
    return n;
  }

  size_t tx_write(const uint8_t* buf, size_t len) override {
    int room = Serial.availableForWrite();
    if (room <= 0) return 0;
    size_t n = len < size_t(room) ? len : size_t(room);
    return Serial.write(buf, n);
  }

  // USB CDC: true while the host has the port open (DTR), false when unplugged or closed.
  bool link_up() override { return bool(Serial); }

  void adc_sample(uint32_t, uint64_t, int32_t* out, uint8_t channels) override {
    if (adc_hook_) {
      adc_hook_(out, channels);
      return;
    }
    const int32_t mid = 1 << (kAnalogBits - 1);
    for (uint8_t c = 0; c < channels; c++) {
      int32_t raw = c < kAdcPinCount ? int32_t(analogRead(kAdcPins[c])) : mid;
      out[c] = (raw - mid) * (1 << (24 - kAnalogBits));  // centred, scaled to 24-bit counts
    }
  }

  bool actuator_supports(uint8_t channel, uint8_t kind) override {
    if (channel < 2) return kind == rfx::kServo || kind == rfx::kPwm;
    if (channel < 4) return kind == rfx::kDigital;
    return false;
  }

  void actuator_set(uint8_t channel, uint8_t kind, int32_t value, uint64_t) override {
    uint8_t pin = kActuatorPins[channel];
    if (kind == rfx::kServo) {
      if (!servo_[channel].attached()) servo_[channel].attach(pin);
      servo_[channel].writeMicroseconds(int(value));
    } else if (kind == rfx::kPwm) {
      if (channel < 2 && servo_[channel].attached()) servo_[channel].detach();
      analogWrite(pin, int((int64_t(value) * ((1 << kPwmBits) - 1)) / 10000));
    } else {
      digitalWrite(pin, value ? HIGH : LOW);
    }
  }

  // Safe state: servo pulses stopped (detached), PWM 0, digital LOW.
  void actuator_safe(uint64_t) override {
    for (uint8_t ch = 0; ch < 2; ch++) {
      if (servo_[ch].attached()) servo_[ch].detach();
      analogWrite(kActuatorPins[ch], 0);
    }
    for (uint8_t ch = 2; ch < 4; ch++) digitalWrite(kActuatorPins[ch], LOW);
  }

  // boot_id only needs to differ between resets: ADC noise on a floating pin and the time
  // the USB enumeration took are different every time.
  uint32_t random_u32() override {
    uint32_t x = micros();
    for (uint8_t i = 0; i < 32; i++) x = (x << 1 | (x >> 31)) ^ uint32_t(analogRead(kAdcPins[i % kAdcPinCount]));
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  }

 private:
  Servo servo_[2];
  AdcHook adc_hook_ = nullptr;
  uint32_t last_micros_ = 0;
  uint64_t high_ = 0;
};

}  // namespace bridge
