/** The JSON client protocol parser: every op, strict types, unknown and missing fields, sizes. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtocolError, errorFrame, parseClientMessage } from '../../src/codec/json-protocol.js';

const code = (text: string): string => {
  try { parseClientMessage(text); return 'ok'; } catch (e) { return (e as ProtocolError).code; }
};

describe('JSON client protocol', () => {
  it('accepts every op of DESIGN in its exact form', () => {
    const sig = 'a'.repeat(64);
    expect(parseClientMessage(`{"op":"auth","key":"tk_1","ts":1700000000000,"sig":"${sig}","reqId":1}`)).toMatchObject({ op: 'auth', reqId: 1 });
    expect(parseClientMessage('{"op":"subscribe","channels":["book.BTC-USD","trades.BTC-USD","ticker.ETH-USD"]}')).toMatchObject({ op: 'subscribe' });
    expect(parseClientMessage('{"op":"order","clientOrderId":"c-1","symbol":"BTC-USD","side":"buy","type":"limit","tif":"gtc","price":"101.5","qty":"0.25","reqId":"r1"}')).toMatchObject({ op: 'order', price: '101.5' });
    expect(parseClientMessage('{"op":"order","clientOrderId":"c-2","symbol":"BTC-USD","side":"sell","type":"market","tif":"ioc","qty":"1"}')).toMatchObject({ type: 'market' });
    expect(parseClientMessage('{"op":"cancel","clientOrderId":"c-1"}')).toMatchObject({ op: 'cancel' });
    expect(parseClientMessage('{"op":"cancel","orderId":"12345"}')).toMatchObject({ orderId: '12345' });
    expect(parseClientMessage('{"op":"modify","clientOrderId":"c-1","price":"101","qty":"0.5"}')).toMatchObject({ op: 'modify' });
    expect(parseClientMessage('{"op":"ping"}')).toEqual({ op: 'ping' });
  });

  it('refuses coercion, unknown and missing fields, and bad values with stable codes', () => {
    expect(code('{"op":"order","clientOrderId":"c","symbol":"X","side":"buy","type":"limit","tif":"gtc","price":101.5,"qty":"1"}')).toBe('bad_field');
    expect(code('{"op":"order","clientOrderId":"c","symbol":"X","side":"buy","type":"limit","tif":"gtc","price":"1e3","qty":"1"}')).toBe('bad_field');
    expect(code('{"op":"order","clientOrderId":"c","symbol":"X","side":"BUY","type":"limit","tif":"gtc","price":"1","qty":"1"}')).toBe('bad_field');
    expect(code('{"op":"order","clientOrderId":"c","symbol":"X","side":"buy","type":"limit","tif":"gtc","qty":"1"}')).toBe('missing_field');
    expect(code('{"op":"order","clientOrderId":"c","symbol":"X","side":"buy","type":"market","tif":"gtc","price":"1","qty":"1"}')).toBe('unknown_field');
    expect(code('{"op":"order","clientOrderId":"c","symbol":"X","side":"buy","type":"limit","tif":"gtc","price":"1","qty":"1","extra":true}')).toBe('unknown_field');
    expect(code('{"op":"cancel"}')).toBe('missing_field');
    expect(code('{"op":"cancel","clientOrderId":"a","orderId":"1"}')).toBe('missing_field');
    expect(code('{"op":"cancel","orderId":"0"}')).toBe('bad_field');
    expect(code('{"op":"auth","key":"k","ts":"1","sig":"x"}')).toBe('bad_field');
    expect(code('{"op":"subscribe","channels":["orders.X"]}')).toBe('bad_field');
    expect(code('{"op":"subscribe","channels":[]}')).toBe('bad_field');
    expect(code('{"op":"fly"}')).toBe('bad_op');
    expect(code('[1,2]')).toBe('bad_json');
    expect(code('{"op":')).toBe('bad_json');
    expect(code('{"op":"ping","reqId":{"a":1}}')).toBe('bad_field');
    expect(code(' '.repeat(5000))).toBe('too_large');
  });

  it('echoes reqId in error frames', () => {
    try { parseClientMessage('{"op":"order","reqId":"r9"}'); } catch (e) {
      expect(JSON.parse(errorFrame(e as ProtocolError))).toEqual({ type: 'error', code: 'missing_field', message: 'op order needs "clientOrderId"', reqId: 'r9' });
    }
  });

  it('never throws anything but ProtocolError on arbitrary input (property)', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json()), (t) => {
      try { parseClientMessage(t); } catch (e) { expect(e).toBeInstanceOf(ProtocolError); }
    }), { seed: 8, numRuns: 2000 });
  });
});
