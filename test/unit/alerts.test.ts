/**
 * The alert engine's state machine with an injected clock and fake readers (the two functions it
 * is given: Metrics.read and LatencyMonitor.percentile), rate rules, the bounded history, the rules
 * file's validation (errors name the rule and the field), and reading values back from the
 * Prometheus text format.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertEngine, DEFAULT_ALERT_RULES, LATENCY_STAGES, loadAlertsFile, parseAlertsConfig, type AlertEvent, type AlertRule } from '../../src/monitoring/alerts.js';
import { sampleValue } from '../support/prom-text.js';
import { TradsysError } from '../../src/domain/errors.js';

function world(rules: AlertRule[], opts: { historySize?: number } = {}) {
  let t = 1_000_000;
  const values = new Map<string, number | undefined>();
  const lat = new Map<string, number | null>();
  const events: AlertEvent[] = [];
  const e = new AlertEngine({
    rules, now: () => t, historySize: opts.historySize,
    readMetric: async (m, labels) => values.get(m + JSON.stringify(labels ?? {})),
    readLatency: (stage, q, w) => lat.get(`${stage}/${q}/${w}`) ?? null,
  });
  e.on((ev) => events.push(ev));
  return {
    e, events,
    set: (m: string, v: number | undefined, labels: Record<string, string> = {}) => values.set(m + JSON.stringify(labels), v),
    setLat: (k: string, v: number | null) => lat.set(k, v),
    /** Advances the clock by `ms` and evaluates. */
    async tick(ms = 1000) { t += ms; await e.evaluate(); },
    get t() { return t; },
  };
}

const rule = (over: Partial<AlertRule> = {}): AlertRule => ({ name: 'x_high', kind: 'metric', metric: 'x', op: '>', threshold: 10, forMs: 3000, severity: 'warning', ...over } as AlertRule);

