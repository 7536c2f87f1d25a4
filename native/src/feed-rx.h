// A native feed receiver: the options both receive paths take, the state the N-API layer and the
// receive thread share, and the AF_XDP path's entry points (feed-xdp.cc, compiled only with
// TRADSYS_HAVE_XDP). See feed.cc for the recvmmsg path and the N-API functions.
//
// Layout: RxOptions (the N-API options, checked), Receiver (stats, thread, stop flag, error,
// stamp source, set-up detail, the request address) that RecvmmsgRx (feed.cc) and XdpRx
// (feed-xdp.cc) extend.
// Invariants: the receive thread is the only writer of the ring, the sequencer and `stats`; the JS
// thread reads `stats` (relaxed atomics) and sets `stop`; `error` is written once by the thread
// under `mu` before it exits; every resource the path opened is released by its Close, also when
// Open failed half way.
// Complexity: O(1) per call here; the per-packet work is in the paths and feed-core.
// Allocation: one Receiver per open; none per packet.
// Known limitations: one receive thread per receiver; one AF_XDP queue per receiver.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <stdexcept>
#include <string>
#include <thread>
#include "feed-core.h"

namespace feed {

struct RxOptions {
  std::string path;           // "xdp" | "recvmmsg"
  std::string ifname;
  std::string bindAddress = "0.0.0.0";
  uint16_t port = 0;
  uint32_t queue = 0;
  std::string multicastGroup;
  std::string session;
  std::string requestAddress;
  uint16_t requestPort = 0;
  std::string timestamping = "auto";  // auto | hardware | software | none
  int busyPollUs = 50;
  int batch = 64;
  int cpu = -1;
  int gapTimeoutMs = 100;
};

// What both paths share with the N-API layer.
struct Receiver {
  RxOptions opt;
  Stats stats;
  std::atomic<bool> stop{false};
  std::atomic<bool> running{false};
  std::thread thread;
  std::mutex mu;
  std::string error;          // set by the thread when it stops on an error
  std::string stampSource = "none";   // hardware | software | user | none
  std::string xdpMode;        // "generic" for AF_XDP in SKB mode, else empty
  std::string detail;         // how the path was set up (for stats and doctor)
  sockaddr_in requestTo{};
  bool haveRequest = false;
  virtual ~Receiver() = default;
  // Stops the thread (idempotent) and frees every resource.
  virtual void Close() = 0;
  void SetError(const std::string& e) { std::lock_guard<std::mutex> g(mu); if (error.empty()) error = e; }
};

// What both paths share beyond the N-API state: the ring writer, the sequencer, and Open/Close
// around the path's own Setup (socket, program) and Teardown, so both claim, release and start the
// same way. Derived destructors call Close (Teardown is still theirs then).
class SequencedReceiver : public Receiver {
 public:
  SequencedReceiver(const RxOptions& o, uint8_t* ring, uint8_t path) : ring_(ring, path), path_(path) { opt = o; }
  // Claims the ring's writer role, sets the path up, starts the thread; on failure frees it all.
  void Open() {
    uint32_t holder = 0;
    if (!ring_.Claim(&holder)) throw std::runtime_error(ClaimError(holder));
    try { Setup(); } catch (...) { Teardown(); ring_.Release(); throw; }
    SequencerConfig sc;
    sc.session = opt.session;
    sc.gapTimeoutNs = int64_t(opt.gapTimeoutMs) * 1000000;
    sc.path = path_;
    seq_ = std::make_unique<Sequencer>(ring_, stats, sc, haveRequest ? Sequencer::RequestFn([this](const uint8_t s[10], uint64_t from, uint16_t n) { Request(s, from, n); }) : Sequencer::RequestFn());
    running = true;
    thread = std::thread([this] { Run(); });
  }
  void Close() override {
    stop.store(true, std::memory_order_relaxed);
    if (thread.joinable()) thread.join();
    running = false;
    Teardown();
    ring_.Release();
  }

 protected:
  virtual void Setup() = 0;      // opens the path's resources; throws std::runtime_error with the reason
  virtual void Teardown() = 0;   // idempotent
  virtual void Run() = 0;        // the receive thread
  virtual void Request(const uint8_t s[10], uint64_t from, uint16_t n) = 0;   // a retransmission request
  RingWriter ring_;
  std::unique_ptr<Sequencer> seq_;
  uint8_t path_;
};

// Pins the calling thread to `cpu` (>= 0); "" or the reason it failed.
std::string PinThread(int cpu);

#ifdef TRADSYS_HAVE_XDP
// Opens the AF_XDP path (program attached, socket bound, thread started). Throws std::runtime_error
// with the reason; nothing is left attached or allocated when it throws.
std::unique_ptr<Receiver> OpenXdp(const RxOptions& o, uint8_t* ring, const sockaddr_in& requestTo, bool haveRequest);
// Whether AF_XDP sockets can be created here (a throwaway socket); "" or the reason.
std::string XdpAvailable();
#endif

}  // namespace feed
