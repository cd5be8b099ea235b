// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace rfx {

uint16_t crc16_update(uint16_t crc, const uint8_t* data, size_t len);
inline uint16_t crc16(const uint8_t* data, size_t len) { return crc16_update(0xFFFF, data, len); }

}  // namespace rfx
