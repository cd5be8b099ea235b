#include "txqueue.h"

namespace rfx {

bool TxQueue::push(const uint8_t* data, size_t len, uint64_t hold_until_us, bool frame) {
  if (len == 0 || len > 0xFFFF || len > cap_ - used_ || count_ >= kMaxRecords) return false;
  size_t tail = (head_ + used_) % cap_;
  for (size_t i = 0; i < len; i++) buf_[(tail + i) % cap_] = data[i];
  used_ += len;
  rec_[(rhead_ + count_) % kMaxRecords] = Record{static_cast<uint16_t>(len), frame, hold_until_us};
  count_++;
  return true;
}

uint32_t TxQueue::clear() {
  uint32_t frames = 0;
  for (size_t i = 0; i < count_; i++) {
    if (rec_[(rhead_ + i) % kMaxRecords].frame) frames++;
  }
  head_ = used_ = 0;
  rhead_ = count_ = 0;
  head_sent_ = 0;
  return frames;
}

}  // namespace rfx
