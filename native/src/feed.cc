// feed feature of the native addon: the UDP market-data feed's native receive paths (a recvmmsg
// thread here, AF_XDP in feed-xdp.cc), the SO_TIMESTAMPING capability probe and a sendmmsg sender
// for the benchmark's offered load. See docs/feed.md "Receive paths" and feed-contract in
// src/sys/feed-native.ts.
//
// Layout: N-API functions feedOpen/feedStats/feedClose/feedTimestampCaps/feedPaths/feedSendBurst;
// receivers live in a handle table (handle → Receiver + a reference on the ring's buffer).
// Invariants: no JS runs per packet and nothing calls back into JS from the receive thread; the
// ring's SharedArrayBuffer is referenced while its thread runs; feedClose is idempotent; every
// receiver still open at environment teardown is closed.
// Complexity: per packet O(messages); per batch one recvmmsg.
// Allocation: at open (buffers sized by `batch`), none per packet in order (see feed-core.h).
// Known limitations: IPv4 only; recvmmsg's hardware stamps need a NIC with SIOCSHWTSTAMP support
// (veth has none, so the tests see software stamps).
#include "addon.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <map>
#include <set>
#include <stdexcept>
#include <vector>
#include "feed-core.h"
#include "feed-rx.h"

#ifndef SO_BUSY_POLL
#define SO_BUSY_POLL 46
#endif

namespace feed {

std::string PinThread(int cpu) {
  if (cpu < 0) return "";
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  return rc == 0 ? "" : std::string("pthread_setaffinity_np(cpu ") + std::to_string(cpu) + "): " + std::strerror(rc);
}

static std::string Errno(const std::string& what, int err) { return what + ": " + std::strerror(err); }

static in_addr ParseIpv4(const std::string& s, const char* field) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) throw std::runtime_error(std::string(field) + " '" + s + "' is not an IPv4 address");
  return a;
}

struct TsCaps {
  bool hardwareRx = false, softwareRx = false;
  int phcIndex = -1;
  std::string detail;
};

// ETHTOOL_GET_TS_INFO, as `ethtool -T` reads it.
static TsCaps TimestampCaps(const std::string& ifname) {
  TsCaps c;
  if (ifname.empty()) { c.softwareRx = true; c.detail = "no interface given: the kernel's software receive stamps"; return c; }
  if (ifname.size() >= IFNAMSIZ || if_nametoindex(ifname.c_str()) == 0) throw std::runtime_error("unknown interface '" + ifname + "'");
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(Errno("socket", errno));
  ethtool_ts_info info{};
  info.cmd = ETHTOOL_GET_TS_INFO;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&info);
  if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
    int e = errno;
    close(fd);
    c.softwareRx = true;   // the stack stamps in software whatever the driver says
    c.detail = Errno("ETHTOOL_GET_TS_INFO on " + ifname, e) + "; software receive stamps only";
    return c;
  }
  close(fd);
  c.phcIndex = info.phc_index;
  c.hardwareRx = (info.so_timestamping & SOF_TIMESTAMPING_RX_HARDWARE) && (info.so_timestamping & SOF_TIMESTAMPING_RAW_HARDWARE) &&
                 (info.rx_filters & ((1u << HWTSTAMP_FILTER_ALL) | (1u << HWTSTAMP_FILTER_SOME))) != 0;
  c.softwareRx = (info.so_timestamping & SOF_TIMESTAMPING_RX_SOFTWARE) != 0 || true;
  c.detail = ifname + ": so_timestamping 0x" + [&] { char b[16]; snprintf(b, sizeof b, "%x", info.so_timestamping); return std::string(b); }() +
             ", rx_filters 0x" + [&] { char b[16]; snprintf(b, sizeof b, "%x", info.rx_filters); return std::string(b); }() +
             ", PTP clock " + (info.phc_index >= 0 ? "/dev/ptp" + std::to_string(info.phc_index) : std::string("none")) +
             (c.hardwareRx ? ": hardware receive stamps" : ": no hardware receive stamps (software)");
  return c;
}

