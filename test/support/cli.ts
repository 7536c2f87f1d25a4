import { join } from 'node:path';
import { ROOT } from '../../src/abi/gen.js';

/** The built CLI (`npm run build`). */
export const CLI = join(ROOT, 'build/dist/cli/main.js');
