/**
 * Alerts (docs/operations.md "Alerts"): rules — a metric (optionally its per-second rate) or a
 * latency percentile compared with a threshold for a duration — evaluated every second, each
 * with the states inactive → pending → firing → resolved; transitions go to listeners (the log,
 * the `alerts` WebSocket channel, webhooks: src/gateway/compose.ts wires them) and to a bounded
 * history; GET /api/v1/alerts answers `active()` and `history()`.
 *
 * Layout: `parseAlertRules` (the rules file: validated field by field, errors name the rule and
 * the field), `DEFAULT_ALERT_RULES`, `AlertEngine` (the state machine over injected readers and an
 * injected clock), `WebhookSink` (POST JSON with retries, backoff, timeout, a bounded queue).
 * Invariants: a rule fires only after its condition held for `forMs` on consecutive evaluations
 * (a false or missing value in between sends it back to inactive); a firing rule whose condition
 * stops holding — or whose value goes missing — is resolved once; evaluations never overlap; the
 * history keeps the last `historySize` firing/resolved events; a webhook that keeps failing costs
 * at most `queueMax` queued events (the oldest are dropped and counted).
 * Complexity: an evaluation O(rules) reads; a rate rule keeps the samples of its window.
 * Allocation: per evaluation the readers' promises; per transition one event object.
 * Known limitations: a rate is the plain difference over its window (counter resets restart it);
 * rules are read at start (a changed file needs a restart).
 */
import { readFileSync } from 'node:fs';
import { TradsysError } from '../domain/errors.js';

export type AlertOp = '>' | '<' | '>=' | '<=';
export type AlertSeverity = 'info' | 'warning' | 'critical';
export type LatencyWindow = 'minute' | 'start';

interface RuleBase {
  /** Unique, [a-z][a-z0-9_]* (≤ 64). */
  name: string;
  op: AlertOp;
  threshold: number;
  /** How long the condition must hold before the alert fires, ms (0: at the first evaluation). */
  forMs: number;
  severity: AlertSeverity;
  /** For people: what it means and what to do. */
  description?: string;
}
/** A metric (sum over the series matching `labels`); with `rateOverMs`, its per-second increase over that window. */
export interface MetricRule extends RuleBase { kind: 'metric'; metric: string; labels?: Record<string, string>; rateOverMs?: number }
/** A latency stage's percentile, µs (LatencyMonitor.percentile). */
export interface LatencyRule extends RuleBase { kind: 'latency'; stage: string; percentile: number; window: LatencyWindow }
export type AlertRule = MetricRule | LatencyRule;

/** The latency stages a rule may name (src/monitoring/latency.ts; docs/monitoring.md). */
export const LATENCY_STAGES = [
  'ws_receive_to_decode', 'decode_to_ring', 'ring_to_engine', 'engine_match', 'journal_durable', 'engine_to_publish',
  'publish_to_report', 'order_to_ack', 'md_publish_to_send', 'strategy_event_to_decision', 'strategy_decision_to_ring',
] as const;

/** One webhook (the rules file's `webhooks`). */
export interface WebhookConfig {
  url: string;
  /** Per attempt, ms (default 2,000). */
  timeoutMs?: number;
  /** Attempts after the first (default 3). */
  retries?: number;
  /** First retry after this many ms, doubling each time (default 500). */
  backoffMs?: number;
  /** Events waiting at most; past it the oldest is dropped (default 1,000). */
  queueMax?: number;
}

/** What `--alerts FILE.json` holds. */
export interface AlertsConfig { rules: AlertRule[]; webhooks: WebhookConfig[] }

