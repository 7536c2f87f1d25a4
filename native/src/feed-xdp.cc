// The AF_XDP receive path of the feed (compiled only with TRADSYS_HAVE_XDP: libxdp/libbpf linked
// dynamically, Debian's archives are not PIC). A minimal XDP program of our own redirects the feed's UDP packets (IPv4, no IP
// options, not fragmented, destination port = the feed's, destination address = bindAddress
// unless 0.0.0.0) to an AF_XDP socket on the chosen queue and passes everything else to the
// kernel; a std::thread busy-polls the socket's rx ring, parses Ethernet/IPv4/UDP and hands the
// payload to the shared sequencer (feed-core.h), which writes the ring.
//
// Layout: umem (kFrames × kFrameSize, mmap'd) with its fill and completion rings; one XSKMAP
// (queue → socket); the program attached in generic (SKB) mode, copy mode (XDP_COPY), through a
// bpf_link where the kernel has them (so even a killed process leaves no program behind), else
// with bpf_xdp_attach and detached at close; a kernel UDP socket bound to the feed's address and
// port (reserves the port, sends retransmission requests, and catches what the program passed
// to the kernel, e.g. fragments or IP options).
// Invariants: every frame is in exactly one of: the fill ring, the kernel, the rx ring, or our
// hands for the length of one batch; Close (or a failed Open) detaches the program and frees the
// umem; libxdp's multi-program dispatcher is never used (LIBXDP_SKIP_DISPATCHER=1 and the program
// is ours), since it is refused in some sandboxes.
// Complexity: O(1) per frame plus the sequencer's work.
// Allocation: all at Open; none per packet.
// Known limitations: IPv4 without VLAN tags; one queue; receive stamps are the receiver's clock
// when the batch is read (stampSource user): generic-mode XDP has no hardware-stamp metadata
// (veth has none either); zero-copy needs a driver with native AF_XDP support.
#ifdef TRADSYS_HAVE_XDP
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <vector>
#include "feed-rx.h"

