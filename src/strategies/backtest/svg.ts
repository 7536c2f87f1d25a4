/**
 * The equity-curve chart of a backtest: a self-contained SVG (no scripts, no external
 * references) written next to the JSON report (`equity.svg`).
 *
 * Layout: 800 × 360 user units; the plot area with a zero line, the net-equity polyline (ticks ×
 * lots) over simulated time, the drawdown shaded under the running peak, y-axis labels at the
 * minimum, zero and maximum, x-axis labels at the first and last sample (UTC), a title line.
 * Invariants: the output is well-formed XML (every text escaped; test/unit/backtest-svg.test.ts
 * parses it); at most `MAX_POINTS` vertices (the curve is reduced to the min and max of each
 * horizontal pixel bucket, so no spike is lost); the same points give the same bytes (fixed
 * decimals). Complexity: O(points). Allocation: the output string.
 * Known limitations: no interactive features; one series.
 */
import type { EquityPoint } from './report.js';

const W = 800;
const H = 360;
const L = 90; // left margin (labels)
const R = 20;
const T = 40;
const B = 40;
export const MAX_POINTS = 2 * (W - L - R);

export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

function fmt(n: number): string { return (Math.round(n * 100) / 100).toFixed(2); }

function label(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(2) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(2) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  return String(Math.round(v * 100) / 100);
}

/** Min/max per pixel column, in time order. */
function reduce(points: readonly EquityPoint[]): EquityPoint[] {
  if (points.length <= MAX_POINTS) return points.slice();
  const cols = MAX_POINTS / 2;
  const t0 = points[0]!.tMs;
  const span = Math.max(1, points[points.length - 1]!.tMs - t0);
  const out: EquityPoint[] = [];
  let col = -1;
  let lo: EquityPoint | null = null;
  let hi: EquityPoint | null = null;
  const flush = (): void => {
    if (!lo || !hi) return;
    if (lo === hi) out.push(lo);
    else if (lo.tMs <= hi.tMs) out.push(lo, hi);
    else out.push(hi, lo);
  };
  for (const p of points) {
    const c = Math.min(cols - 1, Math.floor(((p.tMs - t0) / span) * cols));
    if (c !== col) { flush(); col = c; lo = p; hi = p; continue; }
    if (p.equity < lo!.equity) lo = p;
    if (p.equity > hi!.equity) hi = p;
  }
  flush();
  return out;
}

export function equitySvg(points: readonly EquityPoint[], title: string): string {
  const pts = reduce(points);
  const pw = W - L - R;
  const ph = H - T - B;
  let lo = 0;
  let hi = 0;
  for (const p of pts) { if (p.equity < lo) lo = p.equity; if (p.equity > hi) hi = p.equity; }
  if (hi === lo) { hi = lo + 1; }
  const t0 = pts.length > 0 ? pts[0]!.tMs : 0;
  const t1 = pts.length > 0 ? pts[pts.length - 1]!.tMs : 1;
  const span = Math.max(1, t1 - t0);
  const x = (t: number): number => L + (pts.length === 1 ? pw / 2 : ((t - t0) / span) * pw);
  const y = (e: number): number => T + ((hi - e) / (hi - lo)) * ph;
  const line = pts.map((p) => `${fmt(x(p.tMs))},${fmt(y(p.equity))}`).join(' ');
  // drawdown band: between the running peak and the equity
  let peak = 0;
  const up: string[] = [];
  const down: string[] = [];
  for (const p of pts) {
    if (p.equity > peak) peak = p.equity;
    up.push(`${fmt(x(p.tMs))},${fmt(y(peak))}`);
    down.push(`${fmt(x(p.tMs))},${fmt(y(p.equity))}`);
  }
  const band = pts.length > 1 ? `<polygon fill="#d62728" fill-opacity="0.15" stroke="none" points="${up.join(' ')} ${down.reverse().join(' ')}"/>` : '';
  const iso = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');
  const yl = [hi, 0, lo].filter((v, i, a) => a.indexOf(v) === i);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${L}" y="22" font-size="14">${escapeXml(title)}</text>`,
    `<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#999999"/>`,
    `<line x1="${L}" x2="${L + pw}" y1="${fmt(y(0))}" y2="${fmt(y(0))}" stroke="#666666" stroke-dasharray="4 3"/>`,
    ...yl.map((v) => `<text x="${L - 6}" y="${fmt(y(v) + 4)}" text-anchor="end">${escapeXml(label(v))}</text>`),
    `<text x="${L}" y="${H - 14}">${escapeXml(iso(t0))}</text>`,
    `<text x="${L + pw}" y="${H - 14}" text-anchor="end">${escapeXml(iso(t1))}</text>`,
    `<text x="14" y="${T + ph / 2}" transform="rotate(-90 14 ${T + ph / 2})" text-anchor="middle">net equity (ticks × lots)</text>`,
    band,
    pts.length > 0 ? `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${line}"/>` : `<text x="${L + pw / 2}" y="${T + ph / 2}" text-anchor="middle">no equity samples</text>`,
    '</svg>',
    '',
  ].filter((l) => l !== '').join('\n') + '\n';
}
