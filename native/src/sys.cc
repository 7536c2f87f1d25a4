// sys feature of the native addon: NUMA topology, CPU placement of the calling thread, memory
// policy of an (Shared)ArrayBuffer's pages, and clock reads that do not allocate.
//
// Exports (all synchronous, no JS callbacks; a failing system call throws a JS Error naming the
// call and errno's text, with `errno` set — addon.cc ThrowErrno):
//   sysTopology()                      → { source, online: number[], nodes: [{ id, cpus, distances }],
//                                          siblings: number[][] (per online CPU, its SMT siblings) }
//   sysThreadId()                      → the calling thread's kernel id (gettid)
//   sysSetAffinity(cpus: number[])     → the calling thread's affinity read back (sched_getaffinity)
//   sysGetAffinity(tid = 0)            → a thread's affinity (0: the calling thread)
//   sysBindMemory(buf, node, mode, move) → mbind(2) on the buffer's whole pages:
//                                          { address, offset, bytes } (the page-aligned range bound)
//   sysGetMempolicy(buf, offset)       → { mode, nodes, node } for the page at buf+offset
//                                          (MPOL_F_ADDR; node: where that page lives by move_pages,
//                                          -1 when it is not faulted in; nothing is touched)
//   sysSetMempolicy(mode, node)        → set_mempolicy(2) for the calling thread ('default' resets)
//   sysBufferAddress(buf)              → the buffer's data address (for /proc/<pid>/numa_maps)
//   sysClockInto(BigInt64Array, i)     → [i] = CLOCK_MONOTONIC ns, [i+1] = CLOCK_REALTIME ns
//
// Layout: mbind/get_mempolicy/set_mempolicy go through syscall(2), so the memory calls work with
// or without libnuma; with libnuma (TRADSYS_HAVE_NUMA: numa.h at build, libnuma.so.1 opened at run time) the topology's node CPU lists and
// distances come from libnuma (numa_node_to_cpus, numa_distance) and the rest from sysfs, so the
// TypeScript sysfs reader (src/sys/topology.ts) is checked against an independent source.
// Invariants: affinity and policy calls act on the CALLING thread only (tid 0 / the thread's
// own policy), so a worker_thread places itself; buffers are bound on whole pages inside them
// (the start rounded up, the end down), never on a neighbour's memory.
// Complexity: topology O(CPUs + nodes²) file reads; the rest O(1) system calls.
// Allocation: the answers' JS objects; sysClockInto allocates nothing on the JS heap.
// Known limitations: Linux only; at most CPU_SETSIZE (1024) CPUs and 1024 nodes.
#include "addon.h"
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sched.h>
#include <sstream>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>
#include <dlfcn.h>
#if TRADSYS_HAVE_NUMA
#include <numa.h>
#endif