const MIN = 60_000;
/** The rules in force without a file (docs/operations.md "Alerts" explains each). */
export const DEFAULT_ALERT_RULES: readonly AlertRule[] = [
  { name: 'ack_p99_high', kind: 'latency', stage: 'order_to_ack', percentile: 0.99, window: 'minute', op: '>', threshold: 20_000, forMs: 30_000, severity: 'critical', description: 'order → ack p99 over the last minute above 20 ms' },
  { name: 'event_loop_delay_high', kind: 'metric', metric: 'tradsys_event_loop_delay_p99_seconds', labels: { thread: 'main' }, op: '>', threshold: 0.05, forMs: 30_000, severity: 'warning', description: 'main thread event-loop delay p99 above 50 ms' },
  { name: 'engine_loop_stall', kind: 'metric', metric: 'tradsys_event_loop_delay_max_seconds', labels: { thread: 'engine' }, op: '>', threshold: 0.25, forMs: 10_000, severity: 'critical', description: 'an engine loop turn (batch + journal sync) longer than 250 ms in each second' },
  { name: 'command_ring_fill_high', kind: 'metric', metric: 'tradsys_ring_fill_ratio', labels: { ring: 'command' }, op: '>', threshold: 0.5, forMs: 10_000, severity: 'warning', description: 'the command ring more than half full: the engine is not keeping up' },
  { name: 'event_ring_fill_high', kind: 'metric', metric: 'tradsys_ring_fill_ratio', labels: { ring: 'event' }, op: '>', threshold: 0.75, forMs: 10_000, severity: 'critical', description: 'a reader of the event ring lags more than 3/4 of it: the engine will wait for it' },
  { name: 'storage_writer_lag_high', kind: 'metric', metric: 'tradsys_storage_writer_lag_seconds', op: '>', threshold: 5, forMs: 30_000, severity: 'warning', description: 'the oldest row not yet written to ClickHouse is older than 5 s' },
  { name: 'memory_growth', kind: 'metric', metric: 'tradsys_heap_growth_steady', op: '>', threshold: 0, forMs: 5 * MIN, severity: 'warning', description: 'the heap after GC grows steadily (trend detector)' },
  { name: 'reject_rate_high', kind: 'metric', metric: 'tradsys_gateway_rejects_total', rateOverMs: MIN, op: '>', threshold: 50, forMs: MIN, severity: 'warning', description: 'more than 50 gateway rejects per second over the last minute' },
  { name: 'strategy_breaker_trips', kind: 'metric', metric: 'tradsys_strategy_breaker_trips_total', rateOverMs: 5 * MIN, op: '>', threshold: 0, forMs: 0, severity: 'warning', description: 'a strategy circuit breaker tripped in the last 5 minutes' },
  { name: 'journal_disk_low', kind: 'metric', metric: 'tradsys_journal_disk_free_ratio', op: '<', threshold: 0.1, forMs: MIN, severity: 'warning', description: 'less than 10 % free on the journal\'s file system' },
  { name: 'journal_disk_critical', kind: 'metric', metric: 'tradsys_journal_disk_free_bytes', op: '<', threshold: 1024 ** 3, forMs: 0, severity: 'critical', description: 'less than 1 GiB free on the journal\'s file system' },
];

// ── the rules file ───────────────────────────────────────────────────────────────────────────

const NAME = /^[a-z][a-z0-9_]{0,63}$/;
const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const OPS: readonly AlertOp[] = ['>', '<', '>=', '<='];
const SEVERITIES: readonly AlertSeverity[] = ['info', 'warning', 'critical'];

