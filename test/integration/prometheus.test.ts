/**
 * The Prometheus side, with the real tools of Debian's `prometheus` package (.ci/run installs it):
 * `promtool check rules` accepts docs/prometheus/tradsys-rules.yml, and a real Prometheus server
 * (loopback, its own temporary storage, scrape and rule interval 1 s, at most 30 s, killed at the
 * end) scrapes a served gateway's /metrics, answers a query on one of our series over its HTTP API,
 * and has loaded our rules. Where the binaries are missing the tests are skipped, and say why.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../support/gateway-fixture.js';

const RULES = fileURLToPath(new URL('../../docs/prometheus/tradsys-rules.yml', import.meta.url));
const which = (bin: string): string | null => {
  for (const p of [`/usr/bin/${bin}`, `/usr/local/bin/${bin}`]) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
};
const promtool = which('promtool');
const prometheus = which('prometheus');
/**
 * Where the binaries must be there (CI: .ci/run installs Debian's prometheus package), a missing one
 * fails these tests instead of skipping them; elsewhere they are skipped with the reason in the name.
 */
const REQUIRED = process.env.CI === 'true' || process.env.TRADSYS_REQUIRE_PROMETHEUS === '1';

const freePort = (): Promise<number> => new Promise((res, rej) => {
  const s = createServer();
  s.once('error', rej);
  s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); });
});

describe('Prometheus', () => {
  it.skipIf(!promtool && !REQUIRED)(`promtool check rules accepts docs/prometheus/tradsys-rules.yml${promtool ? '' : ' (SKIPPED: promtool not installed; apt-get install prometheus)'}`, () => {
    expect(promtool, 'promtool is not installed (apt-get install prometheus)').not.toBeNull();
    const r = spawnSync(promtool!, ['check', 'rules', RULES], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: 11 rules found/);
    expect(r.status).toBe(0);
  });

  it.skipIf(!prometheus && !REQUIRED)(`a real Prometheus server scrapes /metrics and answers a query on our series${prometheus ? '' : ' (SKIPPED: prometheus not installed; apt-get install prometheus)'}`, async () => {
    expect(prometheus, 'prometheus is not installed (apt-get install prometheus)').not.toBeNull();
    const g = await startGateway({ tmpPrefix: 'prom-', capacity: 10_000, logs: { stderr: false } });
    let proc: ChildProcess | null = null;
    let output = '';
    try {
      g.gw.placeOrder(1, 0, { clientOrderId: 'p1', symbol: 'BTC-USD', side: 'buy', type: 'limit', tif: 'gtc', price: '60000', qty: '1' });
      const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
      const port = await freePort();
      const target = new URL(g.base).host;
      writeFileSync(join(dir, 'prometheus.yml'), [
        'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s',
        `rule_files: [${JSON.stringify(RULES)}]`,
        'scrape_configs:', '  - job_name: tradsys', '    scrape_interval: 1s', '    static_configs:', `      - targets: [${JSON.stringify(target)}]`, '',
      ].join('\n'));
      proc = spawn(prometheus!, [
        `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h', '--log.level=warn',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      proc.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
      proc.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
      const api = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 25_000; // the whole run stays within 30 s
      const get = async (path: string): Promise<Record<string, unknown> | null> => {
        try { const r = await fetch(api + path); return r.ok ? await r.json() as Record<string, unknown> : null; } catch { return null; }
      };
      let value: [number, string] | null = null;
      while (Date.now() < deadline && value === null) {
        if (proc.exitCode !== null) throw new Error(`prometheus exited (${proc.exitCode}): ${output}`);
        const q = await get(`/api/v1/query?query=${encodeURIComponent('tradsys_engine_seq{job="tradsys"}')}`);
        const result = (q?.data as { result?: { metric: Record<string, string>; value: [number, string] }[] } | undefined)?.result ?? [];
        if (result.length > 0) { value = result[0]!.value; expect(result[0]!.metric).toMatchObject({ __name__: 'tradsys_engine_seq', job: 'tradsys', instance: target }); }
        else await new Promise((r) => setTimeout(r, 250));
      }
      expect(value, `no sample of tradsys_engine_seq within 25 s; prometheus said: ${output}`).not.toBeNull();
      expect(Number(value![1])).toBe(g.gw.host.lastSeq);
      expect(Number(value![1])).toBeGreaterThanOrEqual(1);
      // the target is up, and our rules are loaded and evaluated without errors
      const up = await get(`/api/v1/query?query=${encodeURIComponent('up{job="tradsys"}')}`);
      expect((up?.data as { result: { value: [number, string] }[] }).result[0]!.value[1]).toBe('1');
      const rules = await get('/api/v1/rules');
      const group = ((rules?.data as { groups: { name: string; rules: { name: string; health: string }[] }[] }).groups).find((x) => x.name === 'tradsys')!;
      expect(group.rules).toHaveLength(11);
      expect(group.rules.every((r) => r.health !== 'err')).toBe(true);
      // a memory series through PromQL, too
      const heap = await get(`/api/v1/query?query=${encodeURIComponent('tradsys_heap_used_bytes{job="tradsys"} > 0')}`);
      expect((heap?.data as { result: unknown[] }).result).toHaveLength(1);
    } finally {
      if (proc && proc.exitCode === null) {
        const exited = new Promise((r) => proc!.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc!.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      await g.close();
    }
  }, 45_000);
});