describe('AlertEngine state machine', () => {
  it('is pending while the condition holds for less than forMs, fires once it has held forMs, resolves when it stops', async () => {
    const w = world([rule()]);
    w.set('x', 5);
    await w.tick();
    expect(w.e.active()).toEqual([]);
    w.set('x', 11);
    await w.tick(); // t0: pending
    expect(w.e.active()).toMatchObject([{ rule: 'x_high', state: 'pending', value: 11, firingSince: null }]);
    await w.tick(); // +1 s
    await w.tick(); // +2 s
    expect(w.e.active()[0]!.state).toBe('pending');
    expect(w.events.map((e) => e.state)).toEqual(['pending']);
    await w.tick(); // +3 s = forMs
    expect(w.e.active()).toMatchObject([{ state: 'firing', value: 11 }]);
    expect(w.events.map((e) => e.state)).toEqual(['pending', 'firing']);
    await w.tick();
    expect(w.events).toHaveLength(2); // firing is announced once
    w.set('x', 10); // not > 10
    await w.tick();
    expect(w.e.active()).toEqual([]);
    expect(w.events.map((e) => e.state)).toEqual(['pending', 'firing', 'resolved']);
    const [p, f, r] = w.events;
    expect(f!.activeSince).toBe(p!.activeSince);
    expect(Date.parse(f!.at) - Date.parse(f!.activeSince)).toBe(3000);
    expect(r!.firingSince).toBe(f!.at);
    expect(r!.value).toBe(10);
    expect(w.e.history().map((e) => e.state)).toEqual(['firing', 'resolved']); // pending is not history
  });

  it('a gap in the condition starts the wait over; no data never fires and resolves a firing alert', async () => {
    const w = world([rule()]);
    w.set('x', 20);
    await w.tick();
    await w.tick();
    w.set('x', 0);
    await w.tick(); // back to inactive before forMs
    w.set('x', 20);
    await w.tick();
    await w.tick();
    await w.tick();
    expect(w.e.active()[0]!.state).toBe('pending'); // 2 s since the restart, not 5 s since the first
    await w.tick();
    expect(w.e.active()[0]!.state).toBe('firing');
    w.set('x', undefined); // the series disappeared
    await w.tick();
    expect(w.e.active()).toEqual([]);
    expect(w.e.history().map((e) => [e.state, e.value])).toEqual([['firing', 20], ['resolved', null]]);
    for (let i = 0; i < 10; i++) await w.tick();
    expect(w.e.active()).toEqual([]);
  });

  it('forMs 0 fires at the first evaluation without a pending step; each operator compares as written', async () => {
    const rules: AlertRule[] = [
      rule({ name: 'gt', op: '>', threshold: 5, forMs: 0 }), rule({ name: 'ge', op: '>=', threshold: 5, forMs: 0 }),
      rule({ name: 'lt', op: '<', threshold: 5, forMs: 0 }), rule({ name: 'le', op: '<=', threshold: 5, forMs: 0 }),
    ];
    const w = world(rules);
    w.set('x', 5);
    await w.tick();
    expect(w.e.active().map((a) => a.rule)).toEqual(['ge', 'le']);
    expect(w.events.map((e) => `${e.rule}:${e.state}`)).toEqual(['ge:firing', 'le:firing']);
    w.set('x', 4);
    await w.tick();
    expect(w.e.active().map((a) => a.rule)).toEqual(['le', 'lt']);
  });

  it('latency rules read the percentile in µs; null (no samples) is no data', async () => {
    const w = world([{ name: 'ack', kind: 'latency', stage: 'order_to_ack', percentile: 0.99, window: 'minute', op: '>', threshold: 5000, forMs: 2000, severity: 'critical' }]);
    await w.tick();
    expect(w.e.active()).toEqual([]);
    w.setLat('order_to_ack/0.99/minute', 9000);
    await w.tick();
    await w.tick();
    await w.tick();
    expect(w.e.active()).toMatchObject([{ rule: 'ack', state: 'firing', value: 9000, subject: 'latency:order_to_ack:p99:minute', severity: 'critical' }]);
    w.setLat('order_to_ack/0.99/minute', 1200);
    await w.tick();
    expect(w.e.history().map((e) => e.state)).toEqual(['firing', 'resolved']);
  });

  it('a rate rule compares the per-second increase over its window; a counter reset starts it over', async () => {
    const w = world([rule({ name: 'rej', metric: 'rejects_total', rateOverMs: 10_000, threshold: 5, forMs: 0 } as Partial<AlertRule>)]);
    let v = 0;
    const step = async (perSecond: number, seconds: number): Promise<void> => { for (let i = 0; i < seconds; i++) { v += perSecond; w.set('rejects_total', v); await w.tick(); } };
    await step(2, 15);
    expect(w.e.active()).toEqual([]);
    await step(20, 3); // window 10 s: (3×20 + 7×2) / 10 = 7.4/s
    expect(w.e.active()).toMatchObject([{ rule: 'rej', state: 'firing' }]);
    expect(w.e.active()[0]!.value).toBeCloseTo(7.4, 9);
    await step(0, 11); // nothing new for a whole window
    expect(w.e.active()).toEqual([]);
    v = 0; // restart (90 before): the counter went down
    await step(5, 1);
    expect(w.e.active()).toEqual([]); // one sample after the reset: no rate yet (not 5 - 90)
    await step(100, 1);
    expect(w.e.active()[0]!.value).toBe(100);
  });

  it('keeps at most historySize events, the newest', async () => {
    const w = world([rule({ forMs: 0 })], { historySize: 5 });
    for (let i = 0; i < 6; i++) {
      w.set('x', 100 + i); await w.tick();
      w.set('x', 0); await w.tick();
    }
    const h = w.e.history();
    expect(h).toHaveLength(5);
    expect(h.map((e) => e.state)).toEqual(['resolved', 'firing', 'resolved', 'firing', 'resolved']);
    expect(h[1]!.value).toBe(104);
    expect(h[3]!.value).toBe(105);
  });

  it('a reader that throws is no data for that rule only, and is reported', async () => {
    const errors: string[] = [];
    let t = 0;
    const e = new AlertEngine({
      rules: [rule({ name: 'a', forMs: 0 }), rule({ name: 'b', metric: 'y', forMs: 0 })], now: () => (t += 1000),
      readMetric: (m) => { if (m === 'x') throw new Error('boom'); return 50; }, readLatency: () => null,
      onError: (r, err) => errors.push(`${r}: ${(err as Error).message}`),
    });
    await e.evaluate();
    expect(e.active().map((a) => a.rule)).toEqual(['b']);
    expect(errors).toEqual(['a: boom']);
  });
});

