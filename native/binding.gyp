# node-gyp project for the optional native addon (build/native/tradsys_native.node).
# Built by native/build.mjs at `npm run build` (and so at `npm ci`); a failure never fails the
# install: build.mjs retries with optional features off, then records why in
# build/native/status.json, and src/sys/native.ts falls back to the TypeScript/WASM paths.
# Feature switches are gyp variables probed by probe.mjs; build.mjs may override them
# (`--tradsys_xdp=0`) when a retry is needed. libnuma is not linked: Debian's libnuma.a is not
# position-independent (its TLS relocations cannot go into a shared object), so sys.cc uses numa.h
# for its types and opens libnuma.so.1 at run time; the addon has no load-time dependency on it.
# libxdp/libbpf are linked dynamically for the same reason: Debian's libxdp.a, libbpf.a and libelf.a
# are not position-independent either, so they cannot go into a shared object. The addon then needs
# libxdp.so.1 and libbpf.so.1 (from the same Debian packages that the build needed) at run time;
# build.mjs loads the freshly built addon and, if it does not load, rebuilds it without AF_XDP.
{
  "variables": {
    "tradsys_numa%": "<!(node probe.mjs numa)",
    "tradsys_xdp%": "<!(node probe.mjs xdp)"
  },
  "targets": [
    {
      "target_name": "tradsys_native",
      "sources": ["src/addon.cc", "src/sys.cc", "src/feed.cc", "src/feed-core.cc", "src/gpu.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "include", "src"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-ldl", "-lpthread"],
      "conditions": [
        ["tradsys_numa==1", {
          "defines": ["TRADSYS_HAVE_NUMA=1"]
        }],
        ["tradsys_xdp==1", {
          "defines": ["TRADSYS_HAVE_XDP=1"],
          "sources": ["src/feed-xdp.cc"],
          "libraries": ["-lxdp", "-lbpf", "-lelf", "-lz"]
        }]
      ]
    }
  ]
}