function bad(source: string, where: string, field: string, what: string, got: unknown): never {
  throw new TradsysError('ERR_ALERTS_RULES', `${source}: ${where}: field "${field}" ${what}, got ${JSON.stringify(got) ?? String(got)}`);
}
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseRule(r: unknown, i: number, source: string): AlertRule {
  const where0 = `rules[${i}]`;
  if (!isObj(r)) throw new TradsysError('ERR_ALERTS_RULES', `${source}: ${where0} must be an object`);
  const where = typeof r.name === 'string' ? `${where0} "${r.name}"` : where0;
  const num = (f: string, lo: number, hi: number, int = false): number => {
    const v = r[f];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v))) bad(source, where, f, `must be ${int ? 'an integer' : 'a number'} within ${lo}..${hi}`, v);
    return v;
  };
  const oneOf = <T extends string>(f: string, allowed: readonly T[]): T => {
    const v = r[f];
    if (typeof v !== 'string' || !allowed.includes(v as T)) bad(source, where, f, `must be one of ${allowed.join(', ')}`, v);
    return v as T;
  };
  if (typeof r.name !== 'string' || !NAME.test(r.name)) bad(source, where, 'name', 'must match [a-z][a-z0-9_]* (at most 64 characters)', r.name);
  const kind = oneOf('kind', ['metric', 'latency'] as const);
  const allowed = new Set(['name', 'kind', 'op', 'threshold', 'forMs', 'severity', 'description', ...(kind === 'metric' ? ['metric', 'labels', 'rateOverMs'] : ['stage', 'percentile', 'window'])]);
  for (const k of Object.keys(r)) if (!allowed.has(k)) bad(source, where, k, `is not a field of a ${kind} rule (fields: ${[...allowed].join(', ')})`, r[k]);
  const base = {
    name: r.name, op: oneOf('op', OPS), threshold: num('threshold', -Number.MAX_VALUE, Number.MAX_VALUE),
    forMs: num('forMs', 0, 86_400_000, true), severity: oneOf('severity', SEVERITIES),
  };
  if (r.description !== undefined && (typeof r.description !== 'string' || r.description.length > 500)) bad(source, where, 'description', 'must be a string of at most 500 characters', r.description);
  const description = r.description as string | undefined;
  if (kind === 'metric') {
    if (typeof r.metric !== 'string' || !METRIC.test(r.metric)) bad(source, where, 'metric', 'must be a Prometheus metric name', r.metric);
    let labels: Record<string, string> | undefined;
    if (r.labels !== undefined) {
      if (!isObj(r.labels)) bad(source, where, 'labels', 'must be an object of label → string value', r.labels);
      for (const [k, v] of Object.entries(r.labels)) {
        if (!LABEL.test(k) || typeof v !== 'string') bad(source, where, `labels.${k}`, 'must be a label name with a string value', v);
      }
      labels = r.labels as Record<string, string>;
    }
    const rate = r.rateOverMs === undefined ? undefined : num('rateOverMs', 1000, 86_400_000, true);
    return { ...base, kind, metric: r.metric, ...(labels ? { labels } : {}), ...(rate !== undefined ? { rateOverMs: rate } : {}), ...(description !== undefined ? { description } : {}) };
  }
  const stage = oneOf('stage', LATENCY_STAGES);
  const percentile = num('percentile', 0, 1);
  if (percentile <= 0 || percentile >= 1) bad(source, where, 'percentile', 'must be strictly between 0 and 1 (0.99 for p99)', percentile);
  return { ...base, kind, stage, percentile, window: oneOf('window', ['minute', 'start'] as const), ...(description !== undefined ? { description } : {}) };
}

function parseWebhook(w: unknown, i: number, source: string): WebhookConfig {
  const where = `webhooks[${i}]`;
  if (!isObj(w)) throw new TradsysError('ERR_ALERTS_RULES', `${source}: ${where} must be an object`);
  for (const k of Object.keys(w)) if (!['url', 'timeoutMs', 'retries', 'backoffMs', 'queueMax'].includes(k)) bad(source, where, k, 'is not a webhook field (url, timeoutMs, retries, backoffMs, queueMax)', w[k]);
  let url: URL | null = null;
  try { url = typeof w.url === 'string' ? new URL(w.url) : null; } catch { url = null; }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) bad(source, where, 'url', 'must be an http:// or https:// URL', w.url);
  const int = (f: string, lo: number, hi: number): number | undefined => {
    const v = w[f];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) bad(source, where, f, `must be an integer within ${lo}..${hi}`, v);
    return v;
  };
  const out: WebhookConfig = { url: url.toString() };
  const t = int('timeoutMs', 100, 60_000); if (t !== undefined) out.timeoutMs = t;
  const r = int('retries', 0, 20); if (r !== undefined) out.retries = r;
  const b = int('backoffMs', 10, 600_000); if (b !== undefined) out.backoffMs = b;
  const q = int('queueMax', 1, 100_000); if (q !== undefined) out.queueMax = q;
  return out;
}

/**
 * Validates a rules document: `{"rules": [...], "webhooks": [...], "includeDefaults": bool}` (or a
 * bare array of rules). `includeDefaults` adds the default rules the file does not name. Throws
 * ERR_ALERTS_RULES naming `source`, the rule (index and name) and the field.
 */