namespace feed {
namespace {

constexpr uint32_t kFrames = 32768;
constexpr uint32_t kFrameSize = 2048;
constexpr uint32_t kRing = 16384;
constexpr uint32_t kRxBatch = 64;

std::string Errno(const std::string& what, int err) { return what + ": " + std::strerror(err < 0 ? -err : err); }

// ---- a tiny BPF assembler (the uapi has the encoding, not the kernel's helper macros)
bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code; i.dst_reg = dst & 0xf; i.src_reg = src & 0xf; i.off = off; i.imm = imm;
  return i;
}
bpf_insn MovReg(uint8_t d, uint8_t s) { return Insn(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0); }
bpf_insn MovImm(uint8_t d, int32_t imm) { return Insn(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, imm); }
bpf_insn AddImm(uint8_t d, int32_t imm) { return Insn(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, imm); }
bpf_insn AndImm(uint8_t d, int32_t imm) { return Insn(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, imm); }
bpf_insn Ldx(uint8_t size, uint8_t d, uint8_t s, int16_t off) { return Insn(BPF_LDX | size | BPF_MEM, d, s, off, 0); }
bpf_insn JneImm(uint8_t d, int32_t imm, int16_t off) { return Insn(BPF_JMP | BPF_JNE | BPF_K, d, 0, off, imm); }
bpf_insn Jne32Imm(uint8_t d, int32_t imm, int16_t off) { return Insn(BPF_JMP32 | BPF_JNE | BPF_K, d, 0, off, imm); }
bpf_insn JgtReg(uint8_t d, uint8_t s, int16_t off) { return Insn(BPF_JMP | BPF_JGT | BPF_X, d, s, off, 0); }
bpf_insn Call(int32_t fn) { return Insn(BPF_JMP | BPF_CALL, 0, 0, 0, fn); }
bpf_insn Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// The filter: feed UDP packets → XSKMAP[rx_queue_index], else XDP_PASS. Jumps to PASS are
// patched once the program's length is known (off = -1 marks them).
std::vector<bpf_insn> FeedProgram(int mapFd, uint16_t port, uint32_t dstAddr /* network order, 0 = any */) {
  std::vector<bpf_insn> p;
  std::vector<size_t> toPass;
  auto jPass = [&](bpf_insn i) { toPass.push_back(p.size()); p.push_back(i); };
  p.push_back(MovReg(6, 1));                                   // r6 = ctx
  p.push_back(Ldx(BPF_W, 2, 1, offsetof(xdp_md, data)));       // r2 = data
  p.push_back(Ldx(BPF_W, 3, 1, offsetof(xdp_md, data_end)));   // r3 = data_end
  p.push_back(MovReg(4, 2));
  p.push_back(AddImm(4, 42));                                  // eth 14 + ip 20 + udp 8
  jPass(JgtReg(4, 3, -1));                                     // too short → pass
  p.push_back(Ldx(BPF_H, 5, 2, 12));                           // ethertype
  jPass(JneImm(5, htons(0x0800), -1));
  p.push_back(Ldx(BPF_B, 5, 2, 14));                           // version 4, IHL 5
  jPass(JneImm(5, 0x45, -1));
  p.push_back(Ldx(BPF_B, 5, 2, 23));                           // protocol
  jPass(JneImm(5, IPPROTO_UDP, -1));
  p.push_back(Ldx(BPF_H, 5, 2, 20));                           // MF flag | fragment offset
  p.push_back(AndImm(5, htons(0x3fff)));
  jPass(JneImm(5, 0, -1));
  p.push_back(Ldx(BPF_H, 5, 2, 36));                           // UDP destination port
  jPass(JneImm(5, htons(port), -1));
  if (dstAddr != 0) {
    p.push_back(Ldx(BPF_W, 5, 2, 30));                         // IPv4 destination
    jPass(Jne32Imm(5, int32_t(dstAddr), -1));
  }
  p.push_back(Ldx(BPF_W, 2, 6, offsetof(xdp_md, rx_queue_index)));
  p.push_back(Insn(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, mapFd));   // r1 = &xskmap
  p.push_back(Insn(0, 0, 0, 0, 0));
  p.push_back(MovImm(3, XDP_PASS));                            // no socket on this queue → pass
  p.push_back(Call(BPF_FUNC_redirect_map));
  p.push_back(Exit());
  size_t pass = p.size();
  p.push_back(MovImm(0, XDP_PASS));
  p.push_back(Exit());
  for (size_t at : toPass) p[at].off = int16_t(pass - at - 1);
  return p;
}

int LoadProgram(const std::vector<bpf_insn>& prog, std::string& err) {
  static char log[65536];
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "tradsys_feed", "GPL", prog.data(), prog.size(), &opts);
  if (fd >= 0) return fd;
  int e = errno;
  LIBBPF_OPTS(bpf_prog_load_opts, dbg, .log_level = 1, .log_size = sizeof log, .log_buf = log);
  log[0] = 0;
  int fd2 = bpf_prog_load(BPF_PROG_TYPE_XDP, "tradsys_feed", "GPL", prog.data(), prog.size(), &dbg);
  if (fd2 >= 0) return fd2;
  err = Errno("loading the XDP program (bpf_prog_load)", e) + (log[0] ? std::string("; verifier: ") + log : std::string());
  return -1;
}

class XdpRx : public SequencedReceiver {
 public:
  XdpRx(const RxOptions& o, uint8_t* ring) : SequencedReceiver(o, ring, TS_FEED_PATH_XDP) {}
  ~XdpRx() override { Close(); }

