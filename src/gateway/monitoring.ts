/**
 * The gateway's monitoring service: the prom-client registry with the memory and resource series
 * (src/monitoring/memory.ts) fed by the engine host and the storage writer, the alert engine
 * (src/monitoring/alerts.ts) reading the gateway's /metrics series and the latency monitor, and
 * the delivery of alert transitions: the log (one `alert.*` line each), the `alerts` WebSocket
 * channel (Connections.broadcastAlerts) and the webhooks.
 *
 * Layout: `startMonitoring` builds and starts it (compose.ts, after the services); `stop` in the
 * gateway's close, before the connections go.
 * Invariants: pending transitions go to the log only; firing and resolved ones go everywhere; a
 * failing webhook is logged once per event given up, never retried past its budget.
 * Complexity: one evaluation per second, O(rules) reads of the registry (Metrics.read).
 * Allocation: per evaluation the readers' answers; per transition its event and deliveries.
 * Known limitations: a latency rule has no data (never fires) while stage tracking is off.
 */
import type { FastifyBaseLogger } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import { wasmInstanceMemory, type EngineThreadMemory } from '../engine/index.js';
import type { EngineHost } from '../engine/host.js';
import { AlertEngine, DEFAULT_ALERT_RULES, WebhookSink, type AlertEvent } from '../monitoring/alerts.js';
import type { LatencyMonitor } from '../monitoring/latency.js';
import type { Metrics } from '../monitoring/metrics.js';
import { registerMemoryMetrics, type MemoryMonitor, type WorkerReport } from '../monitoring/memory.js';
import type { StorageWriter } from '../storage/writer.js';
import type { MonitoringConfig } from './config.js';
import type { Connections } from './connections.js';

export interface MonitoringContext {
  readonly memory: MemoryMonitor;
  readonly alerts: AlertEngine;
  readonly webhooks: readonly WebhookSink[];
  readonly heapSnapshotMinFreeBytes: number | undefined;
  stop(): Promise<void>;
}

export interface MonitoringDeps {
  host: EngineHost;
  writer: StorageWriter | null;
  conns: Connections;
  log: FastifyBaseLogger;
  journalDir: string;
  /** The app's registry (GET /metrics): the memory series join it, the alert rules read it. */
  metrics: Metrics;
  /** Per-stage latency: the latency rules read its percentiles. */
  latency: Pick<LatencyMonitor, 'percentile'>;
}

export function startMonitoring(cfg: MonitoringConfig, d: MonitoringDeps): MonitoringContext {
  const registry = d.metrics.registry;
  const engineMem = (): EngineThreadMemory | null => d.host.memory();
  const workers = (): WorkerReport[] => {
    if (!d.writer) return [];
    const t = d.writer.thread();
    return [{ thread: 'storage_writer', loopDelayP99Seconds: t.loopDelayP99Us / 1e6, heapUsedBytes: t.heapUsedBytes }];
  };
  const memory = registerMemoryMetrics(registry, {
    wasm: wasmInstanceMemory, engine: engineMem, workers, rings: () => d.host.ringFill(), journalDir: d.journalDir, trend: cfg.heapTrend,
  });
  const alerts = new AlertEngine({
    rules: cfg.alerts?.rules ?? DEFAULT_ALERT_RULES,
    readMetric: (name, labels) => d.metrics.read(name, labels),
    readLatency: (stage, q, w) => d.latency.percentile(stage, q, w),
    historySize: cfg.alertHistory, intervalMs: cfg.alertIntervalMs,
    onError: (rule, e) => d.log.warn({ audit: 'alert.error', account: null, key: null, ip: null, outcome: 'no_data', rule, error: (e as Error).message }, `alert rule ${rule}: cannot read its value`),
  });
  const webhooks = (cfg.alerts?.webhooks ?? []).map((w) => new WebhookSink(w, (url, e, why) => {
    d.log.error({ audit: 'alert.webhook_failed', account: null, key: null, ip: null, outcome: 'failed', url, rule: e.rule, state: e.state, error: why }, `alert webhook ${url} failed: ${why}`);
  }));
  new Counter({
    name: 'tradsys_alert_webhook_deliveries_total', help: 'alert webhook deliveries, by outcome (sent; failed after its retries; dropped from a full queue), summed over webhooks', labelNames: ['outcome'], registers: [registry],
    collect() {
      this.reset();
      for (const outcome of ['sent', 'failed', 'dropped'] as const) this.inc({ outcome }, webhooks.reduce((n, w) => n + w.counts[outcome], 0));
    },
  });
  new Gauge({
    name: 'tradsys_alerts_active', help: 'alerts pending or firing now, by state and severity', labelNames: ['state', 'severity'], registers: [registry],
    collect() {
      this.reset();
      for (const st of ['pending', 'firing']) for (const sev of ['info', 'warning', 'critical']) this.set({ state: st, severity: sev }, 0);
      for (const a of alerts.active()) this.inc({ state: a.state, severity: a.severity });
    },
  });
  new Gauge({
    name: 'tradsys_alert_webhook_queue', help: 'alert events waiting for a webhook, summed over webhooks', registers: [registry],
    collect() { this.set(webhooks.reduce((n, w) => n + w.pending, 0)); },
  });
  alerts.on((e: AlertEvent) => {
    const level = e.state === 'firing' ? (e.severity === 'critical' ? 'error' : 'warn') : 'info';
    d.log[level]({ audit: `alert.${e.state}`, account: null, key: null, ip: null, outcome: e.state, rule: e.rule, severity: e.severity, subject: e.subject, value: e.value, op: e.op, threshold: e.threshold, activeSince: e.activeSince, firingSince: e.firingSince }, `alert ${e.rule} ${e.state}: ${e.subject} = ${e.value ?? 'no data'} (${e.op} ${e.threshold})`);
    if (e.state === 'pending') return;
    d.conns.broadcastAlerts({ type: 'alert', alert: e });
    for (const w of webhooks) w.deliver(e);
  });
  alerts.start();
  return {
    memory, alerts, webhooks, heapSnapshotMinFreeBytes: cfg.heapSnapshotMinFreeBytes,
    async stop(): Promise<void> {
      await alerts.stop();
      memory.stop();
      await Promise.all(webhooks.map((w) => w.close()));
    },
  };
}
