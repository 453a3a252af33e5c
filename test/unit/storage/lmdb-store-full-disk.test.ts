import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LmdbStore, StoreWriteError } from "../../../src/storage/index.js";
import { fillFileSystem, mountSmallFileSystem, whyCannotMount, type SmallFileSystem } from "../../support/small-file-system.js";

/*
 * At the store: a commit that a really full disk refuses (a small tmpfs; needs root
 * for mount, as .ci/run has). LMDB's own transaction fails here (not a child transaction), as in
 * production.
 */

const fileSystems: SmallFileSystem[] = [];
afterEach(() => {
  for (const fileSystem of fileSystems.splice(0)) fileSystem.remove();
});

/** A store on a fresh 8 MiB tmpfs, one commit written, then the file system filled; and a batch that cannot fit. */
async function storeOnFullDisk(): Promise<{ store: LmdbStore; tooBig: () => ReturnType<LmdbStore["newBatch"]> }> {
  const fileSystem = mountSmallFileSystem("tmpfs", 8);
  fileSystems.push(fileSystem);
  const mountPoint = fileSystem.mountPoint;
  const store = await LmdbStore.open({ path: join(mountPoint, "data") });
  const first = store.newBatch();
  first.putEntity("Counter/a", { version: 1, state: 1 });
  await store.commit(first);
  fillFileSystem(mountPoint);
  const tooBig = () => {
    const batch = store.newBatch();
    batch.putEntity("Counter/big", { version: 1, state: "x".repeat(2_000_000) });
    return batch;
  };
  return { store, tooBig };
}

describe.skipIf(whyCannotMount("tmpfs") !== undefined)("an LmdbStore whose commit the full disk refused", () => {
  it("still closes (a closing server would otherwise never exit while the disk is full)", async () => {
    const { store, tooBig } = await storeOnFullDisk();
    await expect(store.commit(tooBig())).rejects.toBeInstanceOf(StoreWriteError);
    // lmdb-js never resolves the flush promise of a transaction whose commit failed, and root.close()
    // waits for the last one; close() only returns if a later commit succeeded (after space was freed).
    const closed = store.close().then(() => "closed" as const);
    const outcome = await Promise.race([closed, new Promise<"still closing">((resolve) => setTimeout(() => resolve("still closing"), 5_000))]);
    expect(outcome).toBe("closed");
  }, 30_000);
});
