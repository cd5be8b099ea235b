// Transmit queue of whole wire frames over a caller-supplied byte ring. A frame that does
// not fit is refused whole (never truncated), so the receiver never sees half a frame
// from overflow.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace rfx {

class TxQueue {
 public:
  // Enough for ~0.5 s of 1 ms frames: a host that lags that long is what the queue is for.
  static constexpr size_t kMaxRecords = 512;

  TxQueue(uint8_t* storage, size_t capacity) : buf_(storage), cap_(capacity) {}

  // Queue `len` bytes released for sending at device time `hold_until_us`. `frame` says
  // whether it counts as a frame (false for raw garbage). False if it does not fit.
  bool push(const uint8_t* data, size_t len, uint64_t hold_until_us, bool frame);
  // Write as much as the sink accepts, in order, never passing a record whose hold time
  // is in the future. Returns the number of whole frames completed.
  template <typename Sink>
  uint32_t drain(uint64_t now_us, Sink&& sink);
  // Drop everything queued (link lost); returns the number of frames discarded.
  uint32_t clear();

  size_t bytes_used() const { return used_; }
  size_t records() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Hold time of the head record, or UINT64_MAX if empty.
  uint64_t head_hold_us() const { return count_ ? rec_[rhead_].hold : UINT64_MAX; }
  size_t free_bytes() const { return cap_ - used_; }
  size_t free_records() const { return kMaxRecords - count_; }

 private:
  struct Record {
    uint16_t len;
    bool frame;
    uint64_t hold;
  };
  uint8_t* buf_;
  size_t cap_;
  size_t head_ = 0, used_ = 0;
  Record rec_[kMaxRecords];
  size_t rhead_ = 0, count_ = 0;
  size_t head_sent_ = 0;  // bytes of the head record already written
};

template <typename Sink>
uint32_t TxQueue::drain(uint64_t now_us, Sink&& sink) {
  uint32_t done = 0;
  while (count_ > 0) {
    Record& r = rec_[rhead_];
    if (head_sent_ == 0 && r.hold > now_us) break;
    while (head_sent_ < r.len) {
      size_t off = (head_ + head_sent_) % cap_;
      size_t chunk = r.len - head_sent_;
      if (off + chunk > cap_) chunk = cap_ - off;
      size_t w = sink(buf_ + off, chunk);
      head_sent_ += w;
      if (w < chunk) return done;
    }
    head_ = (head_ + r.len) % cap_;
    used_ -= r.len;
    head_sent_ = 0;
    if (r.frame) done++;
    rhead_ = (rhead_ + 1) % kMaxRecords;
    count_--;
  }
  return done;
}

}  // namespace rfx
