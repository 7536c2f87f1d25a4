/**
 * Heartbeat reaping under fake time (vitest fakes setInterval and Date only; sockets are real,
 * on loopback): the gateway pings every pingIntervalMs and closes a peer that has sent nothing and
 * answered no ping for deadAfterMs. A silent peer is still open at 59.999 s and closed at 60 s; a
 * peer that answers pings is kept. Checked with the defaults (20 s / 60 s) and with 1 s ticks, so
 * that a check runs at 59 s too.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Gateway } from '../../src/gateway/gateway.js';
import { WsClient, sleep } from '../support/gateway-client.js';

type Peek = { conns: Map<number, { lastSeen: number }> };

/** Polls (real time, bounded) until `cond` holds. */
async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

let gw: Gateway | null = null;
afterEach(async () => {
  await gw?.close();
  gw = null;
  vi.useRealTimers();
});

async function setUp(cfg: { pingIntervalMs?: number; deadAfterMs?: number }): Promise<{ silent: WebSocket; ponging: WsClient; t0: number; conns: Peek['conns'] }> {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  const t0 = Date.now();
  gw = await Gateway.build({ dataDir: mkdtempSync(join(tmpdir(), 'gwh-')), capacity: 1000, ...cfg });
  const url = (await gw.listen(0)).replace('http', 'ws') + '/ws';
  const silent = new WebSocket(url, { autoPong: false });
  await new Promise((r, j) => { silent.once('open', r); silent.once('error', j); });
  const ponging = await WsClient.open(url);
  const conns = (gw as unknown as Peek).conns;
  await until(() => conns.size === 2, 'both connections');
  expect([...conns.values()].map((c) => c.lastSeen)).toEqual([t0, t0]); // fake time has not moved
  return { silent, ponging, t0, conns };
}

/** Advances fake time by `ms`; if a heartbeat ran, waits until the ponging peer's pong is in. */
async function advance(ms: number, conns: Peek['conns'], pongExpected: boolean): Promise<void> {
  vi.advanceTimersByTime(ms);
  const now = Date.now();
  if (pongExpected) await until(() => [...conns.values()].some((c) => c.lastSeen === now), 'the pong');
}

describe('heartbeat reaping (fake time)', () => {
  it('defaults (ping 20 s, dead after 60 s): a silent peer is open at 59.999 s and closed at 60 s; a ponging peer stays', async () => {
    const { silent, ponging, t0, conns } = await setUp({});
    const closed = new Promise<number>((r) => silent.once('close', (code) => r(code)));
    let silentPinged = 0;
    silent.on('ping', () => { silentPinged++; });
    await advance(20_000, conns, true);
    await advance(20_000, conns, true);
    await advance(19_999, conns, false);
    await sleep(30);
    expect(Date.now() - t0).toBe(59_999);
    expect(silent.readyState).toBe(WebSocket.OPEN);
    expect(conns.size).toBe(2);
    expect(gw!.counters.reaped).toBe(0);
    await advance(1, conns, true);
    expect(await Promise.race([closed, sleep(3000).then(() => -1)])).toBe(1006); // terminated, no close handshake
    expect(gw!.counters.reaped).toBe(1);
    expect(silentPinged).toBe(2); // it was pinged at 20 s and 40 s and never answered
    for (let i = 0; i < 4; i++) await advance(20_000, conns, true);
    expect(Date.now() - t0).toBe(140_000);
    expect(ponging.ws.readyState).toBe(WebSocket.OPEN);
    expect(conns.size).toBe(1);
    ponging.close();
  });

  it('with 1 s ticks the check at 59 s keeps the silent peer and the one at 60 s closes it', async () => {
    const { silent, ponging, t0, conns } = await setUp({ pingIntervalMs: 1000, deadAfterMs: 60_000 });
    const closed = new Promise<number>((r) => silent.once('close', (code) => r(code)));
    for (let s = 1; s <= 59; s++) await advance(1000, conns, true);
    await sleep(30);
    expect(Date.now() - t0).toBe(59_000);
    expect(silent.readyState).toBe(WebSocket.OPEN);
    expect(gw!.counters.reaped).toBe(0);
    await advance(1000, conns, true);
    expect(await Promise.race([closed, sleep(3000).then(() => -1)])).toBe(1006);
    expect(gw!.counters.reaped).toBe(1);
    expect(ponging.ws.readyState).toBe(WebSocket.OPEN);
    ponging.close();
  });

  it('any message counts as a sign of life, not only pongs', async () => {
    const { silent, ponging, conns } = await setUp({});
    silent.close();
    await until(() => conns.size === 1, 'the silent peer gone');
    // a peer that does not answer pings but sends a message every 30 s is kept
    const chatty = new WebSocket(`ws://127.0.0.1:${(gw!.app.server.address() as { port: number }).port}/ws`, { autoPong: false });
    await new Promise((r) => chatty.once('open', r));
    await until(() => conns.size === 2, 'the chatty peer');
    for (let i = 0; i < 6; i++) {
      vi.advanceTimersByTime(10_000);
      const now = Date.now();
      if (i % 3 === 2) { chatty.send('{"op":"ping"}'); await until(() => [...conns.values()].filter((c) => c.lastSeen === now).length >= 1, 'the message'); }
      await sleep(5);
    }
    expect(chatty.readyState).toBe(WebSocket.OPEN);
    expect(gw!.counters.reaped).toBe(0);
    chatty.close();
    ponging.close();
  });
});