export function parseAlertsConfig(doc: unknown, source = 'alert rules'): AlertsConfig {
  const d: Record<string, unknown> = Array.isArray(doc) ? { rules: doc } : isObj(doc) ? doc : {};
  if (!Array.isArray(doc) && !isObj(doc)) throw new TradsysError('ERR_ALERTS_RULES', `${source}: must be a JSON object {"rules": [...]} or an array of rules`);
  for (const k of Object.keys(d)) if (!['rules', 'webhooks', 'includeDefaults'].includes(k)) bad(source, 'top level', k, 'is not a field (rules, webhooks, includeDefaults)', d[k]);
  if (!Array.isArray(d.rules)) bad(source, 'top level', 'rules', 'must be an array of rules', d.rules);
  if (d.includeDefaults !== undefined && typeof d.includeDefaults !== 'boolean') bad(source, 'top level', 'includeDefaults', 'must be true or false', d.includeDefaults);
  if (d.webhooks !== undefined && !Array.isArray(d.webhooks)) bad(source, 'top level', 'webhooks', 'must be an array', d.webhooks);
  const rules = d.rules.map((r, i) => parseRule(r, i, source));
  const seen = new Map<string, number>();
  rules.forEach((r, i) => {
    const j = seen.get(r.name);
    if (j !== undefined) throw new TradsysError('ERR_ALERTS_RULES', `${source}: rules[${i}] "${r.name}": field "name" repeats rules[${j}]`);
    seen.set(r.name, i);
  });
  if (d.includeDefaults === true) for (const r of DEFAULT_ALERT_RULES) if (!seen.has(r.name)) rules.push(r);
  return { rules, webhooks: ((d.webhooks as unknown[] | undefined) ?? []).map((w, i) => parseWebhook(w, i, source)) };
}

/** Reads and validates a rules file (`tradsys serve --alerts FILE.json`). */
export function loadAlertsFile(file: string): AlertsConfig {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new TradsysError('ERR_ALERTS_RULES', `cannot read the alert rules file ${file}: ${(e as Error).message}`); }
  let doc: unknown;
  try { doc = JSON.parse(text); } catch (e) { throw new TradsysError('ERR_ALERTS_RULES', `${file}: not JSON: ${(e as Error).message}`); }
  return parseAlertsConfig(doc, file);
}

// ── the state machine ────────────────────────────────────────────────────────────────────────

export type AlertState = 'pending' | 'firing' | 'resolved';

/** A transition, as the log, the WS channel, webhooks and the history carry it. */
export interface AlertEvent {
  rule: string;
  state: AlertState;
  severity: AlertSeverity;
  /** The value at the transition (null: no data). */
  value: number | null;
  op: AlertOp;
  threshold: number;
  /** The metric (with labels) or `latency:<stage>:p<q>:<window>`. */
  subject: string;
  description: string;
  /** This transition, ISO 8601 UTC. */
  at: string;
  /** When the condition started to hold (ISO). */
  activeSince: string;
  /** When it fired (ISO); null for pending. */
  firingSince: string | null;
}

/** An alert pending or firing now. */
export interface ActiveAlert {
  rule: string; state: 'pending' | 'firing'; severity: AlertSeverity; value: number | null; op: AlertOp; threshold: number;
  subject: string; description: string; activeSince: string; firingSince: string | null;
}

export interface AlertEngineOptions {
  rules: readonly AlertRule[];
  /** A counter's or gauge's value, summed over the series matching `labels` (Metrics.read); undefined: no such series. */
  readMetric: (metric: string, labels?: Record<string, string>) => Promise<number | undefined> | number | undefined;
  /** A latency percentile, µs (LatencyMonitor.percentile); null: no samples. */
  readLatency: (stage: string, q: number, window: LatencyWindow) => number | null;
  /** Clock, ms (default Date.now). */
  now?: () => number;
  /** Firing/resolved events kept (default 500). */
  historySize?: number;
  /** Evaluation period for `start()`, ms (default 1,000). */
  intervalMs?: number;
  /** Called when a reader throws (the rule is treated as having no data). */
  onError?: (rule: string, e: unknown) => void;
}

interface RuleState { since: number | null; firingSince: number | null; value: number | null; samples: { t: number; v: number }[] }

const compare = (v: number, op: AlertOp, t: number): boolean => (op === '>' ? v > t : op === '<' ? v < t : op === '>=' ? v >= t : v <= t);

