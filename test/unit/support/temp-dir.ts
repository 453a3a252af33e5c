import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LmdbStore } from "../../../src/storage/index.js";

/** A fresh empty directory under the OS temp directory. */
export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), "durable-entities-unit-"));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Opens real LMDB stores on temporary directories and closes and removes all of them on `dispose`. */
export class TempStores {
  private readonly open: LmdbStore[] = [];
  private readonly dirs: string[] = [];

  newDir(): string {
    const dir = makeTempDir();
    this.dirs.push(dir);
    return dir;
  }

  async openStore(path: string, partitionCount?: number): Promise<LmdbStore> {
    const store = await LmdbStore.open(partitionCount === undefined ? { path } : { path, partitionCount });
    this.open.push(store);
    return store;
  }

  /** Closes a store this helper opened (so the same directory can be opened again). */
  async closeStore(store: LmdbStore): Promise<void> {
    const index = this.open.indexOf(store);
    if (index < 0) return;
    this.open.splice(index, 1);
    await store.close();
  }

  async dispose(): Promise<void> {
    for (const store of this.open.splice(0)) await store.close();
    for (const dir of this.dirs.splice(0)) removeDir(dir);
  }
}
