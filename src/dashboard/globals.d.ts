/** CSS imported by the bundle entry (esbuild emits it as app-<hash>.css). */
declare module '*.css';

/**
 * codec/binary-writer.ts (shared with the gateway) names Node's Buffer in `take()`, which only the
 * gateway calls (the page uses `takeBytes()`): the type is declared here so the dashboard is
 * checked without Node's types (no `process`, `require`, … in scope). The bundle test
 * (test/unit/client-core-browser.test.ts) proves no Node global is used at run time.
 */
type Buffer = Uint8Array;
declare const Buffer: { allocUnsafe(size: number): Uint8Array };
