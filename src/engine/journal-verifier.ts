/**
 * Wires the journal-verification role of the WASM module into src/journal/verify.ts, which never
 * imports engine/ (STYLE §1: journal/ stores and checks bytes; only engine/ touches wasm).
 *
 * Owns: nothing but the call. Invariants: idempotent; the instance is created lazily, on the
 * first verification, exactly as before the split. Every process or thread that reads journals
 * calls `useWasmJournalVerifier()` once at start (engine worker, gateway, storage writer worker,
 * cli backfill, cqrs journal reader); without it journal/verify.ts runs its JavaScript twin.
 * Allocation: none here (the 4 MiB window on first use, in journal/verify.ts).
 */
import { setVerifyKernel } from '../journal/verify.js';
import { instantiateJournalVerify } from './wasm.js';

/** Installs the WASM journal-verification kernel (lazy; falls back to JS if the module is not built). */
export function useWasmJournalVerifier(): void {
  setVerifyKernel(instantiateJournalVerify);
}