export function ruleSubject(r: AlertRule): string {
  if (r.kind === 'latency') return `latency:${r.stage}:p${Math.round(r.percentile * 1000) / 10}:${r.window}`;
  const l = r.labels ? `{${Object.entries(r.labels).map(([k, v]) => `${k}="${v}"`).join(',')}}` : '';
  return r.rateOverMs ? `rate(${r.metric}${l}[${r.rateOverMs / 1000}s])` : `${r.metric}${l}`;
}

export class AlertEngine {
  readonly rules: readonly AlertRule[];
  private readonly st: RuleState[];
  private readonly hist: AlertEvent[] = [];
  private readonly listeners: ((e: AlertEvent) => void)[] = [];
  private readonly now: () => number;
  private readonly historySize: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Evaluations run so far. */
  evaluations = 0;

  constructor(private readonly o: AlertEngineOptions) {
    this.rules = o.rules;
    this.now = o.now ?? Date.now;
    this.historySize = o.historySize ?? 500;
    this.st = o.rules.map(() => ({ since: null, firingSince: null, value: null, samples: [] }));
  }

  /** Adds a listener for every transition (pending, firing, resolved). */
  on(fn: (e: AlertEvent) => void): void { this.listeners.push(fn); }

  /** Evaluates every rule once (a call while one runs waits for it and returns). */
  evaluate(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.run().finally(() => { this.running = null; });
    return this.running;
  }

  private async run(): Promise<void> {
    const values = await Promise.all(this.rules.map((r, i) => this.read(r, i)));
    const t = this.now();
    this.evaluations++;
    this.rules.forEach((r, i) => this.step(r, this.st[i]!, values[i]!, t));
  }

  private async read(r: AlertRule, i: number): Promise<number | null> {
    try {
      if (r.kind === 'latency') { const v = this.o.readLatency(r.stage, r.percentile, r.window); return v === null || !Number.isFinite(v) ? null : v; }
      const v = await this.o.readMetric(r.metric, r.labels);
      if (v === undefined || !Number.isFinite(v)) return null;
      if (!r.rateOverMs) return v;
      return this.rate(this.st[i]!, r.rateOverMs, v);
    } catch (e) {
      this.o.onError?.(r.name, e);
      return null;
    }
  }

  /** Per-second increase over the window: the newest sample against the oldest one no older than the window. */
  private rate(s: RuleState, windowMs: number, v: number): number | null {
    const t = this.now();
    const last = s.samples[s.samples.length - 1];
    if (last && v < last.v) s.samples.length = 0; // counter reset: start over
    s.samples.push({ t, v });
    while (s.samples.length > 2 && t - s.samples[1]!.t >= windowMs) s.samples.shift();
    const first = s.samples[0]!;
    if (s.samples.length < 2 || t === first.t) return null;
    return ((v - first.v) * 1000) / (t - first.t);
  }

  private step(r: AlertRule, s: RuleState, value: number | null, t: number): void {
    s.value = value;
    const holds = value !== null && compare(value, r.op, r.threshold);
    if (holds) {
      if (s.since === null) { s.since = t; if (r.forMs > 0) this.emit(r, s, 'pending', t); }
      if (s.firingSince === null && t - s.since >= r.forMs) { s.firingSince = t; this.emit(r, s, 'firing', t); }
      return;
    }
    if (s.firingSince !== null) this.emit(r, s, 'resolved', t);
    s.since = null;
    s.firingSince = null;
  }

  private emit(r: AlertRule, s: RuleState, state: AlertState, t: number): void {
    const e: AlertEvent = {
      rule: r.name, state, severity: r.severity, value: s.value, op: r.op, threshold: r.threshold, subject: ruleSubject(r),
      description: r.description ?? '', at: new Date(t).toISOString(), activeSince: new Date(s.since ?? t).toISOString(),
      firingSince: s.firingSince === null ? null : new Date(s.firingSince).toISOString(),
    };
    if (state !== 'pending') {
      this.hist.push(e);
      if (this.hist.length > this.historySize) this.hist.splice(0, this.hist.length - this.historySize);
    }
    for (const fn of this.listeners) {
      try { fn(e); } catch (err) { this.o.onError?.(r.name, err); }
    }
  }

