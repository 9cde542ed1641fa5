/**
 * Where a built module (a worker thread's entry) is: next to the module asking (import.meta.url)
 * or, when that module runs from the TypeScript sources (tests), at the same place under dist/.
 * Null when neither exists (not built): the caller works without the thread.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function builtModule(from: string, file: string): URL | null {
  const here = new URL(`./${file}`, from);
  if (here.protocol !== 'file:') return null;
  if (existsSync(fileURLToPath(here))) return here;
  const m = /^(.*)[\\/]src((?:[\\/][^\\/]+)*)$/.exec(dirname(fileURLToPath(from)));
  if (m) {
    const built = join(m[1]!, 'dist', m[2]!, file);
    if (existsSync(built)) return pathToFileURL(built);
  }
  return null;
}
