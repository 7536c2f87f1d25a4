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
  if (r.flags & TS_FEED_FLAG_RETRANSMITTED) Bump(stats_.recovered);
  Bump(stats_.messages);   // as the dgram path: every message in order, written or overrun
  if (!ring_.Write(r)) Bump(stats_.ringOverruns);
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
  Bump(stats_.unrecovered, count);
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
    Emit(window_[slot], next_, 0);
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
  if (gapOpen_ && next_ != gapFrom_) gapOpen_ = false;   // progress: the hole (or part of it) was filled
  if (!gapOpen_ && next_ < known_) {
    uint64_t end = std::min(std::min(known_, FirstHeld()), next_ + 0xFFFE);
    gapOpen_ = true;
    gapFrom_ = next_;
    gapSince_ = now;
    Bump(stats_.gaps);
    if (request_) {
      request_(session_, next_, uint16_t(std::max<uint64_t>(1, end - next_)));
      Bump(stats_.requests);
    }
  }
  stats_.held.store(heldCount_, std::memory_order_relaxed);
  stats_.lastSeq.store(next_ - 1, std::memory_order_relaxed);
  CheckEnd();
}

void Sequencer::OnPacket(const uint8_t* p, size_t n, int64_t tsRecv, uint8_t stamp, bool answer) {
  Bump(stats_.packets);
  Bump(stats_.bytes, n);
  if (!CheckPacket(p, n)) { Bump(stats_.malformed); return; }
  if (!haveSession_) { std::memcpy(session_, p, kSessionLen); haveSession_ = true; }
  if (!stats_.sessionSet.load(std::memory_order_relaxed)) {
    std::memcpy(stats_.session, session_, kSessionLen);
    stats_.sessionSet.store(true, std::memory_order_release);
  }
  if (std::memcmp(session_, p, kSessionLen) != 0) { Bump(stats_.otherSession); return; }
  uint64_t seq = Be64(p + 10);
  uint16_t count = Be16(p + 18);
  int64_t now = MonoNs();
  if (count == 0) {
    if (answer) {
      // the request server's empty answer: nothing before seq can be re-sent; each hole below it
      // becomes a GAP record now
      if (seq > next_ && gapOpen_) {
        while (next_ < seq) GiveUp(std::min(FirstHeld(), seq));
      }
    } else {
      // heartbeat: seq is the next sequence number the publisher will send
      Bump(stats_.heartbeats);
      Known(seq);
    }
    CheckGap(now);
    return;
  }
  if (count == kEndOfSession) {
    // end of session: seq is one past the last message; ended once everything before it is
    // written or declared lost
    if (!endSeq_) endSeq_ = seq;
    Known(seq);
    CheckGap(now);
    return;
  }
  const uint32_t flags = answer ? TS_FEED_FLAG_RETRANSMITTED : 0;
  size_t off = kHeader;
  ts_feedmsg_t r;
  for (uint16_t i = 0; i < count; i++) {
    uint16_t len = Be16(p + off);
    off += 2;
    uint64_t ms = seq + i;
    const uint8_t* m = p + off;
    off += len;
    if (ms < next_ || IsHeld(ms)) { Bump(stats_.duplicates); continue; }
    DecodeMessage(m, len, r);   // CheckPacket vouched for the lengths
    r.stampSource = stamp;
    r.tsRecv = tsRecv;
    r.flags = flags;
    // too far ahead to hold: the oldest holes are lost now
    while (ms > next_ && ms - next_ >= kWindow) GiveUp(std::min(FirstHeld(), ms));
    if (ms == next_) {
      Emit(r, ms, 0);
      ring_.SetLastSeq(ms);
      next_++;
      if (heldCount_) Drain();
    } else {
      Hold(ms, r);
    }
  }
  Known(seq + count);
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