namespace {

#if TRADSYS_HAVE_NUMA
// libnuma is opened at run time (Debian's libnuma.a is not position-independent, so it cannot be
// linked into a shared object): the addon has no load-time dependency on it, and without
// libnuma.so.1 the topology comes from sysfs alone (and the feature's detail says so).
struct Libnuma {
  bool ok = false;
  std::string why;
  int (*available)() = nullptr;
  int (*distance)(int, int) = nullptr;
  int (*nodeToCpus)(int, struct bitmask*) = nullptr;
  struct bitmask* (*allocCpumask)() = nullptr;
  void (*freeCpumask)(struct bitmask*) = nullptr;
  int (*isBitSet)(const struct bitmask*, unsigned int) = nullptr;
};

const Libnuma& Numa() {
  static Libnuma l = [] {
    Libnuma x;
    void* h = dlopen("libnuma.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) { x.why = std::string("dlopen libnuma.so.1: ") + dlerror(); return x; }
    x.available = reinterpret_cast<int (*)()>(dlsym(h, "numa_available"));
    x.distance = reinterpret_cast<int (*)(int, int)>(dlsym(h, "numa_distance"));
    x.nodeToCpus = reinterpret_cast<int (*)(int, struct bitmask*)>(dlsym(h, "numa_node_to_cpus"));
    x.allocCpumask = reinterpret_cast<struct bitmask* (*)()>(dlsym(h, "numa_allocate_cpumask"));
    x.freeCpumask = reinterpret_cast<void (*)(struct bitmask*)>(dlsym(h, "numa_bitmask_free"));
    x.isBitSet = reinterpret_cast<int (*)(const struct bitmask*, unsigned int)>(dlsym(h, "numa_bitmask_isbitset"));
    if (!x.available || !x.distance || !x.nodeToCpus || !x.allocCpumask || !x.freeCpumask || !x.isBitSet) { x.why = "libnuma.so.1 lacks a needed symbol"; return x; }
    if (x.available() < 0) { x.why = "numa_available() < 0: the kernel has no NUMA support"; return x; }
    x.ok = true;
    return x;
  }();
  return l;
}
#endif

// <linux/mempolicy.h> values (stable kernel ABI), so no libnuma header is needed for them.
constexpr int kMpolDefault = 0, kMpolPreferred = 1, kMpolBind = 2, kMpolInterleave = 3, kMpolLocal = 4, kMpolPreferredMany = 5, kMpolWeightedInterleave = 6;
constexpr unsigned kMpolFAddr = 1u << 1;
constexpr unsigned kMpolMfMove = 1u << 1;
constexpr unsigned long kMaxNodes = 1024;
constexpr int kMaskWords = kMaxNodes / (8 * sizeof(unsigned long));

const char* ModeName(int m) {
  switch (m & 0xffff) {  // the high bits are mode flags (MPOL_F_STATIC_NODES, …)
    case kMpolDefault: return "default";
    case kMpolPreferred: return "preferred";
    case kMpolBind: return "bind";
    case kMpolInterleave: return "interleave";
    case kMpolLocal: return "local";
    case kMpolPreferredMany: return "preferred_many";
    case kMpolWeightedInterleave: return "weighted_interleave";
    default: return "unknown";
  }
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
  return true;
}

// "0-3,8,10-11" → {0,1,2,3,8,10,11}; throws on anything else (the kernel's list format).
std::vector<int> ParseList(Napi::Env env, const std::string& s, const std::string& what) {
  std::vector<int> v;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string part = s.substr(i, j - i);
    if (!part.empty()) {
      size_t dash = part.find('-');
      char* end = nullptr;
      long a = std::strtol(part.c_str(), &end, 10);
      long b = a;
      if (dash != std::string::npos) b = std::strtol(part.c_str() + dash + 1, &end, 10);
      if (*end != '\0' || a < 0 || b < a || b >= 65536) throw Napi::Error::New(env, "cannot parse " + what + ": \"" + s + "\"");
      for (long k = a; k <= b; k++) v.push_back(static_cast<int>(k));
    }
    i = j + 1;
  }
  return v;
}

Napi::Array ToArray(Napi::Env env, const std::vector<int>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, v[i]));
  return a;
}

std::vector<int> ReadAffinity(Napi::Env env, pid_t tid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(tid, sizeof(set), &set) != 0) ThrowErrno(env, "sched_getaffinity", errno);
  std::vector<int> v;
  for (int c = 0; c < CPU_SETSIZE; c++) if (CPU_ISSET(c, &set)) v.push_back(c);
  return v;
}

