import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LmdbStore, StoreWriteError } from "../../../src/storage/index.js";

/*
 * At the store: a commit that a really full disk refuses (a small tmpfs; needs root
 * for mount, as .ci/run has). LMDB's own transaction fails here (not a child transaction), as in
 * production.
 */

function canMount(): boolean {
  const probe = mkdtempSync(join(tmpdir(), "durable-entities-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { stdio: "pipe" });
    execFileSync("umount", [probe], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const mounts: string[] = [];
const CHILD = fileURLToPath(new URL("./full-disk-commit-child.ts", import.meta.url));
afterEach(() => {
  for (const mountPoint of mounts.splice(0)) {
    try {
      execFileSync("umount", ["-l", mountPoint], { stdio: "pipe" }); // lazily: a store that never closed still holds it
    } finally {
      rmSync(mountPoint, { recursive: true, force: true });
    }
  }
});

/** A store on a fresh 8 MiB tmpfs, one commit written, then the file system filled; and a batch that cannot fit. */
async function storeOnFullDisk(): Promise<{ store: LmdbStore; tooBig: () => ReturnType<LmdbStore["newBatch"]> }> {
  const mountPoint = mkdtempSync(join(tmpdir(), "durable-entities-store-full-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mountPoint], { stdio: "pipe" });
  mounts.push(mountPoint);
  const store = await LmdbStore.open({ path: join(mountPoint, "data") });
  const first = store.newBatch();
  first.putEntity("Counter/a", { version: 1, state: 1 });
  await store.commit(first);
  const chunk = Buffer.alloc(64 * 1024, 1);
  const parts: Buffer[] = [];
  for (;;) {
    try {
      parts.push(chunk);
      writeFileSync(join(mountPoint, "filler"), Buffer.concat(parts));
    } catch {
      parts.pop();
      try {
        writeFileSync(join(mountPoint, "filler"), Buffer.concat(parts));
      } catch {}
      break;
    }
  }
  const tooBig = () => {
    const batch = store.newBatch();
    batch.putEntity("Counter/big", { version: 1, state: "x".repeat(2_000_000) });
    return batch;
  };
  return { store, tooBig };
}

describe.skipIf(!canMount())("an LmdbStore whose commit the full disk refused", () => {
  it("still closes (a closing server would otherwise never exit while the disk is full)", async () => {
    const { store, tooBig } = await storeOnFullDisk();
    await expect(store.commit(tooBig())).rejects.toBeInstanceOf(StoreWriteError);
    // lmdb-js never resolves the flush promise of a transaction whose commit failed, and root.close()
    // waits for the last one; close() only returns if a later commit succeeded (after space was freed).
    const closed = store.close().then(() => "closed" as const);
    const outcome = await Promise.race([closed, new Promise<"still closing">((resolve) => setTimeout(() => resolve("still closing"), 5_000))]);
    expect(outcome).toBe("closed");
  }, 30_000);

  it("prints no JavaScript stack of lmdb's on stderr, between the server's JSON log lines", async () => {
    const mountPoint = mkdtempSync(join(tmpdir(), "durable-entities-store-full-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mountPoint], { stdio: "pipe" });
    mounts.push(mountPoint);
    const child = spawnSync(process.execPath, ["--import", "tsx", CHILD, mountPoint], { encoding: "utf8", timeout: 60_000 });
    expect(child.stdout.trim()).toBe("refused");
    // lmdb-js prints a failed commit's error, a multi-line stack ("Error: Input/output error\n    at …
    // lmdb/write.js …"), with console.error: the store drops that print. (LMDB's native code writes one
    // line of its own, "Write error: No space left on device", which no JavaScript can catch.)
    expect(child.stderr).not.toMatch(/lmdb[\\/]write\.js|Input\/output error/);
  }, 30_000);
});
