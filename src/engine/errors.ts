/** Engine errors are catalog errors (src/domain/errors.ts); this alias keeps engine code short. */
export { TradsysError as EngineError } from '../domain/errors.js';
