/**
 * The statistics instance of the WASM module and its arena.
 *
 * Owns: one module instance per process for statistics (it never calls engineInit), a bump
 * allocator with exact-size free lists over its linear memory, reusable scratch buffers, and the
 * Float64Array view that stats objects read their results from.
 *
 * Layout: blocks and scratch live from `statsHeapBase()` upwards, 16-byte aligned.
 * Invariants: `f64()`/`u32()` always return views over the current `memory.buffer` (memory only
 * grows when a block or a larger scratch buffer is allocated, never during an update).
 * Allocation: blocks on construction; scratch grows to the largest batch seen.
 * Known limitations: blocks freed by dispose() or garbage collection are reused only for blocks
 * of exactly the same size.
 */
import { instantiateStats, type StatsExports } from '../engine/wasm.js';

class Arena {
  readonly ex: StatsExports;
  private top: number;
  private readonly free = new Map<number, number[]>();
  private buf: ArrayBuffer;
  private f64v: Float64Array;
  private u32v: Uint32Array;

  constructor() {
    this.ex = instantiateStats();
    this.top = this.ex.statsHeapBase();
    this.buf = this.ex.memory.buffer;
    this.f64v = new Float64Array(this.buf);
    this.u32v = new Uint32Array(this.buf);
  }

  private refresh(): void {
    if (this.ex.memory.buffer !== this.buf) {
      this.buf = this.ex.memory.buffer;
      this.f64v = new Float64Array(this.buf);
      this.u32v = new Uint32Array(this.buf);
    }
  }

  f64(): Float64Array { if (this.ex.memory.buffer !== this.buf) this.refresh(); return this.f64v; }
  u32(): Uint32Array { if (this.ex.memory.buffer !== this.buf) this.refresh(); return this.u32v; }

  /** A 16-byte aligned block of `bytes` (allocates; may grow memory). */
  alloc(bytes: number): number {
    const size = (bytes + 15) & ~15;
    const list = this.free.get(size);
    if (list && list.length > 0) return list.pop()!;
    const p = this.top;
    const end = p + size;
    const have = this.ex.memory.buffer.byteLength;
    if (end > have) {
      if (end > 0xfff00000) throw new RangeError(`stats arena exhausted (${end} bytes wanted)`);
      this.ex.memory.grow(Math.ceil((end - have) / 65536));
      this.refresh();
    }
    this.top = end;
    return p;
  }

  release(p: number, bytes: number): void {
    const size = (bytes + 15) & ~15;
    let list = this.free.get(size);
    if (!list) { list = []; this.free.set(size, list); }
    list.push(p);
  }
}

let arena: Arena | null = null;
/** The process-wide statistics arena (created on first use). */
export function stats(): Arena {
  if (!arena) arena = new Arena();
  return arena;
}

/** Returns blocks of collected objects to the arena. */
export const blockReaper = new FinalizationRegistry<[number, number]>(([p, bytes]) => stats().release(p, bytes));

/** A growable scratch region; `ensure` returns its address with at least `bytes` available. */
export class Scratch {
  private p = 0;
  private size = 0;
  ensure(bytes: number): number {
    if (bytes > this.size) {
      if (this.size > 0) stats().release(this.p, this.size);
      const size = Math.max(1024, 2 ** Math.ceil(Math.log2(bytes)));
      this.p = stats().alloc(size);
      this.size = size;
    }
    return this.p;
  }
}

/** Copies `xs` into WASM memory at `p` (a byte address, 8-aligned). */
export function put(p: number, xs: Float64Array | readonly number[]): void {
  const f = stats().f64();
  if (xs instanceof Float64Array) f.set(xs, p >>> 3);
  else for (let i = 0; i < xs.length; i++) f[(p >>> 3) + i] = xs[i]!;
}