// Sets SO_TIMESTAMPING on fd per mode; returns the StampSource it will deliver.
static uint8_t EnableTimestamping(int fd, const RxOptions& o, std::string& detail) {
  if (o.timestamping == "none") { detail = "timestamping off: receiver clock at read"; return TS_STAMP_SOURCE_USER; }
  bool hw = false;
  if (o.timestamping != "software" && !o.ifname.empty()) {
    TsCaps c = TimestampCaps(o.ifname);
    if (c.hardwareRx) {
      // switch the NIC's receive stamping on (SIOCSHWTSTAMP), as hwstamp_ctl does
      hwtstamp_config cfg{};
      cfg.tx_type = HWTSTAMP_TX_OFF;
      cfg.rx_filter = HWTSTAMP_FILTER_ALL;
      ifreq ifr{};
      std::strncpy(ifr.ifr_name, o.ifname.c_str(), IFNAMSIZ - 1);
      ifr.ifr_data = reinterpret_cast<char*>(&cfg);
      if (ioctl(fd, SIOCSHWTSTAMP, &ifr) == 0 && cfg.rx_filter != HWTSTAMP_FILTER_NONE) hw = true;
      else detail = Errno("SIOCSHWTSTAMP on " + o.ifname, errno) + "; ";
    } else {
      detail = c.detail + "; ";
    }
  }
  if (o.timestamping == "hardware" && !hw) throw std::runtime_error("hardware timestamping requested but unavailable: " + (o.ifname.empty() ? std::string("no ifname given") : detail));
  int flags = hw ? (SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE)
                 : (SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) < 0) {
    detail += Errno("SO_TIMESTAMPING", errno) + "; receiver clock at read";
    return TS_STAMP_SOURCE_USER;
  }
  detail += hw ? "SO_TIMESTAMPING hardware (NIC clock, raw)" : "SO_TIMESTAMPING software (kernel receive stamp)";
  return hw ? TS_STAMP_SOURCE_HARDWARE : TS_STAMP_SOURCE_SOFTWARE;
}

static const char* StampName(uint8_t s) {
  switch (s) {
    case TS_STAMP_SOURCE_HARDWARE: return "hardware";
    case TS_STAMP_SOURCE_SOFTWARE: return "software";
    case TS_STAMP_SOURCE_USER: return "user";
    default: return "none";
  }
}

// ---------------------------------------------------------------- recvmmsg path

class RecvmmsgRx : public SequencedReceiver {
 public:
  RecvmmsgRx(const RxOptions& o, uint8_t* ring) : SequencedReceiver(o, ring, TS_FEED_PATH_RECVMMSG) {}
  ~RecvmmsgRx() override { Close(); }

 private:
  void Setup() override { OpenSocket(); }
  void Teardown() override { CloseFd(); }
  void CloseFd() { if (fd_ >= 0) { close(fd_); fd_ = -1; } }

  void OpenSocket() {
    in_addr bind = ParseIpv4(opt.bindAddress, "bindAddress");
    if (!opt.ifname.empty() && (opt.ifname.size() >= IFNAMSIZ || if_nametoindex(opt.ifname.c_str()) == 0)) throw std::runtime_error("unknown interface '" + opt.ifname + "'");
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(Errno("socket", errno));
    int one = 1;
    if (!opt.multicastGroup.empty()) setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rcvbuf = 16 << 20;
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (!opt.ifname.empty() && setsockopt(fd_, SOL_SOCKET, SO_BINDTODEVICE, opt.ifname.c_str(), socklen_t(opt.ifname.size())) < 0)
      throw std::runtime_error(Errno("SO_BINDTODEVICE " + opt.ifname, errno));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(opt.port);
    // multicast: bound to any address, so the group's packets and the unicast answers to our
    // retransmission requests (sent from this socket) both arrive here
    if (!opt.multicastGroup.empty()) ParseIpv4(opt.multicastGroup, "multicastGroup");
    sa.sin_addr = opt.multicastGroup.empty() ? bind : in_addr{htonl(INADDR_ANY)};
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
      int e = errno;
      if (e == EADDRINUSE) throw std::runtime_error("port " + std::to_string(opt.port) + " on " + opt.bindAddress + " is in use");
      if (e == EADDRNOTAVAIL) throw std::runtime_error("bindAddress " + opt.bindAddress + " is not an address of this host");
      throw std::runtime_error(Errno("bind " + opt.bindAddress + ":" + std::to_string(opt.port), e));
    }
    if (!opt.multicastGroup.empty()) {
      ip_mreqn m{};
      m.imr_multiaddr = ParseIpv4(opt.multicastGroup, "multicastGroup");
      m.imr_address = bind;
      m.imr_ifindex = opt.ifname.empty() ? 0 : int(if_nametoindex(opt.ifname.c_str()));
      if (setsockopt(fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0) throw std::runtime_error(Errno("IP_ADD_MEMBERSHIP " + opt.multicastGroup, errno));
    }
    std::string busy;
    if (opt.busyPollUs > 0) {
      int us = opt.busyPollUs;
      if (setsockopt(fd_, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof us) < 0) busy = "; " + Errno("SO_BUSY_POLL", errno) + " (spinning in user space only)";
      else busy = "; SO_BUSY_POLL " + std::to_string(us) + " µs";
    }
    std::string ts;
    stamp_ = EnableTimestamping(fd_, opt, ts);
    stampSource = StampName(stamp_);
    detail = "recvmmsg batch " + std::to_string(opt.batch) + "; " + ts + busy;
  }