Napi::Value Topology(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string sys = "/sys/devices/system/";
  std::string text;
  if (!ReadFile(sys + "cpu/online", &text)) throw Napi::Error::New(env, "cannot read " + sys + "cpu/online");
  std::vector<int> online = ParseList(env, text, "cpu/online");
  std::vector<int> nodeIds;
  bool haveNodeDir = ReadFile(sys + "node/online", &text);
  if (haveNodeDir) nodeIds = ParseList(env, text, "node/online");
  const char* source = "sysfs";
  Napi::Array nodes = Napi::Array::New(env);
#if TRADSYS_HAVE_NUMA
  bool useLib = Numa().ok;
#else
  bool useLib = false;
#endif
  if (!haveNodeDir) {
    // a kernel without CONFIG_NUMA: one node holding every online CPU, distance 10 to itself
    Napi::Object n = Napi::Object::New(env);
    n.Set("id", 0);
    n.Set("cpus", ToArray(env, online));
    n.Set("distances", ToArray(env, {10}));
    nodes.Set(0u, n);
    useLib = false;
  } else {
#if TRADSYS_HAVE_NUMA
    if (useLib) source = "libnuma+sysfs";
#endif
    for (size_t k = 0; k < nodeIds.size(); k++) {
      int id = nodeIds[k];
      std::vector<int> cpus, dist;
#if TRADSYS_HAVE_NUMA
      if (useLib) {
        const Libnuma& L = Numa();
        struct bitmask* bm = L.allocCpumask();
        if (L.nodeToCpus(id, bm) != 0) { int e = errno; L.freeCpumask(bm); ThrowErrno(env, "numa_node_to_cpus", e); }
        for (unsigned c = 0; c < bm->size; c++) if (L.isBitSet(bm, c)) cpus.push_back(static_cast<int>(c));
        L.freeCpumask(bm);
        for (int other : nodeIds) dist.push_back(L.distance(id, other));
      }
#endif
      if (!useLib) {
        std::string p = sys + "node/node" + std::to_string(id) + "/";
        if (!ReadFile(p + "cpulist", &text)) throw Napi::Error::New(env, "cannot read " + p + "cpulist");
        cpus = ParseList(env, text, "node cpulist");
        if (!ReadFile(p + "distance", &text)) throw Napi::Error::New(env, "cannot read " + p + "distance");
        std::istringstream ds(text);
        int d;
        std::vector<int> all;
        while (ds >> d) all.push_back(d);
        // the file lists the distance to every online node, in node order
        for (size_t q = 0; q < nodeIds.size(); q++) dist.push_back(q < all.size() ? all[q] : -1);
      }
      // only online CPUs (libnuma's mask may include offline ones on some kernels)
      std::vector<int> on;
      for (int c : cpus) for (int o : online) if (o == c) { on.push_back(c); break; }
      Napi::Object n = Napi::Object::New(env);
      n.Set("id", id);
      n.Set("cpus", ToArray(env, on));
      n.Set("distances", ToArray(env, dist));
      nodes.Set(static_cast<uint32_t>(k), n);
    }
  }
  Napi::Array siblings = Napi::Array::New(env, online.size());
  for (size_t i = 0; i < online.size(); i++) {
    std::string p = sys + "cpu/cpu" + std::to_string(online[i]) + "/topology/thread_siblings_list";
    std::vector<int> sib = {online[i]};
    if (ReadFile(p, &text)) sib = ParseList(env, text, "thread_siblings_list");
    siblings.Set(static_cast<uint32_t>(i), ToArray(env, sib));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("source", source);
  out.Set("online", ToArray(env, online));
  out.Set("nodes", nodes);
  out.Set("siblings", siblings);
  return out;
}

Napi::Value ThreadId(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(syscall(SYS_gettid)));
}

Napi::Value SetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "sysSetAffinity(cpus: number[])");
  Napi::Array a = info[0].As<Napi::Array>();
  if (a.Length() == 0) throw Napi::RangeError::New(env, "sysSetAffinity: an empty CPU list");
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    if (!v.IsNumber()) throw Napi::TypeError::New(env, "sysSetAffinity: CPUs must be numbers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (d < 0 || d >= CPU_SETSIZE || d != static_cast<int>(d)) throw Napi::RangeError::New(env, "sysSetAffinity: CPU " + std::to_string(d) + " out of range");
    CPU_SET(static_cast<int>(d), &set);
  }
  // pid 0 = the calling thread (sched_setaffinity acts on a thread id, not the process)
  if (sched_setaffinity(0, sizeof(set), &set) != 0) ThrowErrno(env, "sched_setaffinity", errno);
  return ToArray(env, ReadAffinity(env, 0));
}

Napi::Value GetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t tid = info.Length() > 0 && info[0].IsNumber() ? static_cast<pid_t>(info[0].As<Napi::Number>().Int32Value()) : 0;
  return ToArray(env, ReadAffinity(env, tid));
}

struct Span { uint8_t* data; size_t len; };

// A typed array's bytes, over an ArrayBuffer or a SharedArrayBuffer (napi_get_typedarray_info's
// data pointer already includes the view's offset; ArrayBuffer::Data() refuses a shared buffer).
Span TypedSpan(Napi::Env env, napi_value v) {
  napi_typedarray_type type;
  size_t n = 0, off = 0;
  void* data = nullptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &n, &data, &ab, &off) != napi_ok) throw Napi::TypeError::New(env, "expected a typed array");
  size_t width = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: width = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: width = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: width = 8; break;
    default: break;
  }
  return {static_cast<uint8_t*>(data), n * width};
}

Span BufferSpan(Napi::Env env, Napi::Value v) {
  if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer b = v.As<Napi::ArrayBuffer>();
    return {static_cast<uint8_t*>(b.Data()), b.ByteLength()};
  }
  if (v.IsTypedArray()) return TypedSpan(env, v);
  // a SharedArrayBuffer: N-API (Node 20) has no accessor for it, so view it through a Uint8Array
  // (napi_get_typedarray_info reads the backing store of either kind)
  Napi::Value sab = env.Global().Get("SharedArrayBuffer");
  if (v.IsObject() && sab.IsFunction() && v.As<Napi::Object>().InstanceOf(sab.As<Napi::Function>())) {
    Napi::Function u8 = env.Global().Get("Uint8Array").As<Napi::Function>();
    return TypedSpan(env, u8.New({v}));
  }
  throw Napi::TypeError::New(env, "expected an ArrayBuffer, a SharedArrayBuffer or a typed array");
}

