/**
 * The strategies as the public `GET /metrics` shows them (the `tradsys_strategy_*` series of the
 * strategy service, docs/operations.md "Metrics"): what the Strategies panel draws when no key is
 * entered, so a newcomer sees the strategies' state, position, P&L and breaker without one (the
 * same figures /metrics already gives anyone; the API's account, symbols and `why` need a key).
 *
 * Layout: `parseProm(text, prefix)` reads the samples of the Prometheus text exposition whose
 * names start with `prefix` (label values unescaped); `strategiesFromMetrics(text)` folds them
 * into one summary per `strategy` label, in order of first appearance.
 * Invariants: the current state and breaker state are the label whose sample is 1; a strategy
 * without a state sample is left out; numbers are the samples' values as written.
 * Complexity: O(text). Allocation: the lines and one summary per strategy.
 * Known limitations: no account, symbols or `why` (not in /metrics); ids are the label's text.
 */

export interface Sample { name: string; labels: Record<string, string>; value: number }

/** The samples whose metric name starts with `prefix` (comments and other names skipped). */
export function parseProm(text: string, prefix: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const brace = line.indexOf('{');
    const sp = brace < 0 ? line.indexOf(' ') : line.indexOf('} ', brace) + 1;
    if (sp <= 0) continue;
    const name = brace < 0 ? line.slice(0, sp) : line.slice(0, brace);
    const labels: Record<string, string> = {};
    if (brace >= 0) {
      const s = line.slice(brace + 1, sp - 1);
      let i = 0;
      while (i < s.length) {
        const eq = s.indexOf('="', i);
        if (eq < 0) break;
        const key = s.slice(i, eq);
        let j = eq + 2;
        let v = '';
        while (j < s.length && s[j] !== '"') {
          if (s[j] === '\\' && j + 1 < s.length) { const c = s[j + 1]!; v += c === 'n' ? '\n' : c; j += 2; } else v += s[j++];
        }
        labels[key] = v;
        i = j + 2; // past `",`
      }
    }
    const value = Number(line.slice(sp + 1).trim().split(' ')[0]);
    if (!Number.isNaN(value)) out.push({ name, labels, value });
  }
  return out;
}

export interface StrategySummary {
  id: string; kind: string; state: string; position: Record<string, number>; realisedPnl: number; unrealisedPnl: number;
  breaker: { state: string; trips: number }; orders: number; fills: number; rejects: number;
  decisionUs: { p50: number; p99: number }; eventsPerSec: number; overruns: number; errors: number;
}

/** One summary per strategy of the `tradsys_strategy_*` series. */
export function strategiesFromMetrics(text: string): StrategySummary[] {
  const by = new Map<string, StrategySummary>();
  const get = (l: Record<string, string>): StrategySummary | null => {
    const id = l.strategy;
    if (id === undefined) return null;
    let s = by.get(id);
    if (!s) {
      s = { id, kind: l.kind ?? '', state: '', position: {}, realisedPnl: 0, unrealisedPnl: 0, breaker: { state: '', trips: 0 }, orders: 0, fills: 0, rejects: 0, decisionUs: { p50: 0, p99: 0 }, eventsPerSec: 0, overruns: 0, errors: 0 };
      by.set(id, s);
    }
    return s;
  };
  for (const { name, labels, value } of parseProm(text, 'tradsys_strategy_')) {
    const s = get(labels);
    if (!s) continue;
    switch (name) {
      case 'tradsys_strategy_state': if (value === 1) s.state = labels.state ?? ''; break;
      case 'tradsys_strategy_breaker_state': if (value === 1) s.breaker.state = labels.state ?? ''; break;
      case 'tradsys_strategy_breaker_trips_total': s.breaker.trips = value; break;
      case 'tradsys_strategy_position_lots': if (labels.symbol !== undefined) s.position[labels.symbol] = value; break;
      case 'tradsys_strategy_realised_pnl_ticks': s.realisedPnl = value; break;
      case 'tradsys_strategy_unrealised_pnl_ticks': s.unrealisedPnl = value; break;
      case 'tradsys_strategy_orders_total': s.orders = value; break;
      case 'tradsys_strategy_fills_total': s.fills = value; break;
      case 'tradsys_strategy_rejects_total': s.rejects = value; break;
      case 'tradsys_strategy_events_per_second': s.eventsPerSec = value; break;
      case 'tradsys_strategy_overruns_total': s.overruns = value; break;
      case 'tradsys_strategy_errors_total': s.errors = value; break;
      case 'tradsys_strategy_decision_latency_us': if (labels.quantile === '0.5') s.decisionUs.p50 = value; else if (labels.quantile === '0.99') s.decisionUs.p99 = value; break;
      default: break;
    }
  }
  return [...by.values()].filter((s) => s.state !== '');
}
