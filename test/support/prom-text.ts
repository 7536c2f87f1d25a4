/**
 * Reading values back out of the Prometheus text exposition format (what GET /metrics answers),
 * for the tests' checks of a scrape (the server reads its own values with Metrics.read).
 *
 * Layout: `sampleValue(text, name, labels)` sums the samples named exactly `name` whose labels
 * include `labels`.
 * Invariants: comments (# HELP, # TYPE) and other names (a histogram's _bucket/_sum/_count) are
 * skipped; label values are unescaped (\\, \", \n) before comparison.
 * Complexity: O(text). Allocation: the split lines and each matching sample's label map.
 * Known limitations: timestamps after the value are ignored; no exemplars (OpenMetrics).
 */

/** Labels of one sample line `{a="x",b="y"}` (the part inside the braces). */
export function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    while (s[i] === ',' || s[i] === ' ') i++;
    const eq = s.indexOf('=', i);
    if (eq < 0) break;
    const name = s.slice(i, eq).trim();
    i = eq + 1;
    if (s[i] !== '"') break;
    i++;
    let v = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) { const c = s[i + 1]!; v += c === 'n' ? '\n' : c; i += 2; } else { v += s[i]; i++; }
    }
    i++;
    out[name] = v;
  }
  return out;
}

/** The sum of the samples named `name` whose labels include `labels`; undefined when none matches. */
export function sampleValue(text: string, name: string, labels?: Record<string, string>): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (line.length === 0 || line[0] === '#' || !line.startsWith(name)) continue;
    const c = line.charCodeAt(name.length);
    let labelText = '';
    let rest: string;
    if (c === 123 /* { */) {
      const close = line.lastIndexOf('}');
      if (close < 0) continue;
      labelText = line.slice(name.length + 1, close);
      rest = line.slice(close + 1);
    } else if (c === 32 /* space */) {
      rest = line.slice(name.length);
    } else continue;
    if (labels) {
      const got = parseLabels(labelText);
      let ok = true;
      for (const k in labels) if (got[k] !== labels[k]) { ok = false; break; }
      if (!ok) continue;
    }
    const v = Number(rest.trim().split(' ')[0]);
    if (Number.isNaN(v)) continue;
    sum = (sum ?? 0) + v;
  }
  return sum;
}