int ModeOf(Napi::Env env, const std::string& s) {
  if (s == "bind") return kMpolBind;
  if (s == "preferred") return kMpolPreferred;
  if (s == "interleave") return kMpolInterleave;
  if (s == "default") return kMpolDefault;
  if (s == "local") return kMpolLocal;
  throw Napi::RangeError::New(env, "unknown memory policy \"" + s + "\" (bind, preferred, interleave, local, default)");
}

Napi::Value BindMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsString()) throw Napi::TypeError::New(env, "sysBindMemory(buffer, node: number, mode: 'bind'|'preferred'|'interleave'|'local'|'default', move?: boolean)");
  Span s = BufferSpan(env, info[0]);
  int node = info[1].As<Napi::Number>().Int32Value();
  int mode = ModeOf(env, info[2].As<Napi::String>().Utf8Value());
  bool move = info.Length() > 3 && info[3].ToBoolean().Value();
  if ((mode == kMpolBind || mode == kMpolPreferred || mode == kMpolInterleave) && (node < 0 || static_cast<unsigned long>(node) >= kMaxNodes)) throw Napi::RangeError::New(env, "sysBindMemory: node " + std::to_string(node) + " out of range");
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t a = reinterpret_cast<uintptr_t>(s.data);
  uintptr_t start = (a + page - 1) & ~(page - 1);
  uintptr_t end = (a + s.len) & ~(page - 1);
  Napi::Object out = Napi::Object::New(env);
  out.Set("address", Napi::Number::New(env, static_cast<double>(start)));
  out.Set("offset", Napi::Number::New(env, static_cast<double>(start - a)));
  if (end <= start) { out.Set("bytes", 0); return out; }
  unsigned long mask[kMaskWords] = {0};
  unsigned long maxnode = 0;
  if (mode == kMpolBind || mode == kMpolPreferred || mode == kMpolInterleave) {
    mask[node / (8 * sizeof(unsigned long))] |= 1ul << (node % (8 * sizeof(unsigned long)));
    maxnode = kMaxNodes + 1;  // the kernel reads maxnode-1 bits
  }
  // MOVE without STRICT: pages that cannot move (the shared zero page of a read-only fault) do
  // not fail the call; the read-back (get_mempolicy, numa_maps) says what the range holds
  unsigned flags = move ? kMpolMfMove : 0;
  if (syscall(SYS_mbind, start, end - start, mode, maxnode ? mask : nullptr, maxnode, flags) != 0) ThrowErrno(env, "mbind", errno);
  out.Set("bytes", Napi::Number::New(env, static_cast<double>(end - start)));
  return out;
}

Napi::Value GetMempolicy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  unsigned long mask[kMaskWords] = {0};
  int mode = 0;
  if (info.Length() == 0 || info[0].IsUndefined() || info[0].IsNull()) {
    // the calling thread's own policy
    if (syscall(SYS_get_mempolicy, &mode, mask, kMaxNodes, nullptr, 0) != 0) ThrowErrno(env, "get_mempolicy", errno);
  } else {
    Span s = BufferSpan(env, info[0]);
    double off = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0;
    if (off < 0 || off >= static_cast<double>(s.len)) throw Napi::RangeError::New(env, "sysGetMempolicy: offset outside the buffer");
    void* addr = s.data + static_cast<size_t>(off);
    if (syscall(SYS_get_mempolicy, &mode, mask, kMaxNodes, addr, kMpolFAddr) != 0) ThrowErrno(env, "get_mempolicy(MPOL_F_ADDR)", errno);
    // the node holding the page, without faulting it in: move_pages with no target nodes only
    // reports where each page is (-ENOENT = not faulted in yet, reported as -1)
    void* pages[1] = {reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(addr) & ~(static_cast<uintptr_t>(sysconf(_SC_PAGESIZE)) - 1))};
    int status[1] = {-1};
    int where = -1;
    if (syscall(SYS_move_pages, 0, 1, pages, nullptr, status, 0) == 0 && status[0] >= 0) where = status[0];
    out.Set("node", where);
  }
  std::vector<int> nodes;
  for (unsigned n = 0; n < kMaxNodes; n++) if (mask[n / (8 * sizeof(unsigned long))] & (1ul << (n % (8 * sizeof(unsigned long))))) nodes.push_back(static_cast<int>(n));
  out.Set("mode", ModeName(mode));
  out.Set("nodes", ToArray(env, nodes));
  return out;
}

