// The feed receive core shared by the native receive paths (feed.cc: recvmmsg; feed-xdp.cc: AF_XDP):
// the FeedRing writer, the MoldUDP64/ITCH-like packet decoder, and the sequencer (gap detection,
// retransmission requests, hold-and-release, GAP records). No N-API and no sockets here.
//
// Layout: RingWriter wraps the FeedRingHdr + records of a SharedArrayBuffer (records.h);
// Sequencer owns the expected sequence, the held (out-of-order) messages and the open gap; Stats
// are the counters the JS thread reads (relaxed atomics, one writer: the receive thread).
// Invariants: messages reach the ring in feed sequence order, each sequence number at most once;
// a GAP record stands for every sequence number that is never written; writeSeq is stored with
// release order after the records it publishes; a record an active reader (cursor != ~0) has not
// passed is never overwritten (the message is dropped and counted in overruns instead).
// Complexity: O(messages) per packet, held or not (the held messages sit in a circular window
// indexed by sequence number); finding the next held message after a GAP scans the window.
// Allocation: the window (kWindow records, 4.7 MB) at construction; none per packet.
// Known limitations: one writer per ring; at most kWindow messages are held past a gap: a message
// further ahead declares the oldest gap lost at once (GAP record) rather than holding more.
#pragma once
#include <atomic>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>
#include "records.h"

namespace feed {

inline int64_t RealtimeNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
inline int64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
inline uint16_t Be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t Be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
inline uint64_t Be64(const uint8_t* p) { return uint64_t(Be32(p)) << 32 | Be32(p + 4); }
inline void PutBe16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }
inline void PutBe32(uint8_t* p, uint32_t v) { PutBe16(p, uint16_t(v >> 16)); PutBe16(p + 2, uint16_t(v)); }
inline void PutBe64(uint8_t* p, uint64_t v) { PutBe32(p, uint32_t(v >> 32)); PutBe32(p + 4, uint32_t(v)); }

constexpr size_t kHeader = 20;         // MoldUDP64 downstream header
constexpr size_t kSessionLen = 10;
constexpr uint16_t kEndOfSession = 0xFFFF;
constexpr uint8_t kSideNone = 255;
constexpr uint64_t kWindow = 1 << 16;   // messages held past a gap before the gap is declared lost

// Counters the JS thread reads through feedStats (relaxed: one writer, snapshots need no order).
struct Stats {
  std::atomic<uint64_t> packets{0}, messages{0}, bytes{0}, heartbeats{0}, batches{0};
  std::atomic<uint64_t> gaps{0}, recovered{0}, unrecovered{0}, duplicates{0}, otherSession{0};
  std::atomic<uint64_t> ringOverruns{0}, lastSeq{0}, malformed{0}, requests{0}, filtered{0}, held{0};
  std::atomic<bool> ended{false};
  char session[kSessionLen + 1] = {0};   // the locked-in session, valid once sessionSet (release)
  std::atomic<bool> sessionSet{false};
};

inline void Bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// Checks a buffer holds a FeedRing (records.h layout). Returns "" or why not.
inline std::string CheckRing(const uint8_t* base, size_t len) {
  if (len < TS_FEED_RING_HEADER) return "the ring buffer is smaller than the FeedRing header";
  const ts_feedringhdr_t* h = reinterpret_cast<const ts_feedringhdr_t*>(base);
  if (h->magic != TS_FEED_RING_MAGIC) return "the buffer is not a FeedRing (bad magic)";
  if (h->version != TS_FEED_RING_VERSION) return "unsupported FeedRing version " + std::to_string(h->version);
  if (h->recordSize != sizeof(ts_feedmsg_t)) return "FeedRing recordSize " + std::to_string(h->recordSize) + " is not FeedMsg's 72";
  if (h->capacity == 0 || (h->capacity & (h->capacity - 1)) != 0) return "FeedRing capacity is not a power of two";
  if (h->readerMax > TS_FEED_RING_READERS) return "FeedRing readerMax exceeds 8";
  if (len < TS_FEED_RING_HEADER + size_t(h->capacity) * sizeof(ts_feedmsg_t)) return "the buffer is shorter than the FeedRing's capacity";
  return "";
}

