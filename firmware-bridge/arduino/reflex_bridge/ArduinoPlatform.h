// Arduino-framework platform layer for the firmware core (Teensy 4.x, RP2040, ATmega2560).
// Thin on purpose: everything protocol-related lives in the core (src/core/, copied from
// firmware-bridge/core by `make arduino-sketch`). No fault injection on hardware.
#pragma once
#include <Arduino.h>

// AVR branches test __AVR__, which only avr-gcc sets: ARDUINO_ARCH_AVR names the board
// package's folder, and ARM boards packaged under an "avr" folder may set it too.
// Teensyduino and arduino-pico bundle Servo. On AVR it is a separate library (Debian ships
// none), so servo output there is opt-in: define REFLEX_SERVO 1 once Servo is installed.
#ifndef REFLEX_SERVO
#if defined(__AVR__)
#define REFLEX_SERVO 0
#else
#define REFLEX_SERVO 1
#endif
#endif
#if REFLEX_SERVO
#include <Servo.h>
#endif

#include "src/core/device.h"

// ---- RAM: sized per target, overridable with -D ------------------------------------------
// The protocol fixes ~3 KiB of frame buffers in the core (a 1020-byte SAMPLES payload, a
// 1031-byte wire frame, a 1030-byte receive frame). The transmit queue comes on top:
// stream frames keep 1 KiB free for replies, so the queue needs > 1024 + 1031 bytes for a
// full-size SAMPLES frame to be sent at all. An ATmega2560 (8 KiB) fits that with ~1.2 KiB
// left for the stack (the deepest path uses ~450 bytes); a 2 KiB ATmega328P (Uno, Nano) or
// 2.5 KiB ATmega32U4 (Leonardo) cannot hold even the core's fixed buffers (~3.4 KiB).
#if defined(__AVR__)
#if defined(RAMEND) && defined(RAMSTART) && (RAMEND - RAMSTART + 1) < 8192
#error "reflex_bridge needs an AVR with 8 KiB of RAM or more (ATmega2560: Arduino Mega 2560); see firmware-bridge/README.md"
#endif
#ifndef REFLEX_TX_BYTES
#define REFLEX_TX_BYTES 2304
#endif
#ifndef REFLEX_TX_RECORDS
#define REFLEX_TX_RECORDS 32
#endif
#ifndef REFLEX_SERIAL_BAUD
#define REFLEX_SERIAL_BAUD 1000000  // exact at 16 MHz (U2X, UBRR 1); set the board file's baudRate to match
#endif
#else
#ifndef REFLEX_TX_BYTES
#define REFLEX_TX_BYTES 16384
#endif
#ifndef REFLEX_TX_RECORDS
#define REFLEX_TX_RECORDS 512
#endif
#ifndef REFLEX_SERIAL_BAUD
#define REFLEX_SERIAL_BAUD 2000000  // ignored by USB CDC, honoured by a UART
#endif
#endif

namespace bridge {

// ---- board wiring: edit for your board ------------------------------------------------
// Analog inputs used when no external ADC hook is installed, one per channel.
#if defined(ARDUINO_ARCH_RP2040)
static const uint8_t kAdcPins[] = {A0, A1, A2};  // GP26..GP28; A3 is VSYS/3 on a Pico
#elif defined(ARDUINO_AVR_MEGA2560) || defined(__AVR_ATmega2560__)
static const uint8_t kAdcPins[] = {A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15};
#else
static const uint8_t kAdcPins[] = {A0, A1, A2, A3, A4, A5, A6, A7};
#endif
constexpr uint8_t kAdcPinCount = sizeof(kAdcPins) / sizeof(kAdcPins[0]);
#if defined(__AVR__)
// The AVR core has no analogReadResolution()/analogWriteResolution(): fixed 10-bit ADC and
// 8-bit PWM. One analogRead() takes ~119 µs (13 ADC clocks at 125 kHz plus overhead,
// measured in simavr).
constexpr uint8_t kAnalogBits = 10;
constexpr uint8_t kPwmBits = 8;
constexpr float kAdcFullScaleUv = 5.0e6f;  // AVcc reference
#else
constexpr uint8_t kAnalogBits = 12;
constexpr uint8_t kPwmBits = 12;
constexpr float kAdcFullScaleUv = 3.3e6f;
#endif
// µV per 24-bit count for the built-in ADC: full scale over 2^24 counts, divided by the
// gain of the analog front end in front of the pin (an EMG amplifier module).
constexpr float kFrontEndGain = 1000.0f;
constexpr float kBuiltinUvPerLsb = kAdcFullScaleUv / 16777216.0f / kFrontEndGain;
// Actuators: channels 0 and 1 servo (where REFLEX_SERVO) or PWM, channels 2 and 3 digital.
static const uint8_t kActuatorPins[4] = {2, 3, 4, 5};

// External ADC (ADS1299 or similar over SPI): fill out[0..channels) with signed 24-bit
// counts for one conversion of all channels. Install with ArduinoPlatform::set_adc_hook.
typedef void (*AdcHook)(int32_t* out, uint8_t channels);

class ArduinoPlatform : public rfx::Platform {
 public:
  void begin() {
#if !defined(__AVR__)
    analogReadResolution(kAnalogBits);
    analogWriteResolution(kPwmBits);
#endif
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
    const int32_t mid = int32_t(1) << (kAnalogBits - 1);
    for (uint8_t c = 0; c < channels; c++) {
      int32_t raw = c < kAdcPinCount ? int32_t(analogRead(kAdcPins[c])) : mid;
      out[c] = (raw - mid) * (int32_t(1) << (24 - kAnalogBits));  // centred, scaled to 24-bit counts
    }
  }

  bool actuator_supports(uint8_t channel, uint8_t kind) override {
    if (channel < 2) return (REFLEX_SERVO && kind == rfx::kServo) || kind == rfx::kPwm;
    if (channel < 4) return kind == rfx::kDigital;
    return false;
  }

  void actuator_set(uint8_t channel, uint8_t kind, int32_t value, uint64_t) override {
    uint8_t pin = kActuatorPins[channel];
    if (kind == rfx::kServo) {
#if REFLEX_SERVO
      if (!servo_[channel].attached()) servo_[channel].attach(pin);
      servo_[channel].writeMicroseconds(int(value));
#endif
    } else if (kind == rfx::kPwm) {
#if REFLEX_SERVO
      if (channel < 2 && servo_[channel].attached()) servo_[channel].detach();
#endif
      analogWrite(pin, int((value * ((int32_t(1) << kPwmBits) - 1)) / 10000));
    } else {
      digitalWrite(pin, value ? HIGH : LOW);
    }
  }

  // Safe state: servo pulses stopped (detached), PWM 0, digital LOW.
  void actuator_safe(uint64_t) override {
    for (uint8_t ch = 0; ch < 2; ch++) {
#if REFLEX_SERVO
      if (servo_[ch].attached()) servo_[ch].detach();
#endif
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
#if REFLEX_SERVO
  Servo servo_[2];
#endif
  AdcHook adc_hook_ = nullptr;
  uint32_t last_micros_ = 0;
  uint64_t high_ = 0;
};

}  // namespace bridge