Napi::Value SetMempolicy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "sysSetMempolicy(mode, node?)");
  int mode = ModeOf(env, info[0].As<Napi::String>().Utf8Value());
  unsigned long mask[kMaskWords] = {0};
  unsigned long maxnode = 0;
  if (mode == kMpolBind || mode == kMpolPreferred || mode == kMpolInterleave) {
    int node = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : -1;
    if (node < 0 || static_cast<unsigned long>(node) >= kMaxNodes) throw Napi::RangeError::New(env, "sysSetMempolicy: node out of range");
    mask[node / (8 * sizeof(unsigned long))] |= 1ul << (node % (8 * sizeof(unsigned long)));
    maxnode = kMaxNodes + 1;
  }
  if (syscall(SYS_set_mempolicy, mode, maxnode ? mask : nullptr, maxnode) != 0) ThrowErrno(env, "set_mempolicy", errno);
  return env.Undefined();
}

Napi::Value BufferAddress(const Napi::CallbackInfo& info) {
  Span s = BufferSpan(info.Env(), info[0]);
  return Napi::Number::New(info.Env(), static_cast<double>(reinterpret_cast<uintptr_t>(s.data)));
}

// [i] = CLOCK_MONOTONIC, [i+1] = CLOCK_REALTIME, both in ns; no JS object is created.
Napi::Value ClockInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "sysClockInto(BigInt64Array, index)");
  Napi::TypedArray t = info[0].As<Napi::TypedArray>();
  if (t.TypedArrayType() != napi_bigint64_array) throw Napi::TypeError::New(env, "sysClockInto: a BigInt64Array is needed");
  uint32_t i = info.Length() > 1 ? info[1].As<Napi::Number>().Uint32Value() : 0;
  if (static_cast<size_t>(i) + 2 > t.ElementLength()) throw Napi::RangeError::New(env, "sysClockInto: index + 2 past the array's end");
  int64_t* p = reinterpret_cast<int64_t*>(TypedSpan(env, t).data);
  timespec m, r;
  clock_gettime(CLOCK_MONOTONIC, &m);
  clock_gettime(CLOCK_REALTIME, &r);
  p[i] = static_cast<int64_t>(m.tv_sec) * 1000000000 + m.tv_nsec;
  p[i + 1] = static_cast<int64_t>(r.tv_sec) * 1000000000 + r.tv_nsec;
  return env.Undefined();
}

}  // namespace

void InitSys(Napi::Env env, Napi::Object exports, Napi::Object features) {
  exports.Set("sysTopology", Napi::Function::New(env, Topology, "sysTopology"));
  exports.Set("sysThreadId", Napi::Function::New(env, ThreadId, "sysThreadId"));
  exports.Set("sysSetAffinity", Napi::Function::New(env, SetAffinity, "sysSetAffinity"));
  exports.Set("sysGetAffinity", Napi::Function::New(env, GetAffinity, "sysGetAffinity"));
  exports.Set("sysBindMemory", Napi::Function::New(env, BindMemory, "sysBindMemory"));
  exports.Set("sysGetMempolicy", Napi::Function::New(env, GetMempolicy, "sysGetMempolicy"));
  exports.Set("sysSetMempolicy", Napi::Function::New(env, SetMempolicy, "sysSetMempolicy"));
  exports.Set("sysBufferAddress", Napi::Function::New(env, BufferAddress, "sysBufferAddress"));
  exports.Set("sysClockInto", Napi::Function::New(env, ClockInto, "sysClockInto"));
  Napi::Object f = Napi::Object::New(env);
  f.Set("compiled", Napi::Boolean::New(env, true));
#if TRADSYS_HAVE_NUMA
  const Libnuma& L = Numa();
  f.Set("detail", Napi::String::New(env, std::string("affinity (sched_setaffinity), memory policy (mbind, get_mempolicy syscalls), topology from ") + (L.ok ? "libnuma.so.1 (opened at run time) + sysfs" : "sysfs (" + L.why + ")") + ", clock_gettime"));
  f.Set("libnuma", Napi::Boolean::New(env, L.ok));
#else
  f.Set("detail", Napi::String::New(env, "affinity (sched_setaffinity), memory policy (mbind, get_mempolicy syscalls), topology from sysfs (built without libnuma), clock_gettime"));
  f.Set("libnuma", Napi::Boolean::New(env, false));
#endif
  features.Set("sys", f);
}
