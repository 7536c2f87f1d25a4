/**
 * Read-model persistence: the read models' snapshot in `<dataDir>` (docs/cqrs.md), loaded at start
 * (or rebuilt from the journal when it is unusable), saved every minute and at close.
 *
 * Layout: the file is cqrs readModelsFile(dataDir). Invariants: the journal stays the source of
 * truth: a snapshot that cannot be read or written only costs a longer catch-up. Complexity: O(read
 * model size) per save. Allocation: per save. Known limitations: a crash loses up to a minute of
 * snapshot progress (replayed from the journal at the next start).
 */
import { ReadModels, readModelsFile } from '../cqrs/index.js';

export class ReadModelStore {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly dataDir: string, private readonly log: (line: string) => void) {}

  /** The read models of the last snapshot (if any and sound), else empty ones; the journal catch-up brings them to the engine's seq. */
  load(clientOrderIdOf: (id: bigint) => string | undefined): ReadModels {
    const rm = new ReadModels({ clientOrderIdOf });
    try {
      rm.load(readModelsFile(this.dataDir));
      return rm;
    } catch (e) {
      this.log(`read models: ${(e as Error).message}; rebuilding them from the journal`);
      return new ReadModels({ clientOrderIdOf });
    }
  }

  save(rm: ReadModels): void {
    try {
      rm.save(readModelsFile(this.dataDir));
    } catch (e) {
      // the journal stays the source of truth: the next start catches up from an older checkpoint
      this.log(`read models: snapshot not saved (${(e as Error).message}); the next start replays more of the journal`);
    }
  }

  /** Saves `rm` every minute until stop(). */
  start(rm: ReadModels): void {
    this.timer = setInterval(() => this.save(rm), 60_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
