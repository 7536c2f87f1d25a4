/**
 * CQRS query side and sagas (docs/cqrs.md): the one event shape for journal and ring, the read
 * models (orders, fills, positions), subscriptions (catch-up then live, per-account resume) and
 * the saga manager with its durable log.
 *
 * Owns: the public surface of src/cqrs/. Layout/Invariants/Complexity/Allocation: see each module.
 * Known limitations: none beyond the modules'.
 */
export * from './events.js';
export * from './projection.js';
export * from './orders.js';
export * from './fills.js';
export * from './positions.js';
export * from './read-models.js';
export * from './journal-reader.js';
export * from './reports.js';
export * from './subscriptions.js';
export * from './clock.js';
export * from './saga-log.js';
export * from './pairs-saga.js';