  void Request(const uint8_t s[10], uint64_t from, uint16_t n) override {
    uint8_t b[20];
    std::memcpy(b, s, 10);
    PutBe64(b + 10, from);
    PutBe16(b + 18, n);
    // sent from the feed socket: the publisher answers to this address and port, so the
    // retransmitted packets come back through this same path
    sendto(fd_, b, sizeof b, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&requestTo), sizeof requestTo);
  }

  void Run() override {
    std::string pin = PinThread(opt.cpu);
    if (!pin.empty()) SetError(pin);
    const int B = opt.batch;
    constexpr size_t kBuf = 2048, kCtl = 256;
    std::vector<uint8_t> bufs(size_t(B) * kBuf), ctls(size_t(B) * kCtl);
    std::vector<mmsghdr> msgs(B);
    std::vector<iovec> iov(B);
    std::vector<sockaddr_in> from(B);
    for (int i = 0; i < B; i++) {
      iov[i] = {bufs.data() + size_t(i) * kBuf, kBuf};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int64_t spinNs = int64_t(opt.busyPollUs) * 1000;
    int64_t lastRx = MonoNs();
    while (!stop.load(std::memory_order_relaxed)) {
      for (int i = 0; i < B; i++) {
        msgs[i].msg_hdr.msg_control = ctls.data() + size_t(i) * kCtl;
        msgs[i].msg_hdr.msg_controllen = kCtl;
        msgs[i].msg_hdr.msg_flags = 0;
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      }
      int n = recvmmsg(fd_, msgs.data(), unsigned(B), MSG_DONTWAIT, nullptr);
      if (n > 0) {
        int64_t user = stamp_ == TS_STAMP_SOURCE_USER ? RealtimeNs() : 0;
        Bump(stats.batches);
        for (int i = 0; i < n; i++) {
          int64_t ts = user;
          uint8_t src = stamp_;
          if (stamp_ != TS_STAMP_SOURCE_USER) {
            ts = 0;
            for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
              if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
                scm_timestamping t;
                std::memcpy(&t, CMSG_DATA(c), sizeof t);
                const timespec& x = stamp_ == TS_STAMP_SOURCE_HARDWARE ? t.ts[2] : t.ts[0];
                ts = int64_t(x.tv_sec) * 1000000000 + x.tv_nsec;
              }
            }
            if (ts == 0) { ts = RealtimeNs(); src = TS_STAMP_SOURCE_USER; }
          }
          // a packet from the request server is an answer (retransmission or empty answer)
          bool answer = haveRequest && from[i].sin_port == requestTo.sin_port && from[i].sin_addr.s_addr == requestTo.sin_addr.s_addr;
          seq_->OnPacket(static_cast<const uint8_t*>(iov[i].iov_base), msgs[i].msg_len, ts, src, answer);
        }
        lastRx = MonoNs();
        seq_->OnIdle(lastRx);   // publishes the batch; times out gaps under a steady flood too
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        SetError(Errno("recvmmsg", errno));
        break;
      }
      int64_t now = MonoNs();
      seq_->OnIdle(now);
      if (now - lastRx < spinNs) continue;   // busy poll: spin while packets are recent
      int64_t dl = seq_->Deadline();
      int timeout = 20;
      if (dl != INT64_MAX) timeout = int(std::max<int64_t>(0, std::min<int64_t>(20, (dl - now) / 1000000 + 1)));
      pollfd p{fd_, POLLIN, 0};
      poll(&p, 1, timeout);
    }
    running = false;
  }

  int fd_ = -1;
  uint8_t stamp_ = TS_STAMP_SOURCE_NONE;
};

