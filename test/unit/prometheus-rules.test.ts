/**
 * docs/prometheus/tradsys-rules.yml says the same as the server's default alert rules: one alert
 * per default rule with the same name, severity, `for` and threshold, over the same series (the
 * file is read line by line: its format is fixed, see its header). Its PromQL syntax is checked by
 * `promtool check rules` in test/integration/prometheus.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { DEFAULT_ALERT_RULES } from '../../src/monitoring/alerts.js';

interface PromRule { alert: string; expr: string; for: string | null; severity: string }
function readRules(): PromRule[] {
  const out: PromRule[] = [];
  for (const line of readFileSync(new URL('../../docs/prometheus/tradsys-rules.yml', import.meta.url), 'utf8').split('\n')) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^ {6}- alert: (\S+)$/))) out.push({ alert: m[1]!, expr: '', for: null, severity: '' });
    else if ((m = line.match(/^ {8}expr: (.+)$/))) out[out.length - 1]!.expr = m[1]!;
    else if ((m = line.match(/^ {8}for: (\S+)$/))) out[out.length - 1]!.for = m[1]!;
    else if ((m = line.match(/^ {8}labels: \{ severity: (\w+) \}$/))) out[out.length - 1]!.severity = m[1]!;
  }
  return out;
}
const duration = (ms: number): string | null => (ms === 0 ? null : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

describe('docs/prometheus/tradsys-rules.yml', () => {
  const prom = readRules();
  it('has one alert per default rule, same name, severity and duration, in the same order', () => {
    expect(prom.map((r) => r.alert)).toEqual(DEFAULT_ALERT_RULES.map((r) => r.name));
    for (const [i, r] of DEFAULT_ALERT_RULES.entries()) {
      expect(prom[i]!.severity, r.name).toBe(r.severity);
      expect(prom[i]!.for, r.name).toBe(duration(r.forMs));
    }
  });

  it('compares the same series (labels, rate window) with the same threshold', () => {
    for (const [i, r] of DEFAULT_ALERT_RULES.entries()) {
      const e = prom[i]!.expr;
      if (r.kind === 'latency') {
        expect(e, r.name).toBe(`histogram_quantile(${r.percentile}, sum by (instance, le) (rate(tradsys_latency_seconds_bucket{stage="${r.stage}"}[1m]))) ${r.op} ${r.threshold / 1e6}`);
        continue;
      }
      const sel = r.metric + (r.labels ? `{${Object.entries(r.labels).map(([k, v]) => `${k}="${v}"`).join(',')}}` : '');
      const win = r.rateOverMs ? duration(r.rateOverMs) : null;
      // a rate over 0 is "any increase": Prometheus says it with increase()
      const lhs = !win ? sel : r.threshold === 0 ? `increase(${sel}[${win}])` : `rate(${sel}[${win}])`;
      expect(e, r.name).toBe(`${lhs} ${r.op} ${r.threshold}`);
    }
  });
});
