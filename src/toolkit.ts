/** Where the installed toolkit lives (for package.json, node_modules and bin/mlops.js). */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TOOLKIT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MLOPS_BIN = resolve(TOOLKIT_ROOT, 'bin', 'mlops.js');