// ---------------------------------------------------------------- sendmmsg sender (benchmark load)

struct SendOptions {
  std::string address, bindAddress, netns, session = "BENCH";
  uint16_t port = 0;
  uint64_t startSeq = 1, packets = 0;
  double rate = 0;        // packets/s; 0 = as fast as possible
  int batch = 16, cpu = -1;
  uint32_t symbol = 1;
  bool heartbeat = true, endOfSession = false;
};
struct SendResult { uint64_t sent = 0, errors = 0, nextSeq = 0; double seconds = 0; std::string error; };

// Each packet: a 'D' book delta and an 'S' system event ('O'), 64 bytes of UDP payload:
// 20 header + 2+26 + 2+14. Message timestamps are the sender's CLOCK_REALTIME just before sendmmsg.
static constexpr size_t kBenchPayload = 64;
static constexpr uint16_t kBenchMsgs = 2;

static void FillBenchPacket(uint8_t* p, const uint8_t* session, uint64_t seq, uint32_t symbol, int64_t ts, uint64_t i) {
  std::memcpy(p, session, 10);
  PutBe64(p + 10, seq);
  PutBe16(p + 18, kBenchMsgs);
  uint8_t* m = p + 20;
  PutBe16(m, 26); m += 2;
  m[0] = 'D'; PutBe32(m + 1, symbol); PutBe64(m + 5, uint64_t(ts)); m[13] = (i & 1) ? 'S' : 'B';
  PutBe64(m + 14, 10000 + (i % 100)); PutBe32(m + 22, uint32_t(1 + i % 1000)); m += 26;
  PutBe16(m, 14); m += 2;
  m[0] = 'S'; PutBe32(m + 1, symbol); PutBe64(m + 5, uint64_t(ts)); m[13] = 'O';
}

static SendResult SendBurst(const SendOptions& o) {
  SendResult r;
  r.nextSeq = o.startSeq;
  if (!o.netns.empty()) {
    std::string p = "/var/run/netns/" + o.netns;
    int nfd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (nfd < 0) { r.error = Errno("open " + p, errno); return r; }
    // this thread only: the Node process stays in its own namespace
    if (setns(nfd, CLONE_NEWNET) < 0) { r.error = Errno("setns " + o.netns, errno); close(nfd); return r; }
    close(nfd);
  }
  std::string pin = PinThread(o.cpu);
  if (!pin.empty()) { r.error = pin; return r; }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { r.error = Errno("socket", errno); return r; }
  int sndbuf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(o.port);
  if (inet_pton(AF_INET, o.address.c_str(), &to.sin_addr) != 1) { r.error = "address '" + o.address + "' is not an IPv4 address"; close(fd); return r; }
  if (!o.bindAddress.empty()) {
    sockaddr_in b{};
    b.sin_family = AF_INET;
    if (inet_pton(AF_INET, o.bindAddress.c_str(), &b.sin_addr) != 1 || ::bind(fd, reinterpret_cast<sockaddr*>(&b), sizeof b) < 0) {
      r.error = "cannot bind the sender to " + o.bindAddress; close(fd); return r;
    }
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) { r.error = Errno("connect", errno); close(fd); return r; }
  uint8_t session[10];
  std::memset(session, ' ', 10);
  std::memcpy(session, o.session.data(), std::min<size_t>(o.session.size(), 10));
  const int B = std::max(1, o.batch);
  std::vector<uint8_t> bufs(size_t(B) * kBenchPayload);
  std::vector<iovec> iov(B);
  std::vector<mmsghdr> msgs(B);
  for (int i = 0; i < B; i++) {
    iov[i] = {bufs.data() + size_t(i) * kBenchPayload, kBenchPayload};
    msgs[i].msg_hdr = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const int64_t t0 = MonoNs();
  const double nsPerPkt = o.rate > 0 ? 1e9 / o.rate : 0;
  uint64_t seq = o.startSeq, i = 0;
  while (i < o.packets) {
    int n = int(std::min<uint64_t>(uint64_t(B), o.packets - i));
    if (nsPerPkt > 0) {
      int64_t due = t0 + int64_t(double(i) * nsPerPkt);
      while (MonoNs() < due) {}
    }
    int64_t ts = RealtimeNs();
    for (int k = 0; k < n; k++) FillBenchPacket(bufs.data() + size_t(k) * kBenchPayload, session, seq + uint64_t(k) * kBenchMsgs, o.symbol, ts, i + k);
    int sent = 0;
    while (sent < n) {
      int s = sendmmsg(fd, msgs.data() + sent, unsigned(n - sent), 0);
      if (s < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS || errno == EAGAIN) { r.errors++; sched_yield(); continue; }
        r.error = Errno("sendmmsg", errno);
        break;
      }
      sent += s;
    }
    if (!r.error.empty()) break;
    seq += uint64_t(n) * kBenchMsgs;
    i += uint64_t(n);
  }
  r.seconds = double(MonoNs() - t0) / 1e9;
  r.sent = i;
  r.nextSeq = seq;
  if (r.error.empty() && (o.heartbeat || o.endOfSession)) {
    uint8_t hb[20];
    std::memcpy(hb, session, 10);
    PutBe64(hb + 10, seq);
    PutBe16(hb + 18, o.endOfSession ? kEndOfSession : 0);
    send(fd, hb, sizeof hb, 0);
  }
  close(fd);
  return r;
}

}  // namespace feed

