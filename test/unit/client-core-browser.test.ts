/**
 * client/core is browser-safe (issue 13): esbuild bundles src/client/core/index.ts for
 * `platform: 'browser'` (a Node builtin or `ws` anywhere in its imports fails the build), the
 * bundle names no Node module, and it runs in a bare V8 context without Node's globals (no
 * Buffer, process or require; only what a browser has: TextEncoder/Decoder, URL, WebCrypto,
 * timers): a session over the binary codec subscribes a local book, applies a snapshot and a
 * checksummed delta, notices a gap and resubscribes, and the WebCrypto signer gives node:crypto's
 * HMAC. The import rule itself is .dependency-cruiser.cjs (client-core-*), run by architecture.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { createHmac } from 'node:crypto';
import { runInContext, createContext } from 'node:vm';
import { join } from 'node:path';
import { ROOT } from '../../src/abi/gen.js';
import { BinaryWriter, Channel, decodeFrame } from '../../src/codec/binary-protocol.js';
import { crc32 } from '../../src/sys/crc32.js';

async function bundle(): Promise<{ code: string; inputs: string[] }> {
  const r = await build({
    entryPoints: [join(ROOT, 'src/client/core/index.ts')], bundle: true, platform: 'browser', format: 'iife',
    globalName: 'TradsysCore', write: false, metafile: true, logLevel: 'silent', target: 'es2022',
  });
  return { code: r.outputFiles[0]!.text, inputs: Object.keys(r.metafile.inputs) };
}

/** A context with a browser's non-ECMAScript globals and nothing of Node's. */
function browserLike(): Record<string, unknown> {
  return createContext({ TextEncoder, TextDecoder, URL, crypto: globalThis.crypto, queueMicrotask, setTimeout, clearTimeout, console });
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('client/core in a browser', () => {
  it('bundles for platform browser with no Node module in its inputs', async () => {
    const { code, inputs } = await bundle();
    expect(inputs.length).toBeGreaterThan(5);
    expect(inputs.every((i) => i.startsWith('src/'))).toBe(true);
    expect(inputs.filter((i) => /client\/node|engine\/|gateway\//.test(i))).toEqual([]);
    expect(code).not.toMatch(/\brequire\(|["']node:|from ["']ws["']/);
  });

  it('keeps a local book from binary frames, resyncs on a gap, and signs like node:crypto, without Node globals', async () => {
    const { code } = await bundle();
    const ctx = browserLike();
    runInContext(code, ctx);
    expect(runInContext('typeof Buffer + typeof process + typeof require', ctx)).toBe('undefinedundefinedundefined');
    const core = ctx.TradsysCore as typeof import('../../src/client/core/index.js');

    const sent: Uint8Array[] = [];
    const delivered: string[] = [];
    const aapl = new core.Instrument(3, { symbol: 'AAPL', tickSize: '0.01', lotSize: '1' });
    const codec = new core.BinaryCodec((f) => sent.push(f), Object.assign([], { 3: aapl }));
    const s = new core.ClientSession(codec, (m) => delivered.push(m.type), 1000);
    const book = s.book('AAPL');
    await tick();
    expect(sent).toHaveLength(1);
    expect(decodeFrame(sent[0]!, 'client')).toEqual([{ kind: 'subscribe', reqId: 0, instrument: 3, channels: Channel.BOOK }]);

    const w = new BinaryWriter();
    const text = (bids: string[][], asks: string[][]): string => `${bids.map(([p, q]) => `${p}:${q}`).join(',')}|${asks.map(([p, q]) => `${p}:${q}`).join(',')}`;
    w.book(0, 3, 10, [[18900, 5], [18800, 2]], [[19100, 4]]);
    s.onData(w.takeBytes()!);
    expect(book.synced).toBe(true);
    expect(book.levels('bids')).toEqual([['189.00', '5'], ['188.00', '2']]);
    // a delta with the server's checksum (CRC-32 of the ASCII top-10 text, as src/marketdata computes it)
    const sum = crc32(Buffer.from(text([['189.00', '5']], [['190.50', '1'], ['191.00', '4']]), 'ascii'));
    w.bookDelta(0, 3, 11, 11, sum, [[18800, 0]], [[19050, 1]]);
    s.onData(w.takeBytes()!);
    expect([book.synced, book.seq, book.resyncs]).toEqual([true, 11, 0]);
    expect(book.checksum()).toBe(sum);
    expect(book.levels('asks')).toEqual([['190.50', '1'], ['191.00', '4']]);
    // a wrong checksum and a gap each make it resubscribe (unsubscribe + subscribe in one frame)
    w.bookDelta(0, 3, 12, 12, (sum + 1) >>> 0, [], [[19050, 0]]);
    s.onData(w.takeBytes()!);
    expect([book.synced, book.resyncs]).toEqual([false, 1]);
    await tick();
    expect(decodeFrame(sent[1]!, 'client').map((m) => m.kind)).toEqual(['unsubscribe', 'subscribe']);
    w.book(0, 3, 20, [[18900, 5]], []);
    s.onData(w.takeBytes()!);
    w.bookDelta(0, 3, 22, 22, 0, [], []);
    s.onData(w.takeBytes()!);
    expect([book.synced, book.resyncs]).toEqual([false, 2]);
    expect(delivered).toEqual(['book', 'bookDelta', 'bookDelta', 'book', 'bookDelta']);
    delivered.length = 0;

    // dropping the book unsubscribes its channel; later book messages of the symbol touch nothing
    s.dropBook('AAPL');
    s.dropBook('AAPL'); // a second drop sends nothing
    await tick();
    const last = decodeFrame(sent[sent.length - 1]!, 'client'); // after the gap's resubscribe, in the same tick
    expect(last.at(-1)).toEqual({ kind: 'unsubscribe', reqId: 0, instrument: 3, channels: Channel.BOOK });
    expect(last.filter((m) => m.kind === 'unsubscribe')).toHaveLength(2);
    const frames = sent.length;
    w.book(0, 3, 30, [[18000, 1]], []);
    s.onData(w.takeBytes()!);
    expect(book.seq).toBe(20);
    expect(sent.length).toBe(frames);

    // an order that has no binary form is refused before anything is sent
    await expect(s.order({ clientOrderId: 'abc', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '189', qty: '1' })).rejects.toThrow(/decimal integer/);

    const sig = await core.webCryptoSigner('s3cret', core.authPayload('key-1', 1700000000000));
    expect(sig).toBe(createHmac('sha256', 's3cret').update('key-11700000000000').digest('hex'));
  });
});
