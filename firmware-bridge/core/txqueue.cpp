#include "txqueue.h"

#include <string.h>

namespace rfx {

bool TxQueue::push(const uint8_t* data, size_t len, uint64_t hold_until_us, bool frame) {
  if (len == 0 || len > 0xFFFF || len > cap_ - used_ || count_ >= max_rec_) return false;
  // At most two copies (before and after the end of the ring): a modulo per byte costs an
  // 8-bit MCU ~200 cycles each.
  size_t tail = wrap(head_ + used_, cap_);
  size_t first = cap_ - tail < len ? cap_ - tail : len;
  memcpy(buf_ + tail, data, first);
  if (first < len) memcpy(buf_, data + first, len - first);
  used_ += len;
  rec_[wrap(rhead_ + count_, max_rec_)] = TxRecord{static_cast<uint16_t>(len), frame, hold_until_us};
  count_++;
  return true;
}

uint32_t TxQueue::clear() {
  uint32_t frames = 0;
  for (size_t i = 0; i < count_; i++) {
    if (rec_[wrap(rhead_ + i, max_rec_)].frame) frames++;
  }
  head_ = used_ = 0;
  rhead_ = count_ = 0;
  head_sent_ = 0;
  return frames;
}

}  // namespace rfx
