/**
 * `tradsys serve --alerts FILE.json` and `--test-hooks` as a user meets them (real processes, the
 * built CLI): a bad rules file stops the start with the file, rule and field named; a good one is
 * announced in the banner with the webhooks, and `--test-hooks` with its warning.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../support/cli.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'cli-alerts-'));
const rule = { name: 'ack', kind: 'latency', stage: 'order_to_ack', percentile: 0.99, window: 'minute', op: '>', threshold: 5000, forMs: 1000, severity: 'critical' };

describe('tradsys serve --alerts', () => {
  it('refuses a bad rules file before starting, naming the file, the rule and the field', () => {
    const d = tmp();
    const file = join(d, 'alerts.json');
    writeFileSync(file, JSON.stringify({ rules: [rule, { ...rule, name: 'ack2', forMs: -5 }] }));
    const r = spawnSync(process.execPath, [CLI, 'serve', '--port', '0', '--no-sim', '--no-storage', '--data', join(d, 'data'), '--alerts', file], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}: rules[1] "ack2": field "forMs" must be an integer within 0..86400000, got -5`);
    expect(r.stdout).not.toMatch(/listening on/);
    const missing = spawnSync(process.execPath, [CLI, 'serve', '--port', '0', '--no-sim', '--no-storage', '--data', join(d, 'data'), '--alerts', join(d, 'none.json')], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/cannot read the alert rules file .*none\.json/);
  });

  it('announces the rules, webhooks and test hooks in the banner', async () => {
    const d = tmp();
    const file = join(d, 'alerts.json');
    writeFileSync(file, JSON.stringify({ rules: [rule], includeDefaults: true, webhooks: [{ url: 'http://127.0.0.1:9/x' }] }));
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--no-sim', '--no-storage', '--data', join(d, 'data'), '--alerts', file, '--test-hooks']);
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    try {
      await new Promise<void>((res, rej) => {
        const t = setTimeout(() => rej(new Error(`not started: ${out}`)), 30_000);
        child.stdout.on('data', () => { if (out.includes('Ctrl-C')) { clearTimeout(t); res(); } });
      });
      expect(out).toMatch(new RegExp(`alerts {4}12 rules from ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} · 1 webhook\\(s\\) · http://127\\.0\\.0\\.1:\\d+/api/v1/alerts \\(admin\\)`));
      expect(out).toMatch(/WARNING {3}--test-hooks: POST \/api\/v1\/admin\/test\/engine-delay can slow the engine down\. Tests only\./);
    } finally {
      const code = await new Promise<number | null>((res) => { child.on('exit', (c) => res(c)); child.kill('SIGTERM'); });
      expect(code).toBe(0);
    }
  }, 60_000);
});
