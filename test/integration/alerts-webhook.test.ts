/**
 * WebhookSink against real HTTP receivers on loopback: delivery in order, retries after failures
 * (counted attempts), giving up after the retries, the per-attempt timeout, the bounded queue
 * (oldest waiting events dropped, the one in flight kept), and close().
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { WebhookSink, type AlertEvent, type WebhookBody } from '../../src/monitoring/alerts.js';

const servers: Server[] = [];
afterAll(async () => { for (const s of servers) { s.closeAllConnections(); await new Promise((r) => s.close(r)); } });

/** A receiver: `answer(req body, n)` decides; returns its URL and what it got. */
async function receiver(answer: (body: WebhookBody, n: number, res: ServerResponse) => void): Promise<{ url: string; got: WebhookBody[] }> {
  const got: WebhookBody[] = [];
  const s = createServer((req: IncomingMessage, res) => {
    let b = '';
    req.on('data', (c: Buffer) => { b += c.toString(); });
    req.on('end', () => {
      expect(req.method).toBe('POST');
      expect(req.headers['content-type']).toBe('application/json');
      const body = JSON.parse(b) as WebhookBody;
      got.push(body);
      answer(body, got.length, res);
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(s.address() as { port: number }).port}/hook`, got };
}

const ev = (rule: string, state: 'firing' | 'resolved' = 'firing'): AlertEvent => ({
  rule, state, severity: 'warning', value: 1, op: '>', threshold: 0, subject: 'x', description: '', at: '2026-01-01T00:00:00.000Z', activeSince: '2026-01-01T00:00:00.000Z', firingSince: null,
});

describe('WebhookSink', () => {
  it('delivers events in order, one request each, with the documented body', async () => {
    const r = await receiver((_b, _n, res) => res.writeHead(200).end('ok'));
    const w = new WebhookSink({ url: r.url });
    for (const x of ['a', 'b', 'c']) w.deliver(ev(x));
    expect(await w.idle()).toBe(true);
    expect(r.got.map((g) => g.alert.rule)).toEqual(['a', 'b', 'c']);
    expect(r.got[0]).toEqual({ source: 'tradsys', alert: ev('a') });
    expect(w.counts).toEqual({ sent: 3, failed: 0, dropped: 0, attempts: 3 });
    await w.close();
  });

  it('retries a failed attempt with backoff and gives up after `retries`, reporting why', async () => {
    const r = await receiver((b, _n, res) => res.writeHead(b.alert.rule === 'bad' ? 500 : 200).end());
    const failures: string[] = [];
    const w = new WebhookSink({ url: r.url, retries: 2, backoffMs: 10 }, (url, e, why) => failures.push(`${e.rule}: ${why}`));
    w.deliver(ev('bad'));
    w.deliver(ev('good'));
    expect(await w.idle()).toBe(true);
    expect(r.got.map((g) => g.alert.rule)).toEqual(['bad', 'bad', 'bad', 'good']); // 1 + 2 retries, then the next event
    expect(failures).toEqual(['bad: HTTP 500']);
    expect(w.counts).toEqual({ sent: 1, failed: 1, dropped: 0, attempts: 4 });
    const flaky = await receiver((_b, n, res) => res.writeHead(n <= 2 ? 503 : 204).end());
    const w2 = new WebhookSink({ url: flaky.url, retries: 3, backoffMs: 10 });
    w2.deliver(ev('x'));
    expect(await w2.idle()).toBe(true);
    expect(w2.counts).toEqual({ sent: 1, failed: 0, dropped: 0, attempts: 3 });
    await Promise.all([w.close(), w2.close()]);
  });

  it('an attempt without an answer ends at timeoutMs', async () => {
    const r = await receiver(() => { /* never answers */ });
    const failures: string[] = [];
    const w = new WebhookSink({ url: r.url, retries: 0, timeoutMs: 200 }, (_u, _e, why) => failures.push(why));
    w.deliver(ev('slow'));
    expect(await w.idle(10_000)).toBe(true);
    expect(failures).toEqual(['no answer within 200 ms']);
    expect(w.counts).toMatchObject({ sent: 0, failed: 1 });
    await w.close();
  });

  it('keeps at most queueMax events waiting (oldest dropped), never the one in flight; close() drops the rest', async () => {
    let release: (() => void) | null = null;
    const r = await receiver((_b, n, res) => {
      if (n === 1) release = () => res.writeHead(200).end(); else res.writeHead(200).end();
    });
    const w = new WebhookSink({ url: r.url, queueMax: 3 });
    for (let i = 0; i < 10; i++) w.deliver(ev(`e${i}`));
    expect(w.pending).toBe(3);
    expect(w.counts.dropped).toBe(6);
    for (let i = 0; i < 200 && release === null; i++) await new Promise((x) => setTimeout(x, 10));
    release!();
    expect(await w.idle()).toBe(true);
    expect(r.got.map((g) => g.alert.rule)).toEqual(['e0', 'e7', 'e8', 'e9']);
    expect(w.counts).toEqual({ sent: 4, failed: 0, dropped: 6, attempts: 4 });

    const down = new WebhookSink({ url: 'http://127.0.0.1:1/hook', retries: 5, backoffMs: 60_000 });
    down.deliver(ev('a'));
    down.deliver(ev('b'));
    await new Promise((x) => setTimeout(x, 100)); // the first attempt fails (connection refused); a 60 s backoff starts
    await down.close(); // ends the backoff at once
    expect(down.counts).toMatchObject({ sent: 0, failed: 1, dropped: 1 });
    await w.close();
  });
});