// The single writer of a FeedRing.
class RingWriter {
 public:
  RingWriter(uint8_t* base, uint8_t path) : base_(base), hdr_(reinterpret_cast<ts_feedringhdr_t*>(base)), path_(path) {
    cap_ = hdr_->capacity;
    mask_ = cap_ - 1;
    rescanMask_ = (cap_ < 64 ? cap_ : 64) - 1;
    readers_ = hdr_->readerMax ? hdr_->readerMax : TS_FEED_RING_READERS;
    wseq_ = __atomic_load_n(&hdr_->writeSeq, __ATOMIC_ACQUIRE);
    minCursor_ = MinCursor();
  }
  ~RingWriter() { Release(); }
  uint8_t path() const { return path_; }
  // Takes the ring's writer role (compare-exchange of writerPath 0 → path); false when another
  // writer holds it (*holder = its FeedPath).
  bool Claim(uint32_t* holder) {
    uint32_t expect = 0;
    if (!__atomic_compare_exchange_n(&hdr_->writerPath, &expect, uint32_t(path_), false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) { *holder = expect; return false; }
    claimed_ = true;
    wseq_ = __atomic_load_n(&hdr_->writeSeq, __ATOMIC_ACQUIRE);
    minCursor_ = MinCursor();
    return true;
  }
  void Release() {
    if (!claimed_) return;
    Publish();
    __atomic_store_n(&hdr_->writerPath, uint32_t(0), __ATOMIC_RELEASE);
    claimed_ = false;
  }
  // Copies one record into the ring (not yet visible). False (and overruns++) when the slowest
  // active reader is a whole ring behind.
  bool Write(const ts_feedmsg_t& m) {
    if (minCursor_ != UINT64_MAX && wseq_ - minCursor_ >= cap_) {
      minCursor_ = MinCursor();
      if (minCursor_ != UINT64_MAX && wseq_ - minCursor_ >= cap_) {
        __atomic_store_n(&hdr_->overruns, hdr_->overruns + 1, __ATOMIC_RELAXED);
        return false;
      }
    } else if ((wseq_ & rescanMask_) == 0) {
      // a reader may attach at any time (at the live edge): look at least once per
      // min(64, capacity) records, so it is seen before the writer can lap it
      minCursor_ = MinCursor();
      if (minCursor_ != UINT64_MAX && wseq_ - minCursor_ >= cap_) return Write(m);
    }
    ts_feedmsg_t* slot = reinterpret_cast<ts_feedmsg_t*>(base_ + TS_FEED_RING_HEADER + (wseq_ & mask_) * sizeof(ts_feedmsg_t));
    std::memcpy(slot, &m, sizeof m);
    slot->tsRing = RealtimeNs();
    wseq_++;
    dirty_ = true;
    return true;
  }
  void SetLastSeq(uint64_t s) { __atomic_store_n(&hdr_->lastSeq, s, __ATOMIC_RELAXED); }
  void AddGaps(uint64_t n) { __atomic_store_n(&hdr_->gaps, hdr_->gaps + n, __ATOMIC_RELAXED); }
  // Makes every record written so far visible (release store of writeSeq).
  void Publish() {
    if (!dirty_) return;
    __atomic_store_n(&hdr_->writeSeq, wseq_, __ATOMIC_RELEASE);
    dirty_ = false;
  }
  uint64_t overruns() const { return __atomic_load_n(&hdr_->overruns, __ATOMIC_RELAXED); }

 private:
  uint64_t MinCursor() const {
    uint64_t m = UINT64_MAX;
    const uint64_t* c = &hdr_->cursor0;
    for (uint32_t i = 0; i < readers_; i++) {
      uint64_t v = __atomic_load_n(c + i, __ATOMIC_ACQUIRE);
      if (v != UINT64_MAX && v < m) m = v;
    }
    return m;
  }
  uint8_t* base_;
  ts_feedringhdr_t* hdr_;
  uint8_t path_;
  uint32_t cap_, mask_, readers_, rescanMask_;
  uint64_t wseq_, minCursor_;
  bool dirty_ = false;
  bool claimed_ = false;
};

inline std::string ClaimError(uint32_t holder) {
  const char* n = holder == TS_FEED_PATH_XDP ? "xdp" : holder == TS_FEED_PATH_RECVMMSG ? "recvmmsg" : holder == TS_FEED_PATH_DGRAM ? "dgram" : "unknown";
  return std::string("the ring already has a writer (path ") + n + ")";
}

// Decodes one wire message (big-endian, docs/feed.md) into a ring record. Returns 1 for a known
// message, 0 for an unknown type (skipped: it still takes its sequence number), -1 when a known
// type is shorter than its layout (malformed).
int DecodeMessage(const uint8_t* m, uint16_t len, ts_feedmsg_t& r);

struct SequencerConfig {
  std::string session;       // expected session (10 bytes, space padded) or "" = the first one seen
  int64_t gapTimeoutNs = 100 * 1000000LL;
  uint8_t path = TS_FEED_PATH_NONE;
};

// Packet → ring in sequence order, with gap handling (the contract in docs/feed.md "Receive paths").
class Sequencer {
 public:
  // request(from, count) sends one retransmission request; may be empty (no requests).
  using RequestFn = std::function<void(const uint8_t session[10], uint64_t from, uint16_t count)>;
  Sequencer(RingWriter& ring, Stats& stats, SequencerConfig cfg, RequestFn request)
      : ring_(ring), stats_(stats), cfg_(std::move(cfg)), request_(std::move(request)) {
    if (!cfg_.session.empty()) { std::memset(session_, ' ', kSessionLen); std::memcpy(session_, cfg_.session.data(), std::min(cfg_.session.size(), kSessionLen)); haveSession_ = true; }
  }
  // One UDP payload. tsRecv: the packet's receive stamp (ns), stamp: its StampSource; answer: it
  // came from the request address and port (a retransmission, or an empty answer).
  void OnPacket(const uint8_t* p, size_t n, int64_t tsRecv, uint8_t stamp, bool answer);
  // Called when no packet came: writes GAP records for gaps that timed out. now = MonoNs().
  void OnIdle(int64_t now);
  // Monotonic ns of the next gap deadline, or INT64_MAX.
  int64_t Deadline() const { return gapOpen_ ? gapSince_ + cfg_.gapTimeoutNs : INT64_MAX; }
  std::string session() const { return haveSession_ ? std::string(reinterpret_cast<const char*>(session_), kSessionLen) : std::string(); }
  uint64_t next() const { return next_; }