// ---------------------------------------------------------------- N-API

namespace {

struct Entry {
  std::unique_ptr<feed::Receiver> rx;
  Napi::ObjectReference ring;   // keeps the SharedArrayBuffer alive while the thread writes it
  napi_env env = nullptr;
};
std::mutex g_mu;
std::map<int, Entry> g_rx;
int g_next = 1;
std::set<napi_env> g_hooked;

// Environment teardown (process exit, a worker's end): stops that environment's receivers.
void CloseEnv(void* arg) {
  napi_env env = static_cast<napi_env>(arg);
  std::lock_guard<std::mutex> g(g_mu);
  for (auto it = g_rx.begin(); it != g_rx.end();) {
    if (it->second.env == env) {
      if (it->second.rx) it->second.rx->Close();
      it = g_rx.erase(it);
    } else {
      ++it;
    }
  }
  g_hooked.erase(env);
}

std::string Str(const Napi::Object& o, const char* k, const std::string& def = "") {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("feed option ") + k + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}
double Num(const Napi::Object& o, const char* k, double def, double lo, double hi) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("feed option ") + k + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi) || d != double(int64_t(d))) throw Napi::RangeError::New(o.Env(), std::string("feed option ") + k + " must be an integer in [" + std::to_string(int64_t(lo)) + ", " + std::to_string(int64_t(hi)) + "]");
  return d;
}

// The ring's bytes: a SharedArrayBuffer (viewed through a Uint8Array made here, since N-API in
// Node 20 has no SharedArrayBuffer accessor) or a typed array over one.
Napi::TypedArray RingView(Napi::Env env, Napi::Value v) {
  Napi::Object g = env.Global();
  Napi::Function sab = g.Get("SharedArrayBuffer").As<Napi::Function>();
  if (v.IsObject() && v.As<Napi::Object>().InstanceOf(sab)) {
    return g.Get("Uint8Array").As<Napi::Function>().New({v}).As<Napi::TypedArray>();
  }
  if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    Napi::Value buf = t.Get("buffer");
    if (buf.IsObject() && buf.As<Napi::Object>().InstanceOf(sab)) return t;
  }
  Napi::Error e = Napi::TypeError::New(env, "feed option ring must be a FeedRing's SharedArrayBuffer");
  e.Set("feedCode", "ERR_FEED_RING");
  throw e;
}

