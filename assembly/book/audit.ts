/**
 * The deep structural check (tests only): everything `engineValidate` checks, plus the
 * structures that engineValidate takes on trust because checking them costs O(capacity) — the
 * two pools (counters, free lists, never-used nodes still zero), both hash tables (every entry
 * live and reachable from its home slot, one entry per live node) and every treap (links,
 * heap order, in-order prices).
 *
 * Owns: nothing (read-only).
 * Layout: see book/nodes.ts, book/hash.ts, book/treap.ts, mem/pool.ts.
 * Invariants checked, with their codes (engineValidate's 1..20 come first):
 * ```
 * 31..33 order pool (mem/pool.ts poolCheck: counters / free list / a never-used node not zero)
 * 35..37 level pool (same)
 * 40 an order index entry is not a live order reachable from its home slot, or its tag is not
 *    hashKey(id) and the node's O_TAG · 41 entry count
 * 42 a level index entry is not a live treap level (outside the ladder) reachable from its home
 *    slot under its tag · 43 table entries + ladder levels ≠ levels in use
 * 50 a ladder bit whose slot is not a live ladder level of that side at that tick · 51 a ladder's
 *    summary word ≠ its non-zero words
 * 44 treap root has a parent · 45 child's parent link · 46 heap order · 47 in-order prices
 * 48 a treap node is a ladder level or of another book side · 49 treap size ≠ levels outside the ladder
 * ```
 * Complexity: O(capacity + hash table size): reads every node and slot (fresh, untouched pages
 * read as the OS's shared zero page and stay unallocated). Allocation: none.
 * Known limitations: only when idle (no batch in progress), like engineValidate.
 */
import { poolCheck, poolBump, poolInUse } from '../mem/pool';
import { nSym, orderPool, levelPool, oAddr, lAddr, bAddr, O_ID, O_TAG, L_PRICE, L_SYM, L_SIDE, L_LADDER, L_LEFT, L_RIGHT, L_PRIO, L_PARENT, B_ROOT, B_LEVELS } from './nodes';
import { hmask, hashKey, levelHash, slotAddr } from './hash';
import { htab, indexFind } from './id-index';
import { ltab, levelFind } from './level-index';
import { ldAddr, ldWidth, ldPos, ldSlot, LD_WORDS, LD_SUM } from './ladder';
import { engineValidate } from './query';

/** 0 when every invariant holds, else the code of the first violation (see the header). */
export function engineValidateDeep(): i32 {
  const r = engineValidate();
  if (r != 0) return r;
  let c = poolCheck(orderPool);
  if (c != 0) return 30 + c;
  c = poolCheck(levelPool);
  if (c != 0) return 34 + c;
  const slots = <usize>hmask + 1;
  const oBump = poolBump(orderPool);
  const lBump = poolBump(levelPool);
  let nOrd: u32 = 0;
  let nLev: u32 = 0;
  for (let i: usize = 0; i < slots; i++) {
    // 8-byte slots (book/hash.ts): node index (low u32, 0 = empty) and its tag (high u32)
    const oe = load<u64>(slotAddr(htab, <u32>i));
    const o = <u32>oe;
    if (o != 0) {
      nOrd++;
      if (o > oBump) return 40;
      const id = load<u64>(oAddr(o), O_ID);
      const tag = <u32>(oe >> 32);
      if (tag != hashKey(id) || load<u32>(oAddr(o), O_TAG) != tag || indexFind(id) != o) return 40;
    }
    const le = load<u64>(slotAddr(ltab, <u32>i));
    const lv = <u32>le;
    if (lv != 0) {
      nLev++;
      if (lv > lBump) return 42;
      const a = lAddr(lv);
      const sym = load<u32>(a, L_SYM), side = load<u32>(a, L_SIDE), price = load<i64>(a, L_PRICE);
      // only levels outside the ladder window (in the treap) are in the table
      if (load<u32>(a, L_LADDER) != 0 || <u32>(le >> 32) != levelHash(sym, side, price) || levelFind(sym, side, price) != lv) return 42;
    }
  }
  // levels in the ladder windows: every set bit's slot holds a live level of that side and price
  let nLadder: u32 = 0;
  const words = <u32>ldWidth >> 6;
  for (let s: u32 = 0; s < nSym; s++) {
    for (let side: u32 = 0; side < 2; side++) {
      const ld = ldAddr(s, side);
      let summary: u64 = 0;
      for (let w: u32 = 0; w < words; w++) {
        let bits = load<u64>(ld + LD_WORDS + (<usize>w << 3));
        if (bits != 0) summary |= <u64>1 << <u64>w;
        while (bits != 0) {
          const pos = <i32>((w << 6) + <u32>ctz(bits));
          bits &= bits - 1;
          const lv = load<u32>(ldSlot(ld, pos));
          if (lv == 0 || lv > lBump) return 50;
          const a = lAddr(lv);
          if (load<u32>(a, L_LADDER) == 0 || load<u32>(a, L_SYM) != s || load<u32>(a, L_SIDE) != side || ldPos(ld, load<i64>(a, L_PRICE)) != pos) return 50;
          nLadder++;
        }
      }
      if (summary != load<u64>(ld, LD_SUM)) return 51;
    }
  }
  if (nOrd != poolInUse(orderPool)) return 41;
  if (nLev + nLadder != poolInUse(levelPool)) return 43;
  for (let s: u32 = 0; s < nSym; s++) {
    for (let side: u32 = 0; side < 2; side++) {
      const t = treapCheck(s, side, lBump);
      if (t != 0) return t;
    }
  }
  return 0;
}

