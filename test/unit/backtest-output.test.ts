/**
 * The backtest's outputs: the resultHash (canonical serialization: stable, order-sensitive,
 * independent of object key order) and the equity SVG (well-formed XML, escaped text, bounded
 * vertex count, the same bytes for the same points).
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { canonicalJson, ordersFillsHash, resultHash } from '../../src/strategies/backtest/hash.js';
import { MAX_POINTS, equitySvg } from '../../src/strategies/backtest/svg.js';
import type { FillRow, OrderRow } from '../../src/strategies/backtest/report.js';

const orders: OrderRow[] = [
  { seq: 3, tsNs: 1e18, op: 1, side: 0, type: 0, tif: 0, symbol: 1, id: 2 ** 52 + 1, price: 101, qty: 10 },
  { seq: 9, tsNs: 2e18, op: 2, side: 0, type: 0, tif: 0, symbol: 1, id: 2 ** 52 + 1, price: 0, qty: 0 },
];
const fills: FillRow[] = [{ seq: 3, tsNs: 1e18, tradeId: 5, orderId: 2 ** 52 + 1, symbol: 1, side: 0, price: 101, qty: 4, liquidity: 'taker', fee: 0.808 }];

describe('resultHash', () => {
  it('is SHA-256 of the documented canonical text', () => {
    const text = 'tradsys-backtest-v1\n'
      + `O,3,1,0,0,0,1,${2 ** 52 + 1},101,10\nO,9,2,0,0,0,1,${2 ** 52 + 1},0,0\n`
      + `F,3,5,${2 ** 52 + 1},1,0,101,4,t,0.808\n`
      + 'S,{"a":1,"b":{"c":null,"d":[2,1]}}\n';
    expect(resultHash(orders, fills, { b: { d: [2, 1], c: null }, a: 1 })).toBe(createHash('sha256').update(text).digest('hex'));
    expect(ordersFillsHash(orders, fills)).toBe(createHash('sha256').update(text.slice(0, text.lastIndexOf('S,'))).digest('hex'));
  });
  it('does not depend on key order, does depend on every row and on times only through seq', () => {
    const h = resultHash(orders, fills, { x: 1, y: 2 });
    expect(resultHash(orders, fills, { y: 2, x: 1 })).toBe(h);
    expect(resultHash([orders[1]!, orders[0]!], fills, { x: 1, y: 2 })).not.toBe(h);
    expect(resultHash(orders, [{ ...fills[0]!, qty: 5 }], { x: 1, y: 2 })).not.toBe(h);
    expect(resultHash(orders, fills, { x: 1, y: 2.0000001 })).not.toBe(h);
    expect(resultHash(orders.map((o) => ({ ...o, tsNs: o.tsNs + 1e9 })), fills, { x: 1, y: 2 })).toBe(h);
  });
  it('canonical JSON: sorted keys, NaN and ±∞ as null, undefined keys dropped', () => {
    expect(canonicalJson({ b: Number.NaN, a: [Number.POSITIVE_INFINITY, 'x'], c: undefined })).toBe('{"a":[null,"x"],"b":null}');
  });
});

describe('equity SVG', () => {
  const t0 = Date.UTC(2025, 0, 1);
  it('is well-formed XML with the polyline, escaped title and labels', () => {
    const pts = Array.from({ length: 50 }, (_, i) => ({ tMs: t0 + i * 1000, equity: Math.round(100 * Math.sin(i / 5)) }));
    const svg = equitySvg(pts, 'pairs <A&B> "z"');
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(svg) as { svg: { title: string; polyline: { '@_points': string } } };
    expect(doc.svg.title).toBe('pairs <A&B> "z"'); // the parser decodes what equitySvg escaped
    expect(svg).toContain('<title>pairs &lt;A&amp;B&gt; &quot;z&quot;</title>');
    expect(doc.svg.polyline['@_points'].split(' ')).toHaveLength(50);
    expect(equitySvg(pts, 'pairs <A&B> "z"')).toBe(svg);
  });
  it('empty and one-point curves are valid too', () => {
    expect(XMLValidator.validate(equitySvg([], 'none'))).toBe(true);
    expect(XMLValidator.validate(equitySvg([{ tMs: t0, equity: -5 }], 'one'))).toBe(true);
  });
  it('reduces long curves to min/max per pixel column without losing a spike', () => {
    const pts = Array.from({ length: 100_000 }, (_, i) => ({ tMs: t0 + i, equity: i === 54_321 ? 1e6 : i % 7 }));
    const svg = equitySvg(pts, 'long');
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(svg) as { svg: { polyline: { '@_points': string } } };
    const ys = doc.svg.polyline['@_points'].split(' ').map((p) => Number(p.split(',')[1]));
    expect(ys.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(Math.min(...ys)).toBe(40); // the spike is the top of the plot area
  });
});