  /** Alerts pending or firing now, firing first, then by name. */
  active(): ActiveAlert[] {
    const out: ActiveAlert[] = [];
    this.rules.forEach((r, i) => {
      const s = this.st[i]!;
      if (s.since === null) return;
      out.push({
        rule: r.name, state: s.firingSince === null ? 'pending' : 'firing', severity: r.severity, value: s.value, op: r.op, threshold: r.threshold,
        subject: ruleSubject(r), description: r.description ?? '', activeSince: new Date(s.since).toISOString(),
        firingSince: s.firingSince === null ? null : new Date(s.firingSince).toISOString(),
      });
    });
    return out.sort((a, b) => (a.state === b.state ? a.rule.localeCompare(b.rule) : a.state === 'firing' ? -1 : 1));
  }

  /** Firing and resolved events, oldest first (at most `historySize`). */
  history(): AlertEvent[] { return this.hist.slice(); }

  /** Evaluates every `intervalMs` (default 1 s; the timer does not keep the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.evaluate(); }, this.o.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** Stops the timer and waits for an evaluation in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}

// ── webhooks ─────────────────────────────────────────────────────────────────────────────────

/** What a webhook receives: one POST per event, `Content-Type: application/json`. */
export interface WebhookBody { source: 'tradsys'; alert: AlertEvent }

/**
 * Delivers alert events to one URL: POST JSON, each attempt bounded by `timeoutMs`, retried after
 * `backoffMs`, 2×, 4×… (a 2xx answer is delivered; anything else or no answer is a failure), one
 * request at a time in event order, at most `queueMax` waiting (the oldest are dropped).
 */
export class WebhookSink {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly queueMax: number;
  private readonly queue: AlertEvent[] = [];
  private sending: Promise<void> | null = null;
  private closed = false;
  private wake: (() => void) | null = null;
  readonly counts = { sent: 0, failed: 0, dropped: 0, attempts: 0 };
  /** The last failure (status or error message), for the log. */
  lastError: string | null = null;

  constructor(cfg: WebhookConfig, private readonly onFailure: (url: string, e: AlertEvent, why: string) => void = () => undefined) {
    this.url = cfg.url;
    this.timeoutMs = cfg.timeoutMs ?? 2000;
    this.retries = cfg.retries ?? 3;
    this.backoffMs = cfg.backoffMs ?? 500;
    this.queueMax = cfg.queueMax ?? 1000;
  }

  /** Queues an event (drops the oldest waiting one past queueMax; the one in flight is not counted). */
  deliver(e: AlertEvent): void {
    if (this.closed) return;
    this.queue.push(e);
    if (this.queue.length > this.queueMax) { this.queue.shift(); this.counts.dropped++; }
    if (!this.sending) this.sending = this.drain().finally(() => { this.sending = null; });
  }

  /** Events waiting (not counting the one in flight). */
  get pending(): number { return this.queue.length; }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const e = this.queue.shift()!; // out of the queue while in flight: queueMax bounds the waiting ones
      let ok = false;
      for (let attempt = 0; attempt <= this.retries && !this.closed; attempt++) {
        if (attempt > 0) await this.sleep(this.backoffMs * 2 ** (attempt - 1));
        if (this.closed) break;
        this.counts.attempts++;
        try {
          const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'tradsys', alert: e } satisfies WebhookBody), signal: AbortSignal.timeout(this.timeoutMs) });
          await res.arrayBuffer().catch(() => undefined);
          if (res.ok) { ok = true; break; }
          this.lastError = `HTTP ${res.status}`;
        } catch (err) {
          this.lastError = (err as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (err as Error).message;
        }
      }
      if (ok) this.counts.sent++;
      else { this.counts.failed++; this.onFailure(this.url, e, this.closed ? 'closed before delivery' : this.lastError ?? 'failed'); }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((res) => {
      const t = setTimeout(() => { this.wake = null; res(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = null; res(); };
    });
  }

  /** Waits until the queue is empty (tests) or `timeoutMs` passes; true when empty. */
  async idle(timeoutMs = 10_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while ((this.sending || this.queue.length > 0) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return !this.sending && this.queue.length === 0;
  }

  /** Stops: what is queued is dropped, a backoff wait ends at once, the request in flight finishes or times out. */
  async close(): Promise<void> {
    this.closed = true;
    this.counts.dropped += this.queue.length;
    this.queue.length = 0;
    this.wake?.();
    await this.sending;
  }
}
