// Declarations only (see Arduino.h in this folder).
#pragma once
class Servo {
 public:
  unsigned char attach(int pin);
  void detach();
  bool attached();
  void writeMicroseconds(int us);
};
