import { existsSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * Remembers what of a data directory exists before a start, so that a start that fails (a port in use, a bad
 * option found late) can remove what it created: the directory and any missing parents when none existed,
 * the files put in it when it was empty. A directory that already held anything is left alone.
 */
export function watchDataDirCreation(dataDir: string): { undo(): void } {
  const dir = resolve(dataDir);
  if (!existsSync(dir)) {
    let topmostMissing = dir;
    while (!existsSync(dirname(topmostMissing)) && dirname(topmostMissing) !== topmostMissing) topmostMissing = dirname(topmostMissing);
    return { undo: () => rmSync(topmostMissing, { recursive: true, force: true }) };
  }
  if (readdirSync(dir).length === 0) {
    return { undo: () => readdirSync(dir).forEach((name) => rmSync(join(dir, name), { recursive: true, force: true })) };
  }
  return { undo: () => {} };
}
