// The repository root for the tools that read or write files of the checkout (bundle, device
// measurements, tests): the nearest folder above a starting point whose package.json is edgenn's.
// Works from the sources (vitest) and from build/ (after tsc) alike.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root: the nearest folder above `from` (default: this file's) whose package.json is edgenn's. */
export function findRepoRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'edgenn') return dir;
    } catch { /* not here */ }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no edgenn package.json above ${from}`);
    dir = up;
  }
}