 private:
  void Setup() override {
    // libxdp's dispatcher (several programs per interface) is refused in some sandboxes; we
    // attach our own single program and never ask libxdp to load one
    setenv("LIBXDP_SKIP_DISPATCHER", "1", 1);
    if (opt.ifname.size() >= IFNAMSIZ) throw std::runtime_error("unknown interface '" + opt.ifname + "'");
    ifindex_ = int(if_nametoindex(opt.ifname.c_str()));
    if (ifindex_ == 0) throw std::runtime_error("unknown interface '" + opt.ifname + "'");
    in_addr bind{};
    if (inet_pton(AF_INET, opt.bindAddress.c_str(), &bind) != 1) throw std::runtime_error("bindAddress '" + opt.bindAddress + "' is not an IPv4 address");
    if (!opt.multicastGroup.empty()) throw std::runtime_error("multicastGroup is not supported on the xdp path (use recvmmsg)");
    if (opt.timestamping == "hardware")
      throw std::runtime_error("hardware timestamping requested but unavailable: generic-mode AF_XDP frames carry no hardware-stamp metadata (use recvmmsg on a NIC with SO_TIMESTAMPING hardware support)");

    // the kernel socket: port reservation, requests, and packets the program passed on
    kfd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (kfd_ < 0) throw std::runtime_error(Errno("socket", errno));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(opt.port);
    sa.sin_addr = bind;
    if (::bind(kfd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
      int e = errno;
      if (e == EADDRINUSE) throw std::runtime_error("port " + std::to_string(opt.port) + " on " + opt.bindAddress + " is in use");
      if (e == EADDRNOTAVAIL) throw std::runtime_error("bindAddress " + opt.bindAddress + " is not an address of this host");
      throw std::runtime_error(Errno("bind", e));
    }

    size_t size = size_t(kFrames) * kFrameSize;
    void* area = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) throw std::runtime_error(Errno("mmap umem", errno));
    area_ = area;
    areaSize_ = size;
    xsk_umem_config uc{};
    uc.fill_size = kRing;
    uc.comp_size = kRing;
    uc.frame_size = kFrameSize;
    uc.frame_headroom = 0;
    uc.flags = 0;
    int rc = xsk_umem__create(&umem_, area_, size, &fq_, &cq_, &uc);
    if (rc) { umem_ = nullptr; throw std::runtime_error(Errno("xsk_umem__create", rc)); }

    mapFd_ = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "tradsys_xsks", sizeof(int), sizeof(int), 64, nullptr);
    if (mapFd_ < 0) throw std::runtime_error(Errno("bpf_map_create(XSKMAP)", errno));
    std::string err;
    progFd_ = LoadProgram(FeedProgram(mapFd_, opt.port, bind.s_addr), err);
    if (progFd_ < 0) throw std::runtime_error(err);

