#include <vector>

#include "../core/txqueue.h"
#include "check.h"

using namespace rfx;

TEST(txqueue_wraps_refuses_whole_and_resumes_partial_writes) {
  uint8_t store[10];
  TxQueue q(store, sizeof store);
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
