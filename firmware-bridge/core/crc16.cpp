#include "crc16.h"

namespace rfx {

// Byte at a time without a table: the 0x1021 polynomial's shifts folded into three XORs
// (x, x << 5, x << 12). Same result as the bitwise loop at a fraction of its cost on an
// 8-bit MCU, and no 512-byte table, which AVR would place in RAM.
uint16_t crc16_update(uint16_t crc, const uint8_t* data, size_t len) {
  for (size_t i = 0; i < len; i++) {
    uint8_t x = static_cast<uint8_t>((crc >> 8) ^ data[i]);
    x = static_cast<uint8_t>(x ^ (x >> 4));
    crc = static_cast<uint16_t>((crc << 8) ^ (static_cast<uint16_t>(x) << 12) ^ (static_cast<uint16_t>(x) << 5) ^ x);
  }
  return crc;
}

}  // namespace rfx