Napi::Object StatsObject(Napi::Env env, feed::Receiver& r) {
  auto& s = r.stats;
  auto n = [&](uint64_t v) { return Napi::Number::New(env, double(v)); };
  Napi::Object o = Napi::Object::New(env);
  o.Set("packets", n(s.packets.load()));
  o.Set("messages", n(s.messages.load()));
  o.Set("bytes", n(s.bytes.load()));
  o.Set("heartbeats", n(s.heartbeats.load()));
  o.Set("batches", n(s.batches.load()));
  o.Set("gaps", n(s.gaps.load()));
  o.Set("recovered", n(s.recovered.load()));
  o.Set("unrecovered", n(s.unrecovered.load()));
  o.Set("duplicates", n(s.duplicates.load()));
  o.Set("otherSession", n(s.otherSession.load()));
  o.Set("ringOverruns", n(s.ringOverruns.load()));
  o.Set("lastSeq", n(s.lastSeq.load()));
  o.Set("malformed", n(s.malformed.load()));
  o.Set("requests", n(s.requests.load()));
  o.Set("filtered", n(s.filtered.load()));
  o.Set("held", n(s.held.load()));
  std::string sess = s.sessionSet.load(std::memory_order_acquire) ? std::string(s.session, feed::kSessionLen) : r.opt.session;
  while (!sess.empty() && (sess.back() == ' ' || sess.back() == '\0')) sess.pop_back();
  o.Set("session", Napi::String::New(env, sess));
  o.Set("stampSource", Napi::String::New(env, r.stampSource));
  o.Set("path", Napi::String::New(env, r.opt.path));
  if (!r.xdpMode.empty()) o.Set("xdpMode", Napi::String::New(env, r.xdpMode));
  o.Set("ended", Napi::Boolean::New(env, s.ended.load()));
  o.Set("running", Napi::Boolean::New(env, r.running.load()));
  o.Set("detail", Napi::String::New(env, r.detail));
  {
    std::lock_guard<std::mutex> g(r.mu);
    if (!r.error.empty()) o.Set("error", Napi::String::New(env, r.error));
  }
  return o;
}

Napi::Value FeedOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "feedOpen(options): options must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  feed::RxOptions r;
  r.path = Str(o, "path");
  if (r.path != "xdp" && r.path != "recvmmsg") throw Napi::TypeError::New(env, "feed option path must be 'xdp' or 'recvmmsg', not '" + r.path + "'");
  Napi::TypedArray view = RingView(env, o.Get("ring"));
  // napi_get_typedarray_info's data pointer already includes the byte offset; the ArrayBuffer
  // accessors refuse a SharedArrayBuffer
  void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type tt;
  if (napi_get_typedarray_info(env, view, &tt, &length, &data, nullptr, nullptr) != napi_ok || !data) throw Napi::TypeError::New(env, "feed option ring: cannot reach the buffer's memory");
  uint8_t* base = static_cast<uint8_t*>(data);
  std::string bad = feed::CheckRing(base, view.ByteLength());
  if (!bad.empty()) { Napi::Error e = Napi::TypeError::New(env, "feed option ring: " + bad); e.Set("feedCode", "ERR_FEED_RING"); throw e; }
  r.bindAddress = Str(o, "bindAddress", "0.0.0.0");
  r.port = uint16_t(Num(o, "port", -1, 1, 65535));
  r.ifname = Str(o, "ifname");
  r.queue = uint32_t(Num(o, "queue", 0, 0, 1023));
  r.multicastGroup = Str(o, "multicastGroup");
  r.session = Str(o, "session");
  if (r.session.size() > 10) throw Napi::RangeError::New(env, "feed option session is longer than 10 characters");
  if (!r.session.empty()) r.session.resize(10, ' ');
  r.requestAddress = Str(o, "requestAddress");
  r.requestPort = uint16_t(Num(o, "requestPort", 0, 0, 65535));
  r.timestamping = Str(o, "timestamping", "auto");
  if (r.timestamping != "auto" && r.timestamping != "hardware" && r.timestamping != "software" && r.timestamping != "none")
    throw Napi::TypeError::New(env, "feed option timestamping must be auto, hardware, software or none");
  r.busyPollUs = int(Num(o, "busyPollUs", 50, 0, 1000000));
  r.batch = int(Num(o, "batch", 64, 1, 1024));
  r.cpu = int(Num(o, "cpu", -1, -1, CPU_SETSIZE - 1));
  r.gapTimeoutMs = int(Num(o, "gapTimeoutMs", 100, 1, 3600000));
  if (r.path == "xdp" && r.ifname.empty()) throw Napi::TypeError::New(env, "feed option ifname is required for path 'xdp'");
  if (!r.requestAddress.empty() && r.requestPort == 0) throw Napi::TypeError::New(env, "feed option requestPort is required with requestAddress");
  sockaddr_in req{};
  if (!r.requestAddress.empty()) {
    req.sin_family = AF_INET;
    req.sin_port = htons(r.requestPort);
    if (inet_pton(AF_INET, r.requestAddress.c_str(), &req.sin_addr) != 1) throw Napi::TypeError::New(env, "feed option requestAddress '" + r.requestAddress + "' is not an IPv4 address");
  }
  std::unique_ptr<feed::Receiver> rx;
  try {
    if (r.path == "recvmmsg") {
      auto p = std::make_unique<feed::RecvmmsgRx>(r, base);
      p->requestTo = req;
      p->haveRequest = !r.requestAddress.empty();
      p->Open();
      rx = std::move(p);
    } else {
#ifdef TRADSYS_HAVE_XDP
      rx = feed::OpenXdp(r, base, req, !r.requestAddress.empty());
#else
      throw std::runtime_error("AF_XDP is not compiled into this addon (libxdp/libbpf were missing at build)");
#endif
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    Napi::Error err = Napi::Error::New(env, std::string("feedOpen(") + r.path + "): " + what);
    err.Set("feedCode", what.rfind("the ring already has a writer", 0) == 0 ? "ERR_FEED_RING" : "ERR_FEED_NETWORK");
    throw err;
  }
  std::lock_guard<std::mutex> g(g_mu);
  if (g_hooked.insert(napi_env(env)).second) napi_add_env_cleanup_hook(env, CloseEnv, napi_env(env));
  int h = g_next++;
  Entry& e = g_rx[h];
  e.env = env;
  e.rx = std::move(rx);
  e.ring = Napi::Persistent(view.As<Napi::Object>());
  return Napi::Number::New(env, h);
}

