// Transmit queue of whole wire frames over a caller-supplied byte ring. A frame that does
// not fit is refused whole (never truncated), so the receiver never sees half a frame
// from overflow. Both the byte ring and the record table are supplied by the caller, so a
// board sizes them to its RAM (2.5 KB on an ATmega2560, 64 KB on the host).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace rfx {

// One queued frame (or run of raw bytes): its length and when it may be sent.
struct TxRecord {
  uint16_t len;
  bool frame;
  uint64_t hold;
};

class TxQueue {
 public:
  // `records` bounds how many frames can wait at once: 512 (about 0.5 s of 1 ms frames) on
  // the host, where a lagging host is what the queue is for.
  TxQueue(uint8_t* storage, size_t capacity, TxRecord* records, size_t max_records)
      : buf_(storage), cap_(capacity), rec_(records), max_rec_(max_records) {}

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
  size_t free_records() const { return max_rec_ - count_; }

 private:
  uint8_t* buf_;
  size_t cap_;
  TxRecord* rec_;
  size_t max_rec_;
  size_t head_ = 0, used_ = 0;
  size_t rhead_ = 0, count_ = 0;
  size_t head_sent_ = 0;  // bytes of the head record already written

  // x mod n for x < 2n, which every ring index sum here is: a division costs an 8-bit MCU
  // ~200 cycles, several per frame.
  static size_t wrap(size_t x, size_t n) { return x >= n ? x - n : x; }
};

template <typename Sink>
uint32_t TxQueue::drain(uint64_t now_us, Sink&& sink) {
  uint32_t done = 0;
  while (count_ > 0) {
    TxRecord& r = rec_[rhead_];
    if (head_sent_ == 0 && r.hold > now_us) break;
    while (head_sent_ < r.len) {
      size_t off = wrap(head_ + head_sent_, cap_);
      size_t chunk = r.len - head_sent_;
      if (off + chunk > cap_) chunk = cap_ - off;
      size_t w = sink(buf_ + off, chunk);
      head_sent_ += w;
      if (w < chunk) return done;
    }
    head_ = wrap(head_ + r.len, cap_);
    used_ -= r.len;
    head_sent_ = 0;
    if (r.frame) done++;
    rhead_ = wrap(rhead_ + 1, max_rec_);
    count_--;
  }
  return done;
}

}  // namespace rfx
