#include <vector>

#include "../core/txqueue.h"
#include "check.h"

using namespace rfx;

TEST(txqueue_wraps_refuses_whole_and_resumes_partial_writes) {
  uint8_t store[10];
  TxRecord rec[8];
  TxQueue q(store, sizeof store, rec, 8);
  const uint8_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4] = {9, 10, 11, 12};
  CHECK(q.push(a, 4, 0, true));
  CHECK(q.push(b, 4, 0, true));
  CHECK(!q.push(c, 4, 0, true));  // 2 bytes free: refused whole
  CHECK_EQ(q.bytes_used(), 8);
  std::vector<uint8_t> out;
  size_t budget = 3;
  auto sink = [&](const uint8_t* p, size_t n) {
    size_t k = n < budget ? n : budget;
    out.insert(out.end(), p, p + k);
    budget -= k;
    return k;
  };
  CHECK_EQ(q.drain(0, sink), 0);  // partial frame
  budget = 2;
  CHECK_EQ(q.drain(0, sink), 1);
  CHECK(q.push(c, 4, 0, true));  // wraps around the end of storage
  budget = 100;
  CHECK_EQ(q.drain(0, sink), 2);
  CHECK(out == std::vector<uint8_t>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  CHECK(q.empty());

  // A held record blocks the ones behind it (order kept).
  CHECK(q.push(a, 4, 500, true));
  CHECK(q.push(b, 4, 0, false));
  out.clear();
  CHECK_EQ(q.drain(499, sink), 0);
  CHECK(out.empty());
  CHECK_EQ(q.drain(500, sink), 1);  // raw bytes are not counted as frames
  CHECK_EQ(out.size(), 8);
  CHECK(q.push(a, 4, 0, true));
  CHECK_EQ(q.clear(), 1);
  CHECK(q.empty() && q.bytes_used() == 0);
}

TEST(txqueue_record_table_bounds_frames_and_wraps) {
  // A small MCU gets few records: the table, not the byte ring, is then what refuses.
  uint8_t store[64];
  TxRecord rec[2];
  TxQueue q(store, sizeof store, rec, 2);
  const uint8_t a[3] = {1, 2, 3};
  CHECK(q.push(a, 3, 0, true));
  CHECK(q.push(a, 3, 0, true));
  CHECK_EQ(q.free_records(), 0);
  CHECK(!q.push(a, 3, 0, true));
  CHECK_EQ(q.free_bytes(), 58);
  size_t sent = 0;
  auto sink = [&](const uint8_t*, size_t n) { sent += n; return n; };
  for (int round = 0; round < 5; round++) {
    CHECK_EQ(q.drain(0, sink), 2);
    CHECK(q.push(a, 3, 0, true));
    CHECK(q.push(a, 3, 0, true));
  }
  CHECK_EQ(q.drain(0, sink), 2);
  CHECK_EQ(sent, 36);
  CHECK(q.empty() && q.free_records() == 2);
}