feed::Receiver* Find(const Napi::CallbackInfo& info, int& h) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "feed handle must be a number");
  h = info[0].As<Napi::Number>().Int32Value();
  std::lock_guard<std::mutex> g(g_mu);
  auto it = g_rx.find(h);
  return it == g_rx.end() ? nullptr : it->second.rx.get();
}

Napi::Value FeedStats(const Napi::CallbackInfo& info) {
  int h;
  feed::Receiver* r = Find(info, h);
  if (!r) throw Napi::Error::New(info.Env(), "feedStats: no open feed receiver " + std::to_string(h));
  return StatsObject(info.Env(), *r);
}

// Stops and joins the thread; returns the final stats. A second close of the same handle returns
// the stats kept from the first.
std::map<int, Napi::ObjectReference> g_final;
Napi::Value FeedClose(const Napi::CallbackInfo& info) {
  int h;
  feed::Receiver* r = Find(info, h);
  if (!r) {
    auto f = g_final.find(h);
    if (f != g_final.end()) return f->second.Value();
    throw Napi::Error::New(info.Env(), "feedClose: no feed receiver " + std::to_string(h));
  }
  r->Close();
  Napi::Object s = StatsObject(info.Env(), *r);
  {
    std::lock_guard<std::mutex> g(g_mu);
    g_rx.erase(h);
  }
  g_final[h] = Napi::Persistent(s);
  return s;
}

Napi::Value FeedTimestampCaps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "feedTimestampCaps(ifname): ifname must be a string");
  feed::TsCaps c;
  try { c = feed::TimestampCaps(info[0].As<Napi::String>().Utf8Value()); } catch (const std::exception& e) { throw Napi::Error::New(env, std::string("feedTimestampCaps: ") + e.what()); }
  Napi::Object o = Napi::Object::New(env);
  o.Set("hardwareRx", c.hardwareRx);
  o.Set("softwareRx", c.softwareRx);
  o.Set("phcIndex", c.phcIndex);
  o.Set("detail", c.detail);
  return o;
}

// Which native paths this process can open: { xdp: {available, reason}, recvmmsg: {...} }.
Napi::Value FeedPaths(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  auto row = [&](bool ok, const std::string& why) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("available", ok);
    r.Set("reason", why);
    return r;
  };
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) { close(fd); o.Set("recvmmsg", row(true, "recvmmsg thread with SO_TIMESTAMPING")); }
  else o.Set("recvmmsg", row(false, feed::Errno("socket(AF_INET, SOCK_DGRAM)", errno)));
#ifdef TRADSYS_HAVE_XDP
  std::string why = feed::XdpAvailable();
  o.Set("xdp", row(why.empty(), why.empty() ? "AF_XDP sockets and XDP programs can be created (generic/SKB mode, copy)" : why));
#else
  o.Set("xdp", row(false, "AF_XDP is not compiled into this addon (libxdp/libbpf were missing at build)"));
#endif
  return o;
}