    // attach in generic (SKB) mode: a bpf_link first (auto-detached when the last fd closes)
    LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_SKB_MODE);
    linkFd_ = bpf_link_create(progFd_, ifindex_, BPF_XDP, &lo);
    if (linkFd_ < 0) {
      int e = errno;
      if (e == EBUSY || e == EEXIST) throw std::runtime_error("interface " + opt.ifname + " already has an XDP program (see `ip link show " + opt.ifname + "`)");
      rc = bpf_xdp_attach(ifindex_, progFd_, XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, nullptr);
      if (rc) {
        if (rc == -EBUSY || rc == -EEXIST) throw std::runtime_error("interface " + opt.ifname + " already has an XDP program (see `ip link show " + opt.ifname + "`)");
        throw std::runtime_error(Errno("attaching the XDP program to " + opt.ifname + " (bpf_link_create: " + std::strerror(e) + "; bpf_xdp_attach)", rc));
      }
      legacyAttached_ = true;
    }
    xdpMode = "generic";

    xsk_socket_config sc{};
    sc.rx_size = kRing;
    sc.tx_size = 0;
    sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
    sc.xdp_flags = XDP_FLAGS_SKB_MODE;
    sc.bind_flags = XDP_COPY;
    rc = xsk_socket__create(&xsk_, opt.ifname.c_str(), opt.queue, umem_, &rx_, nullptr, &sc);
    if (rc) { xsk_ = nullptr; throw std::runtime_error(Errno("xsk_socket__create(" + opt.ifname + ", queue " + std::to_string(opt.queue) + ", copy mode)", rc)); }
    rc = xsk_socket__update_xskmap(xsk_, mapFd_);
    if (rc) throw std::runtime_error(Errno("xsk_socket__update_xskmap", rc));

    // give the kernel half the frames to fill; the rest stay spare for refills
    uint32_t idx = 0;
    uint32_t n = xsk_ring_prod__reserve(&fq_, kRing, &idx);
    if (n != kRing) throw std::runtime_error("the XDP fill ring could not be populated");
    for (uint32_t i = 0; i < n; i++) *xsk_ring_prod__fill_addr(&fq_, idx + i) = uint64_t(i) * kFrameSize;
    xsk_ring_prod__submit(&fq_, n);

    stampSource = "user";
    detail = "AF_XDP on " + opt.ifname + " queue " + std::to_string(opt.queue) + ", generic (SKB) mode, copy (XDP_COPY), " +
             (legacyAttached_ ? "program attached with bpf_xdp_attach" : "program attached through a bpf_link") +
             "; receive stamps: receiver clock at read (no XDP hardware-stamp metadata in generic mode)";
  }

  void Teardown() override {
    if (xsk_) { xsk_socket__delete(xsk_); xsk_ = nullptr; }
    if (umem_) { xsk_umem__delete(umem_); umem_ = nullptr; }
    if (area_) { munmap(area_, areaSize_); area_ = nullptr; }
    if (linkFd_ >= 0) { close(linkFd_); linkFd_ = -1; }
    if (legacyAttached_) {
      LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = progFd_);
      bpf_xdp_detach(ifindex_, XDP_FLAGS_SKB_MODE, &ao);
      legacyAttached_ = false;
    }
    if (progFd_ >= 0) { close(progFd_); progFd_ = -1; }
    if (mapFd_ >= 0) { close(mapFd_); mapFd_ = -1; }
    if (kfd_ >= 0) { close(kfd_); kfd_ = -1; }
  }

  void Request(const uint8_t s[10], uint64_t from, uint16_t n) override {
    uint8_t b[20];
    std::memcpy(b, s, 10);
    PutBe64(b + 10, from);
    PutBe16(b + 18, n);
    // from the feed's own address and port: the answer comes back through the XDP program
    sendto(kfd_, b, sizeof b, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&requestTo), sizeof requestTo);
  }

  // Ethernet/IPv4/UDP → the feed payload; false for anything else (counted as filtered).
  bool Payload(const uint8_t* f, uint32_t len, const uint8_t*& p, size_t& n, bool& answer) {
    if (len < 42 || f[12] != 0x08 || f[13] != 0x00) return false;
    const uint8_t* ip = f + 14;
    uint32_t ihl = uint32_t(ip[0] & 0xf) * 4;
    if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != IPPROTO_UDP || 14 + ihl + 8 > len) return false;
    const uint8_t* udp = ip + ihl;
    if (Be16(udp + 2) != opt.port) return false;
    uint32_t ulen = Be16(udp + 4);
    if (ulen < 8 || 14 + ihl + ulen > len) return false;
    p = udp + 8;
    n = ulen - 8;
    uint32_t src;
    std::memcpy(&src, ip + 12, 4);
    uint16_t sport;
    std::memcpy(&sport, udp, 2);
    answer = haveRequest && src == requestTo.sin_addr.s_addr && sport == requestTo.sin_port;
    return true;
  }

  // Packets the program passed to the kernel socket (fragments, IP options) still count.
  void DrainKernel() {
    uint8_t buf[2048];
    for (int k = 0; k < 64; k++) {
      sockaddr_in from{};
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(kfd_, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n < 0) return;
      bool answer = haveRequest && from.sin_port == requestTo.sin_port && from.sin_addr.s_addr == requestTo.sin_addr.s_addr;
      seq_->OnPacket(buf, size_t(n), RealtimeNs(), TS_STAMP_SOURCE_USER, answer);
    }
  }

  void Run() override {
    std::string pin = PinThread(opt.cpu);
    if (!pin.empty()) SetError(pin);
    const int64_t spinNs = int64_t(opt.busyPollUs) * 1000;
    int64_t lastRx = MonoNs();
    uint64_t addrs[kRxBatch];
    uint32_t spins = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      uint32_t idx = 0;
      uint32_t n = xsk_ring_cons__peek(&rx_, kRxBatch, &idx);
      if (n > 0) {
        int64_t ts = RealtimeNs();
        Bump(stats.batches);
        for (uint32_t i = 0; i < n; i++) {
          const xdp_desc* d = xsk_ring_cons__rx_desc(&rx_, idx + i);
          addrs[i] = d->addr;
          const uint8_t* f = static_cast<const uint8_t*>(xsk_umem__get_data(area_, d->addr));
          const uint8_t* p;
          size_t len;
          bool answer = false;
          if (Payload(f, d->len, p, len, answer)) seq_->OnPacket(p, len, ts, TS_STAMP_SOURCE_USER, answer);
          else Bump(stats.filtered);
        }
        xsk_ring_cons__release(&rx_, n);
        uint32_t fidx = 0;
        while (xsk_ring_prod__reserve(&fq_, n, &fidx) != n) {
          if (stop.load(std::memory_order_relaxed)) break;
        }
        for (uint32_t i = 0; i < n; i++) *xsk_ring_prod__fill_addr(&fq_, fidx + i) = addrs[i] - (addrs[i] % kFrameSize);
        xsk_ring_prod__submit(&fq_, n);
        lastRx = MonoNs();
        seq_->OnIdle(lastRx);
        if ((++spins & 1023) == 0) DrainKernel();
        continue;
      }
      int64_t now = MonoNs();
      seq_->OnIdle(now);
      if (now - lastRx < spinNs) {
        if ((++spins & 4095) == 0) DrainKernel();
        continue;
      }
      DrainKernel();
      int64_t dl = seq_->Deadline();
      int timeout = 20;
      if (dl != INT64_MAX) timeout = int(std::max<int64_t>(0, std::min<int64_t>(20, (dl - now) / 1000000 + 1)));
      pollfd p[2] = {{xsk_socket__fd(xsk_), POLLIN, 0}, {kfd_, POLLIN, 0}};
      poll(p, 2, timeout);
    }
    running = false;
  }

  int ifindex_ = 0, kfd_ = -1, mapFd_ = -1, progFd_ = -1, linkFd_ = -1;
  bool legacyAttached_ = false;
  void* area_ = nullptr;
  size_t areaSize_ = 0;
  xsk_umem* umem_ = nullptr;
  xsk_socket* xsk_ = nullptr;
  xsk_ring_prod fq_{};
  xsk_ring_cons cq_{}, rx_{};
};

}  // namespace

std::unique_ptr<Receiver> OpenXdp(const RxOptions& o, uint8_t* ring, const sockaddr_in& requestTo, bool haveRequest) {
  auto x = std::make_unique<XdpRx>(o, ring);
  x->requestTo = requestTo;
  x->haveRequest = haveRequest;
  x->Open();
  return x;
}

std::string XdpAvailable() {
  int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket(AF_XDP)", errno) + " (needs a kernel with CONFIG_XDP_SOCKETS and CAP_NET_RAW)";
  close(fd);
  bpf_insn pass[2] = {MovImm(0, XDP_PASS), Exit()};
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  int p = bpf_prog_load(BPF_PROG_TYPE_XDP, "tradsys_probe", "GPL", pass, 2, &opts);
  if (p < 0) return Errno("loading an XDP program (bpf_prog_load)", errno) + " (needs CAP_BPF/CAP_NET_ADMIN, i.e. root)";
  close(p);
  return "";
}

}  // namespace feed
#endif  // TRADSYS_HAVE_XDP
