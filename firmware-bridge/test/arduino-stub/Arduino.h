// Declarations only: lets `make test` syntax-check the Arduino platform layer on the host
// (there is no MCU toolchain here). Nothing is linked against this.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define HIGH 1
#define LOW 0
#define OUTPUT 1
enum { A0 = 14, A1, A2, A3, A4, A5, A6, A7 };

uint32_t micros();
int analogRead(uint8_t pin);
void analogReadResolution(int bits);
void analogWrite(uint8_t pin, int value);
void analogWriteResolution(int bits);
void digitalWrite(uint8_t pin, int value);
void pinMode(uint8_t pin, int mode);

class SerialStub {
 public:
  void begin(unsigned long baud);
  int available();
  int read();
  int availableForWrite();
  size_t write(const uint8_t* buf, size_t len);
  explicit operator bool();
};
extern SerialStub Serial;