describe('alert rules file', () => {
  const err = (doc: unknown): string => {
    try { parseAlertsConfig(doc, 'alerts.json'); } catch (e) { expect(e).toBeInstanceOf(TradsysError); expect((e as TradsysError).code).toBe('ERR_ALERTS_RULES'); return (e as Error).message; }
    throw new Error('no error');
  };
  const ok = { name: 'ack', kind: 'latency', stage: 'order_to_ack', percentile: 0.99, window: 'minute', op: '>', threshold: 5000, forMs: 1000, severity: 'critical' };

  it('accepts both kinds, webhooks, and includeDefaults (the file wins on a name)', () => {
    const c = parseAlertsConfig({
      rules: [ok, { name: 'event_loop_delay_high', kind: 'metric', metric: 'tradsys_event_loop_delay_p99_seconds', labels: { thread: 'main' }, op: '>=', threshold: 0.2, forMs: 0, severity: 'info' }],
      webhooks: [{ url: 'http://127.0.0.1:9/hook', retries: 1, timeoutMs: 500 }], includeDefaults: true,
    }, 'alerts.json');
    expect(c.rules).toHaveLength(DEFAULT_ALERT_RULES.length + 1);
    expect(c.rules.find((r) => r.name === 'event_loop_delay_high')).toMatchObject({ threshold: 0.2, severity: 'info' });
    expect(c.webhooks).toEqual([{ url: 'http://127.0.0.1:9/hook', retries: 1, timeoutMs: 500 }]);
    expect(parseAlertsConfig([ok]).rules).toEqual([ok]); // a bare array
  });

  it('names the rule and the field of each error', () => {
    expect(err({ rules: [ok, { ...ok, name: 'b', op: '=>' }] })).toBe('alerts.json: rules[1] "b": field "op" must be one of >, <, >=, <=, got "=>"');
    expect(err({ rules: [{ ...ok, stage: 'order_to_akc' }] })).toContain('rules[0] "ack": field "stage" must be one of ws_receive_to_decode');
    expect(err({ rules: [{ ...ok, percentile: 99 }] })).toContain('rules[0] "ack": field "percentile" must be a number within 0..1, got 99');
    expect(err({ rules: [{ ...ok, percentile: 1 }] })).toContain('field "percentile" must be strictly between 0 and 1');
    expect(err({ rules: [{ ...ok, forMs: 1.5 }] })).toContain('field "forMs" must be an integer within 0..86400000, got 1.5');
    expect(err({ rules: [{ ...ok, threshold: '5' }] })).toContain('field "threshold" must be a number');
    expect(err({ rules: [{ ...ok, severity: 'page' }] })).toContain('field "severity" must be one of info, warning, critical, got "page"');
    expect(err({ rules: [{ ...ok, metric: 'x' }] })).toContain('rules[0] "ack": field "metric" is not a field of a latency rule');
    expect(err({ rules: [{ ...ok, name: 'Ack!' }] })).toContain('rules[0] "Ack!": field "name" must match');
    expect(err({ rules: [{ ...ok, name: undefined }] })).toContain('rules[0]: field "name"');
    expect(err({ rules: [ok, ok] })).toBe('alerts.json: rules[1] "ack": field "name" repeats rules[0]');
    expect(err({ rules: [{ name: 'm', kind: 'metric', metric: 'bad name', op: '>', threshold: 1, forMs: 0, severity: 'info' }] })).toContain('rules[0] "m": field "metric" must be a Prometheus metric name');
    expect(err({ rules: [{ name: 'm', kind: 'metric', metric: 'x', labels: { thread: 1 }, op: '>', threshold: 1, forMs: 0, severity: 'info' }] })).toContain('field "labels.thread"');
    expect(err({ rules: [{ name: 'm', kind: 'metric', metric: 'x', rateOverMs: 10, op: '>', threshold: 1, forMs: 0, severity: 'info' }] })).toContain('field "rateOverMs" must be an integer within 1000..86400000');
    expect(err({ rules: [{ name: 'm', kind: 'gauge' }] })).toContain('rules[0] "m": field "kind" must be one of metric, latency');
    expect(err({ rules: [ok], webhooks: [{ url: 'ftp://x' }] })).toContain('webhooks[0]: field "url" must be an http:// or https:// URL');
    expect(err({ rules: [ok], webhooks: [{ url: 'http://x', retries: -1 }] })).toContain('webhooks[0]: field "retries"');
    expect(err({ rule: [] })).toContain('top level: field "rule" is not a field');
    expect(err('rules')).toContain('must be a JSON object');
  });

  it('loadAlertsFile names the file; not JSON and missing files are clear errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alerts-'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ rules: [{ ...ok, window: 'hour' }] }));
    expect(() => loadAlertsFile(join(dir, 'a.json'))).toThrow(`${join(dir, 'a.json')}: rules[0] "ack": field "window" must be one of minute, start, got "hour"`);
    writeFileSync(join(dir, 'b.json'), '{"rules": [');
    expect(() => loadAlertsFile(join(dir, 'b.json'))).toThrow(/b\.json: not JSON/);
    expect(() => loadAlertsFile(join(dir, 'none.json'))).toThrow(/cannot read the alert rules file .*none\.json/);
  });

  it('the default rules pass the file validation and cover every alert of issue 17', () => {
    expect(parseAlertsConfig({ rules: DEFAULT_ALERT_RULES }).rules).toEqual(DEFAULT_ALERT_RULES);
    const subjects = DEFAULT_ALERT_RULES.map((r) => (r.kind === 'latency' ? r.stage : r.metric));
    for (const m of ['order_to_ack', 'tradsys_event_loop_delay_p99_seconds', 'tradsys_ring_fill_ratio', 'tradsys_storage_writer_lag_seconds', 'tradsys_heap_growth_steady', 'tradsys_gateway_rejects_total', 'tradsys_strategy_breaker_trips_total', 'tradsys_journal_disk_free_bytes']) expect(subjects).toContain(m);
    expect(LATENCY_STAGES).toContain('order_to_ack');
  });
});

describe('sampleValue (Prometheus text)', () => {
  const text = [
    '# HELP a_total x', '# TYPE a_total counter', 'a_total 3', 'a_total_extra 100',
    'g{thread="main",x="1"} 0.5', 'g{thread="engine"} 2', 'g{thread="we\\"ird"} 7',
    'h_bucket{le="0.1"} 4', 'h_sum 9', 'h_count 4', 'n NaN', '',
  ].join('\n');
  it('sums the matching series of exactly that name', () => {
    expect(sampleValue(text, 'a_total')).toBe(3);
    expect(sampleValue(text, 'g')).toBe(9.5);
    expect(sampleValue(text, 'g', { thread: 'main' })).toBe(0.5);
    expect(sampleValue(text, 'g', { thread: 'we"ird' })).toBe(7);
    expect(sampleValue(text, 'g', { thread: 'none' })).toBeUndefined();
    expect(sampleValue(text, 'h')).toBeUndefined();
    expect(sampleValue(text, 'h_count')).toBe(4);
    expect(sampleValue(text, 'n')).toBeUndefined();
  });
});