 private:
  void Emit(ts_feedmsg_t& r, uint64_t seq, uint32_t flags);
  void Drain();
  void CheckGap(int64_t now);
  void GiveUp(uint64_t upto);
  void WriteGap(uint64_t from, uint64_t count);
  void Known(uint64_t upto) { if (upto > known_) known_ = upto; }

  RingWriter& ring_;
  Stats& stats_;
  SequencerConfig cfg_;
  RequestFn request_;
  uint8_t session_[kSessionLen];
  bool haveSession_ = false;
  uint64_t next_ = 1;         // the next sequence number to write
  uint64_t known_ = 1;        // one past the highest sequence number known to exist
  // held out-of-order messages: slot seq & (kWindow-1), valid while present_[slot]; type 0 = an
  // unknown message type (takes its number, writes no record)
  std::vector<ts_feedmsg_t> window_ = std::vector<ts_feedmsg_t>(kWindow);
  std::vector<uint8_t> present_ = std::vector<uint8_t>(kWindow, 0);
  uint64_t heldCount_ = 0;
  uint64_t heldMin_ = UINT64_MAX;   // lowest held sequence number (exact while heldCount_ > 0)
  uint64_t FirstHeld() const { return heldCount_ ? heldMin_ : UINT64_MAX; }
  bool IsHeld(uint64_t s) const { return s >= next_ && s - next_ < kWindow && present_[s & (kWindow - 1)] && window_[s & (kWindow - 1)].seq == s; }
  void Hold(uint64_t s, const ts_feedmsg_t& r);
  void RecomputeMin();
  bool gapOpen_ = false;
  uint64_t gapFrom_ = 0;      // next_ when the open gap was opened
  int64_t gapSince_ = 0;
  uint64_t endSeq_ = 0;        // the end-of-session packet's seq (0 = not seen)
  void CheckEnd() { if (endSeq_ && next_ >= endSeq_) stats_.ended.store(true, std::memory_order_relaxed); }
};

}  // namespace feed
