/**
 * The dependency rule of STYLE §1 / docs/architecture.md, as far as it holds today (issue 13,
 * first step). Checked by test/unit/architecture.test.ts, so `npm test` fails on a violation;
 * by hand: `npx depcruise src --config .dependency-cruiser.cjs`.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'wasm-only-in-engine',
      comment:
        'Only src/engine/ touches WebAssembly: nothing outside it imports build/wasm, a .wasm file or the loader ' +
        '(src/engine/wasm.ts). The one exception is the statistics role (src/stats/wasm.ts, which takes its typed ' +
        'instance from instantiateStats); journal verification gets its instance injected (src/engine/journal-verifier.ts); ' +
        'other code uses the public surface src/engine/index.ts.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/engine/', '^src/stats/wasm\\.ts$'] },
      to: { path: ['^build/wasm', '\\.wasm$', '^src/engine/wasm\\.ts$'] },
    },
    {
      name: 'wasm-files-only-through-the-loader',
      comment: 'Even inside src/, no module reads the .wasm build output by import: src/engine/wasm.ts loads it.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: ['^build/', '\\.wasm$'] },
    },
    {
      name: 'journal-not-to-engine',
      comment: 'journal/ stores and checks bytes and never drives an Engine (recovery and snapshots are in src/engine/recovery.ts).',
      severity: 'error',
      from: { path: '^src/journal/' },
      to: { path: '^src/engine/' },
    },
    {
      name: 'client-isolated',
      comment: 'client/ (core/ browser-safe, node/ the ws transport) never imports the engine, the gateway, storage or the journal.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: '^src/(engine|gateway|storage|journal)/' },
    },
    {
      name: 'client-core-no-node-builtins',
      comment: 'client/core/ runs in a browser (the dashboard): it imports no Node builtin (node:crypto, node:events, ...). ' +
        'Signing is injected (client/core/sign.ts: WebCrypto or node:crypto from client/node); transports live in client/node/.',
      severity: 'error',
      from: { path: '^src/client/core/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'client-core-no-packages',
      comment: 'client/core/ imports no npm package (no `ws`: the WebSocket transport is client/node/).',
      severity: 'error',
      from: { path: '^src/client/core/' },
      to: { path: 'node_modules' },
    },
    {
      name: 'client-core-browser-safe-closure',
      comment: 'Everything client/core/ reaches, directly or not, is in the browser-safe set: client/core itself, the binary ' +
        'protocol codec (codec/binary-*), domain/instruments + domain/errors, sys/crc32 and abi/records. Nothing of ' +
        'client/node/, engine/, gateway/ or any module that may use Node. To widen the set, check the module is browser-safe ' +
        '(test/unit/client-core-browser.test.ts bundles core for the browser) and add it here and to the rule below.',
      severity: 'error',
      from: { path: '^src/client/core/' },
      to: {
        path: '^src/',
        pathNot: '^src/(client/core/|codec/binary-[a-z-]+\\.ts$|domain/(instruments|errors)\\.ts$|sys/crc32\\.ts$|abi/records\\.ts$)',
        reachable: true,
      },
    },
    {
      name: 'browser-safe-set-stays-safe',
      comment: 'The modules client/core/ may reach (rule above) import no Node builtin and no npm package either.',
      severity: 'error',
      from: { path: '^src/(codec/binary-[a-z-]+\\.ts$|domain/(instruments|errors)\\.ts$|sys/crc32\\.ts$|abi/records\\.ts$)' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'dashboard-browser-only',
      comment: 'src/dashboard/ is the browser page (STYLE §1): it imports client/core/ (browser-safe, with its closure above) and ' +
        'its chart libraries, never a Node builtin or a node-only module of src/ (gateway, engine, storage, client/node, …). ' +
        'Its build script (src/dashboard/build.mjs) runs in Node and is exempt.',
      severity: 'error',
      from: { path: '^src/dashboard/', pathNot: '^src/dashboard/build\\.mjs$' },
      to: { path: '^src/', pathNot: '^src/(dashboard/|client/core/|codec/binary-[a-z-]+\\.ts$|domain/(instruments|errors)\\.ts$|sys/crc32\\.ts$|abi/records\\.ts$)' },
    },
    {
      name: 'dashboard-no-node-builtins',
      comment: 'src/dashboard/ runs in a browser: no Node builtin (node:fs, node:crypto, …); its npm imports are browser libraries (uPlot, lightweight-charts).',
      severity: 'error',
      from: { path: '^src/dashboard/', pathNot: '^src/dashboard/build\\.mjs$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'nothing-imports-the-dashboard',
      comment: 'The page is served as built files (src/gateway/http/dashboard.ts reads build/dashboard/); no module of src/ imports src/dashboard/.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/dashboard/' },
      to: { path: '^src/dashboard/' },
    },
    {
      name: 'sys-is-a-leaf',
      comment: 'sys/ (threads, CRCs) imports nothing of src/ but domain/ (its errors), so no folder cycle can go through it.',
      severity: 'error',
      from: { path: '^src/sys/' },
      to: { path: '^src/', pathNot: '^src/(sys|domain)/' },
    },
    {
      name: 'no-engine-utilities-elsewhere',
      comment: 'storage/, journal/, client/ and marketdata/ take threads and CRCs from sys/, not engine/ (writer-worker and its ' +
        'siblings may still install the journal-verify kernel: src/engine/journal-verifier.ts).',
      severity: 'error',
      from: { path: '^src/(storage|journal|client|marketdata)/' },
      to: { path: '^src/engine/', pathNot: '^src/engine/journal-verifier\\.ts$' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycle through the folders this step untangled (engine, journal, sys, client, stats, marketdata, gateway) or the app.',
      severity: 'error',
      from: { path: ['^src/(engine|journal|sys|client|stats|marketdata|gateway)/', '^src/(app|main)\\.ts$'] },
      to: { circular: true },
    },
    {
      name: 'abi-is-a-leaf',
      comment: 'src/abi/ (the record definitions, their generator and views.ts, the one reader of EVT and RING_EVT records) ' +
        'imports nothing else of src/, so every layer can read records through it. "Only src/abi reads record offsets" is a ' +
        'rule about names (EVT_OFF, RING_EVT_OFF), not imports, which dependency-cruiser cannot state: ' +
        'test/abi/views.test.ts scans src/ for it instead.',
      severity: 'error',
      from: { path: '^src/abi/' },
      to: { path: '^src/', pathNot: '^src/abi/' },
    },
    {
      name: 'gateway-services-not-to-plugins',
      comment: 'Gateway services (src/gateway/*.ts: order entry, connections, market data, event pump, catch-up, …) never ' +
        'import the fastify plugins (src/gateway/http/) or the WebSocket handlers (src/gateway/ws/): plugins → services → ' +
        'engine host. Only the composition (compose.ts) and the facade (gateway.ts) see both sides.',
      severity: 'error',
      from: { path: '^src/gateway/[^/]+\\.ts$', pathNot: '^src/gateway/(compose|gateway)\\.ts$' },
      to: { path: '^src/gateway/(http|ws)/' },
    },
    {
      name: 'gateway-no-climbing',
      comment: 'Nothing in src/gateway/ but the facade imports the composition, and nothing there imports the facade, ' +
        'src/app.ts or src/main.ts: a call goes down the layers and never back up to gateway.ts.',
      severity: 'error',
      from: { path: '^src/gateway/', pathNot: '^src/gateway/gateway\\.ts$' },
      to: { path: ['^src/gateway/(gateway|compose)\\.ts$', '^src/(app|main)\\.ts$'] },
    },
    {
      name: 'gateway-plugins-through-services',
      comment: 'The fastify plugins and WebSocket handlers reach the engine through the services (OrderEntry, EventPump, …), ' +
        'never by importing src/engine/ themselves (a type in a service interface is fine).',
      severity: 'error',
      from: { path: '^src/gateway/(http|ws)/' },
      to: { path: '^src/engine/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'gateway-http-ws-apart',
      comment: 'HTTP plugins and WebSocket handlers are separate contexts: neither imports the other.',
      severity: 'error',
      from: { path: '^src/gateway/http/' },
      to: { path: '^src/gateway/ws/' },
    },
    {
      name: 'gateway-ws-http-apart',
      comment: 'HTTP plugins and WebSocket handlers are separate contexts: neither imports the other.',
      severity: 'error',
      from: { path: '^src/gateway/ws/' },
      to: { path: '^src/gateway/http/' },
    },
    {
      name: 'src-not-to-test-reference',
      comment: 'The test oracles in test/reference/ are never imported by src/ (STYLE §6).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve would hide a dependency from every rule above.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
  },
};
