// The feed receive core: message decoder and sequencer (see feed-core.h for the contract).
#include "feed-core.h"
#include <algorithm>

namespace feed {

static inline uint8_t SideOf(uint8_t c) { return c == 'B' ? TS_SIDE_BUY : c == 'S' ? TS_SIDE_SELL : kSideNone; }

int DecodeMessage(const uint8_t* m, uint16_t len, ts_feedmsg_t& r) {
  std::memset(&r, 0, sizeof r);
  if (len < 1) return -1;
  r.type = m[0];
  r.side = kSideNone;
  static constexpr uint16_t kHdr = 13;  // type u8, symbol u32, timestamp u64
  uint16_t need;
  switch (r.type) {
    case TS_FEED_MSG_TYPE_ADD: need = 34; break;
    case TS_FEED_MSG_TYPE_CANCEL: need = 25; break;
    case TS_FEED_MSG_TYPE_EXECUTE: need = 33; break;
    case TS_FEED_MSG_TYPE_TRADE: need = 34; break;
    case TS_FEED_MSG_TYPE_BOOK_DELTA: need = 26; break;
    case TS_FEED_MSG_TYPE_SYSTEM: need = 14; break;
    default: r.type = 0; return 0;
  }
  if (len < need) return -1;
  r.symbol = Be32(m + 1);
  r.tsSend = int64_t(Be64(m + 5));
  const uint8_t* b = m + kHdr;
  switch (r.type) {
    case TS_FEED_MSG_TYPE_ADD:   // orderId u64, side u8, price i64, qty u32
      r.orderId = Be64(b); r.side = SideOf(b[8]); r.price = int64_t(Be64(b + 9)); r.qty = Be32(b + 17); break;
    case TS_FEED_MSG_TYPE_CANCEL:   // orderId u64, cancelledQty u32
      r.orderId = Be64(b); r.qty = Be32(b + 8); break;
    case TS_FEED_MSG_TYPE_EXECUTE:   // orderId u64, executedQty u32, matchId u64
      r.orderId = Be64(b); r.qty = Be32(b + 8); r.matchId = Be64(b + 12); break;
    case TS_FEED_MSG_TYPE_TRADE:   // price i64, qty u32, aggressor u8, matchId u64
      r.price = int64_t(Be64(b)); r.qty = Be32(b + 8); r.side = SideOf(b[12]); r.matchId = Be64(b + 13); break;
    case TS_FEED_MSG_TYPE_BOOK_DELTA:   // side u8, price i64, qty u32
      r.side = SideOf(b[0]); r.price = int64_t(Be64(b + 1)); r.qty = Be32(b + 9); break;
    case TS_FEED_MSG_TYPE_SYSTEM:   // code u8 (ASCII), kept in qty
      r.qty = b[0]; break;
  }
  return 1;
}

static inline bool WireSideOk(uint8_t b) { return b == 'B' || b == 'S'; }

// The whole packet's shape, as the TS codec's checkPacket: a packet with any bad block is dropped
// whole (counted malformed), so every path accepts exactly the same packets.
static bool CheckPacket(const uint8_t* p, size_t n) {
  if (n < kHeader) return false;
  uint16_t count = Be16(p + 18);
  if (count == 0 || count == kEndOfSession) return n == kHeader;
  if (Be32(p + 10) > 0x1fffff) return false;   // sequence numbers stay below 2^53 (JS numbers)
  size_t off = kHeader;
  for (uint16_t i = 0; i < count; i++) {
    if (off + 2 > n) return false;
    uint16_t len = Be16(p + off);
    off += 2;
    if (len == 0 || off + len > n) return false;
    const uint8_t* m = p + off;
    uint16_t need = 0;
    switch (m[0]) {
      case TS_FEED_MSG_TYPE_ADD: need = 34; if (len >= need && !WireSideOk(m[13 + 8])) return false; break;
      case TS_FEED_MSG_TYPE_CANCEL: need = 25; break;
      case TS_FEED_MSG_TYPE_EXECUTE: need = 33; break;
      case TS_FEED_MSG_TYPE_TRADE: need = 34; if (len >= need && !WireSideOk(m[13 + 12])) return false; break;
      case TS_FEED_MSG_TYPE_BOOK_DELTA: need = 26; if (len >= need && !WireSideOk(m[13])) return false; break;
      case TS_FEED_MSG_TYPE_SYSTEM: need = 14; if (len >= need && m[13] != 'O' && m[13] != 'C' && m[13] != 'R') return false; break;
      default: break;
    }
    if (len < need) return false;
    off += len;
  }
  return off == n;
}

void Sequencer::Emit(ts_feedmsg_t& r, uint64_t seq, uint32_t flags) {
  if (r.type == 0) return;   // unknown message type: its number is used, nothing is written
  r.seq = seq;
  r.path = ring_.path();
  r.flags |= flags;
  if (ring_.Write(r)) Bump(stats_.messages);
  else Bump(stats_.ringOverruns);
}

void Sequencer::WriteGap(uint64_t from, uint64_t count) {
  ts_feedmsg_t g;
  std::memset(&g, 0, sizeof g);
  g.type = TS_FEED_MSG_TYPE_GAP;
  g.side = kSideNone;
  g.seq = from;
  g.qty = uint32_t(std::min<uint64_t>(count, UINT32_MAX));
  g.path = ring_.path();
  g.stampSource = TS_STAMP_SOURCE_NONE;   // a GAP was never received
  if (!ring_.Write(g)) Bump(stats_.ringOverruns);
  ring_.AddGaps(count);
  Bump(stats_.unrecovered);
  Bump(stats_.lost, count);
  ring_.SetLastSeq(from + count - 1);
}

void Sequencer::Hold(uint64_t s, const ts_feedmsg_t& r) {
  uint64_t slot = s & (kWindow - 1);
  window_[slot] = r;
  window_[slot].seq = s;
  present_[slot] = 1;
  heldCount_++;
  if (heldCount_ == 1 || s < heldMin_) heldMin_ = s;
}

void Sequencer::RecomputeMin() {
  heldMin_ = UINT64_MAX;
  if (!heldCount_) return;
  for (uint64_t s = next_; s - next_ < kWindow; s++) {
    if (IsHeld(s)) { heldMin_ = s; return; }
  }
}

// Writes every held message that is now in order.
void Sequencer::Drain() {
  while (heldCount_ && IsHeld(next_)) {
    uint64_t slot = next_ & (kWindow - 1);
    uint32_t flags = (gapOpen_ && next_ >= gapFrom_ && next_ < gapEnd_) ? TS_FEED_FLAG_RETRANSMITTED : 0;
    Emit(window_[slot], next_, flags);
    present_[slot] = 0;
    heldCount_--;
    ring_.SetLastSeq(next_);
    next_++;
  }
  if (heldCount_ && heldMin_ < next_) RecomputeMin();
  if (!heldCount_) heldMin_ = UINT64_MAX;
}

// Declares the gap before `upto` lost: one GAP record, then whatever held messages follow it.
void Sequencer::GiveUp(uint64_t upto) {
  if (upto > next_) WriteGap(next_, upto - next_);
  if (upto > next_) next_ = upto;
  gapOpen_ = false;
  Drain();
}

// Opens a gap (one retransmission request) when messages are missing before the known end, and
// closes it when they have all come.
void Sequencer::CheckGap(int64_t now) {
  if (gapOpen_ && next_ >= gapEnd_) {
    gapOpen_ = false;
    Bump(stats_.recovered);
  }
  if (!gapOpen_ && next_ < known_) {
    uint64_t end = std::min(known_, FirstHeld());
    gapOpen_ = true;
    gapFrom_ = next_;
    gapEnd_ = end;
    gapSince_ = now;
    Bump(stats_.gaps);
    if (request_) {
      uint64_t count = std::min<uint64_t>(end - next_, 0xFFFE);
      request_(session_, next_, uint16_t(count));
      Bump(stats_.requests);
    }
  }
  stats_.held.store(heldCount_, std::memory_order_relaxed);
  stats_.lastSeq.store(next_ - 1, std::memory_order_relaxed);
}

void Sequencer::OnPacket(const uint8_t* p, size_t n, int64_t tsRecv, uint8_t stamp) {
  if (!CheckPacket(p, n)) { Bump(stats_.malformed); return; }
  if (!haveSession_) { std::memcpy(session_, p, kSessionLen); haveSession_ = true; }
  else if (std::memcmp(session_, p, kSessionLen) != 0) { Bump(stats_.otherSession); return; }
  uint64_t seq = Be64(p + 10);
  uint16_t count = Be16(p + 18);
  Bump(stats_.packets);
  Bump(stats_.bytes, n);
  lastRecv_ = tsRecv;
  lastStamp_ = stamp;
  int64_t now = MonoNs();
  if (count == 0 || count == kEndOfSession) {
    // heartbeat: seq is the next sequence number the publisher will send; end of session: the
    // same, and nothing more comes. While a gap is open, a heartbeat whose seq falls inside the
    // requested range is the publisher's empty answer (seq = first message still buffered): the
    // messages below it are gone.
    if (count == kEndOfSession) stats_.ended.store(true, std::memory_order_relaxed);
    else Bump(stats_.heartbeats);
    if (gapOpen_ && seq > next_ && seq <= gapEnd_ && seq < known_) GiveUp(std::min(seq, FirstHeld()));
    if (seq > 0) Known(seq);
    CheckGap(now);
    return;
  }
  size_t off = kHeader;
  ts_feedmsg_t r;
  for (uint16_t i = 0; i < count; i++) {
    if (off + 2 > n) { Bump(stats_.malformed); break; }
    uint16_t len = Be16(p + off);
    off += 2;
    if (off + len > n) { Bump(stats_.malformed); break; }
    uint64_t ms = seq + i;
    const uint8_t* m = p + off;
    off += len;
    if (ms < next_ || IsHeld(ms)) { Bump(stats_.duplicates); continue; }
    int d = DecodeMessage(m, len, r);
    if (d < 0) { Bump(stats_.malformed); r.type = 0; }
    r.stampSource = stamp;
    r.tsRecv = tsRecv;
    Known(ms + 1);
    // too far ahead to hold: the oldest gaps are lost now
    while (ms > next_ && ms - next_ >= kWindow) GiveUp(std::min(FirstHeld(), ms));
    if (ms < next_) { Bump(stats_.duplicates); continue; }
    if (ms == next_) {
      uint32_t flags = (gapOpen_ && ms >= gapFrom_ && ms < gapEnd_) ? TS_FEED_FLAG_RETRANSMITTED : 0;
      Emit(r, ms, flags);
      ring_.SetLastSeq(ms);
      next_++;
      if (heldCount_) Drain();
    } else {
      Hold(ms, r);
    }
  }
  CheckGap(now);
}

void Sequencer::OnIdle(int64_t now) {
  if (gapOpen_ && now - gapSince_ >= cfg_.gapTimeoutNs) {
    GiveUp(std::min(FirstHeld(), known_));
    CheckGap(now);
  }
  ring_.Publish();
}

}  // namespace feed
