/**
 * False-discovery-rate control across many pair tests: Benjamini–Hochberg (1995) step-up
 * adjusted p-values ("q-values" in the sense of R's `p.adjust(method = "BH")`) and the
 * Benjamini–Yekutieli (2001) variant that holds under any dependence between the tests.
 *
 * Method: sort the m p-values ascending, p(1) ≤ … ≤ p(m); the BH adjusted value of p(i) is
 * min over j ≥ i of min(1, c·m·p(j)/j) with c = 1 (BH) or c = Σ_{k=1..m} 1/k (BY). Rejecting
 * every hypothesis whose adjusted value is ≤ q is the step-up procedure at FDR level q: the
 * largest i with p(i) ≤ i·q/(c·m) and every smaller p-value.
 * Layout: pure functions over arrays; results in input order.
 * Invariants: order-preserving (p_i ≤ p_j ⇒ adj_i ≤ adj_j), adj_i ≥ p_i, adj_i ≤ 1; equal p-values
 * get equal adjusted values (the running minimum from the top makes them so).
 * Complexity: O(m log m). Allocation: an index array and the result (screening, not a hot path).
 * Known limitations: NaN p-values are refused; pass 1 for a hypothesis that was not tested (it
 * still counts in m, which keeps the control valid over the whole family).
 */
import { bad } from './input.js';

export type FdrMethod = 'bh' | 'by';

/** Adjusted p-values (input order) by Benjamini–Hochberg (`bh`) or Benjamini–Yekutieli (`by`). */
export function adjustPValues(p: ArrayLike<number>, method: FdrMethod = 'bh'): Float64Array {
  if (method !== 'bh' && method !== 'by') bad(`FDR method must be 'bh' or 'by', got ${String(method)}`);
  const m = p.length;
  for (let i = 0; i < m; i++) {
    const v = p[i]!;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) bad(`p-value ${i} must be in [0, 1], got ${String(v)}`);
  }
  const out = new Float64Array(m);
  if (m === 0) return out;
  let c = 1;
  if (method === 'by') { c = 0; for (let k = 1; k <= m; k++) c += 1 / k; }
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const i = order[r]!;
    running = Math.min(running, (c * m * p[i]!) / (r + 1));
    out[i] = Math.min(1, running);
  }
  return out;
}

/** Which hypotheses the step-up procedure rejects at FDR level q (input order). */
export function fdrReject(p: ArrayLike<number>, q: number, method: FdrMethod = 'bh'): boolean[] {
  if (typeof q !== 'number' || !(q > 0 && q < 1)) bad(`FDR level q must be in (0, 1), got ${String(q)}`);
  const adj = adjustPValues(p, method);
  return Array.from(adj, (a) => a <= q);
}