// feedSendBurst(opts): Promise<{ sent, messages, seconds, pps, errors, nextSeq, payload }>; sends
// from its own thread (inside opts.netns when given).
Napi::Value FeedSendBurst(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "feedSendBurst(options): options must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  auto so = std::make_shared<feed::SendOptions>();
  so->address = Str(o, "address");
  so->bindAddress = Str(o, "bindAddress");
  so->netns = Str(o, "netns");
  if (so->netns.find('/') != std::string::npos) throw Napi::TypeError::New(env, "feedSendBurst: netns must be a name");
  so->session = Str(o, "session", "BENCH");
  so->port = uint16_t(Num(o, "port", -1, 1, 65535));
  so->startSeq = uint64_t(Num(o, "startSeq", 1, 1, 9007199254740991.0));
  so->packets = uint64_t(Num(o, "packets", -1, 0, 1e12));
  Napi::Value rate = o.Get("rate");
  if (!rate.IsUndefined() && (!rate.IsNumber() || !(rate.As<Napi::Number>().DoubleValue() >= 0))) throw Napi::RangeError::New(env, "feedSendBurst: rate must be a number >= 0");
  so->rate = rate.IsUndefined() ? 0 : rate.As<Napi::Number>().DoubleValue();
  so->batch = int(Num(o, "batch", 16, 1, 1024));
  so->cpu = int(Num(o, "cpu", -1, -1, CPU_SETSIZE - 1));
  so->symbol = uint32_t(Num(o, "symbol", 1, 0, 4294967295.0));
  Napi::Value hb = o.Get("heartbeat");
  so->heartbeat = hb.IsUndefined() ? true : hb.ToBoolean().Value();
  Napi::Value eos = o.Get("endOfSession");
  so->endOfSession = eos.IsUndefined() ? false : eos.ToBoolean().Value();
  auto deferred = std::make_shared<Napi::Promise::Deferred>(env);
  auto result = std::make_shared<feed::SendResult>();
  auto tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "feedSendBurst", 0, 1);
  std::thread([so, result, deferred, tsfn]() mutable {
    *result = feed::SendBurst(*so);
    tsfn.BlockingCall([so, result, deferred](Napi::Env env, Napi::Function) {
      if (!result->error.empty()) { deferred->Reject(Napi::Error::New(env, "feedSendBurst: " + result->error).Value()); return; }
      Napi::Object r = Napi::Object::New(env);
      r.Set("sent", double(result->sent));
      r.Set("messages", double(result->sent * feed::kBenchMsgs));
      r.Set("seconds", result->seconds);
      r.Set("pps", result->seconds > 0 ? double(result->sent) / result->seconds : 0);
      r.Set("errors", double(result->errors));
      r.Set("nextSeq", double(result->nextSeq));
      r.Set("payload", double(feed::kBenchPayload));
      deferred->Resolve(r);
    });
    tsfn.Release();
  }).detach();
  return deferred->Promise();
}

}  // namespace

void InitFeed(Napi::Env env, Napi::Object exports, Napi::Object features) {
  exports.Set("feedOpen", Napi::Function::New(env, FeedOpen, "feedOpen"));
  exports.Set("feedStats", Napi::Function::New(env, FeedStats, "feedStats"));
  exports.Set("feedClose", Napi::Function::New(env, FeedClose, "feedClose"));
  exports.Set("feedTimestampCaps", Napi::Function::New(env, FeedTimestampCaps, "feedTimestampCaps"));
  exports.Set("feedPaths", Napi::Function::New(env, FeedPaths, "feedPaths"));
  exports.Set("feedSendBurst", Napi::Function::New(env, FeedSendBurst, "feedSendBurst"));
  Napi::Object f = Napi::Object::New(env);
  f.Set("compiled", Napi::Boolean::New(env, true));
#ifdef TRADSYS_HAVE_XDP
  f.Set("detail", Napi::String::New(env, "recvmmsg + SO_TIMESTAMPING, AF_XDP (libxdp/libbpf static)"));
  Napi::Object x = Napi::Object::New(env);
  x.Set("compiled", Napi::Boolean::New(env, true));
  x.Set("detail", Napi::String::New(env, "AF_XDP receive path (libxdp.so.1/libbpf.so.1)"));
  features.Set("xdp", x);
#else
  f.Set("detail", Napi::String::New(env, "recvmmsg + SO_TIMESTAMPING; AF_XDP not compiled (libxdp/libbpf missing at build)"));
  Napi::Object x = Napi::Object::New(env);
  x.Set("compiled", Napi::Boolean::New(env, false));
  x.Set("detail", Napi::String::New(env, "AF_XDP not compiled (libxdp/libbpf missing at build)"));
  features.Set("xdp", x);
#endif
  features.Set("feed", f);
}