@inline function leftmost(n: u32): u32 {
  let l = load<u32>(lAddr(n), L_LEFT);
  while (l != 0) { n = l; l = load<u32>(lAddr(n), L_LEFT); }
  return n;
}

/** Walks one side's treap in order through its parent links (no recursion). */
function treapCheck(s: u32, side: u32, lBump: u32): i32 {
  const b = bAddr(s);
  const root = load<u32>(b + (<usize>side << 2), B_ROOT);
  let inTreap: u32 = 0;
  if (root != 0) {
    if (load<u32>(lAddr(root), L_PARENT) != 0) return 44;
    let cur = leftmost(root);
    let last: i64 = 0;
    while (cur != 0) {
      if (++inTreap > lBump) return 45; // more nodes than ever handed out: a cycle
      const a = lAddr(cur);
      if (load<u32>(a, L_LADDER) != 0 || load<u32>(a, L_SYM) != s || load<u32>(a, L_SIDE) != side) return 48;
      const price = load<i64>(a, L_PRICE);
      if (inTreap > 1 && price <= last) return 47;
      last = price;
      const prio = load<u32>(a, L_PRIO);
      const l = load<u32>(a, L_LEFT);
      const rt = load<u32>(a, L_RIGHT);
      if (l != 0 && (load<u32>(lAddr(l), L_PARENT) != cur)) return 45;
      if (rt != 0 && (load<u32>(lAddr(rt), L_PARENT) != cur)) return 45;
      if ((l != 0 && load<u32>(lAddr(l), L_PRIO) > prio) || (rt != 0 && load<u32>(lAddr(rt), L_PRIO) > prio)) return 46;
      if (rt != 0) cur = leftmost(rt);
      else {
        // up while we come from the right
        let p = load<u32>(a, L_PARENT);
        let c = cur;
        let up: u32 = 0;
        while (p != 0 && load<u32>(lAddr(p), L_RIGHT) == c) {
          if (++up > lBump) return 45; // a cycle of parent links
          c = p; p = load<u32>(lAddr(p), L_PARENT);
        }
        cur = p;
      }
    }
  }
  // levels of this side outside the ladder = bits not set in it
  const ld = ldAddr(s, side);
  let bits: u32 = 0;
  const words = <u32>ldWidth >> 6;
  for (let w: u32 = 0; w < words; w++) bits += <u32>popcnt(load<u64>(ld + LD_WORDS + (<usize>w << 3)));
  if (inTreap != load<u32>(b + (<usize>side << 2), B_LEVELS) - bits) return 49;
  return 0;
}
