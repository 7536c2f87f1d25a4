/**
 * `tradsys backfill [--data DIR] [--from SEQ] [--quiet]`: re-exports the journal into ClickHouse
 * (the embedded store in `<DIR>/clickhouse`, or the server of CLICKHOUSE_URL) through the storage
 * writer's own path, exactly once per seq: records at or below the tables' checkpoint are skipped,
 * so it can be run any number of times. Progress on stderr once a second.
 *
 * Layout: journal records → RING_EVT slots → WriterCore batches → inserts. Invariants: never run
 * it while a server uses the same data directory (the journal LOCK is checked).
 * Complexity: O(records). Allocation: one slot buffer; the writer's batches.
 * Known limitations: timestamps come from the journal's engine clock (CLOCK_MONOTONIC) with an
 * epoch offset measured now, so records from before the last reboot get approximate times.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { RING_EVT_SIZE } from '../abi/records.js';
import { journalEventToSlot } from '../abi/views.js';
import { TradsysError } from '../domain/errors.js';
import { DEMO_INSTRUMENTS, loadInstruments, type InstrumentSpec } from '../domain/instruments.js';
import { lockJournal } from '../journal/index.js';
import { recover, readRecords } from '../journal/recovery.js';
import { useWasmJournalVerifier } from '../engine/journal-verifier.js';
import { openStorage } from '../storage/open.js';
import { WriterCore } from '../storage/writer-core.js';

export async function cmdBackfill(argv: string[]): Promise<number> {
  useWasmJournalVerifier();
  let data = 'data';
  let from: bigint | null = null;
  let quiet = false;
  let instrumentsFile: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => { const x = argv[++i]; if (x === undefined) throw new TradsysError('ERR_CLI_USAGE', `${a} needs a value`); return x; };
    if (a === '--data') data = v();
    else if (a === '--from') { const t = v(); if (!/^\d{1,19}$/.test(t)) throw new TradsysError('ERR_CLI_USAGE', '--from must be a seq (integer ≥ 0)'); from = BigInt(t); }
    else if (a === '--instruments') instrumentsFile = v();
    else if (a === '--quiet') quiet = true;
    else throw new TradsysError('ERR_CLI_USAGE', `unknown option ${a} (tradsys backfill [--data DIR] [--from SEQ] [--instruments FILE.json] [--quiet])`);
  }
  const dir = join(data, 'journal');
  if (!fs.existsSync(dir)) throw new TradsysError('ERR_CLI_USAGE', `no journal in ${dir} (start the server with --data ${data} first)`);
  const specs = instrumentsFile ? JSON.parse(fs.readFileSync(instrumentsFile, 'utf8')) as InstrumentSpec[] : DEMO_INSTRUMENTS;
  const instruments = loadInstruments(specs);
  const unlock = lockJournal(dir);
  const log = (m: string): void => { if (!quiet) process.stderr.write(m + '\n'); };
  try {
    const rec = recover(dir, { repair: false, log });
    const storage = await openStorage(data);
    try {
      const core = new WriterCore(storage, {
        symbols: instruments.map((i) => i.symbol), dataDir: data,
        sizes: instruments.map((i) => ({ tickSize: i.toJSON().tickSize as string, lotSize: i.toJSON().lotSize as string })),
      });
      await core.start();
      const start = from ?? (core.checkpoint.get('order_events') ?? 0n) + 1n;
      log(`backfill: journal ${dir} through seq ${rec.lastSeq}; ClickHouse ${storage.backend} ${storage.features?.version ?? ''} has through ${start - 1n}`);
      const POLL = 8192;
      const buf = new Uint8Array(RING_EVT_SIZE * POLL);
      const dv = new DataView(buf.buffer);
      let n = 0;
      let records = 0;
      let lastLog = Date.now();
      const t0 = Date.now();
      const flush = async (all: boolean): Promise<void> => {
        if (n > 0) { core.ingest(buf, n); n = 0; }
        core.seal(Date.now(), all);
        while (core.pending > (all ? 0 : 8)) {
          const wrote = await core.flushOne(Date.now());
          if (!wrote) {
            if (core.lastError) throw new TradsysError('ERR_STORAGE_UNAVAILABLE', `ClickHouse refused a batch: ${core.lastError}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      };
      for (const r of readRecords(dir, start, rec.lastSeq, true)) {
        for (let e = 0; e < r.nEvents; e++) {
          journalEventToSlot(r, e, buf, dv, n * RING_EVT_SIZE, true);
          if (++n === POLL) await flush(false);
        }
        records++;
        if (Date.now() - lastLog >= 1000) {
          lastLog = Date.now();
          log(`backfill: seq ${r.seq} of ${rec.lastSeq} (${records.toLocaleString('en-US')} records, ${core.counters.rowsWritten.toLocaleString('en-US')} rows written)`);
        }
      }
      await flush(true);
      const s = (Date.now() - t0) / 1000;
      process.stdout.write(`backfilled ${records.toLocaleString('en-US')} journal records (seq ${start}..${rec.lastSeq}) into ClickHouse: ${core.counters.rowsWritten.toLocaleString('en-US')} rows in ${s.toFixed(1)} s\n`);
    } finally {
      await storage.close();
    }
  } finally {
    unlock();
  }
  return 0;
}
