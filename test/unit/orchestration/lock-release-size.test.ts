import { afterEach, describe, expect, it, vi } from "vitest";
import { defineEntity } from "../../../src/index.js";
import { defineOrchestration, type OrchestrationContext } from "../../../src/orchestration/index.js";
import { LmdbStore, type WriteBatch } from "../../../src/storage/index.js";
import { CrashableNode, type NodeApp } from "../support/crashable-node.js";
import { makeTempDir, removeDir } from "../support/temp-dir.js";

/*
 * Releasing a lock on n entities sends n durable messages in one commit. If each named the whole set,
 * that commit would hold n² ids (a few thousand entities: gigabytes in one transaction).
 */

const Box = defineEntity("Box", { initialState: () => 0, operations: { get: (ctx) => ctx.state } });

const boxes = (n: number) => Array.from({ length: n }, (_, i) => `Box/key-${String(i).padStart(6, "0")}`);

/** Locks every box of its input, then lets them go: explicitly, or by ending while it holds them. */
const LockMany = defineOrchestration("LockMany", function* (ctx: OrchestrationContext<{ n: number; explicit: boolean }>, { n, explicit }: { n: number; explicit: boolean }) {
  const lock = yield* ctx.lock(boxes(n));
  if (explicit) lock.release();
  return n;
});

const APP: NodeApp = { entities: [Box], orchestrations: [LockMany] };

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function until(condition: () => boolean, what: string, boundMs = 60_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${boundMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe("releasing a large lock set", () => {
  for (const explicit of [true, false]) {
    it(`writes about one id per entity in its commit (${explicit ? "lock.release()" : "the end of the execution"})`, async () => {
      const n = 600;
      const dir = makeTempDir();
      dirs.push(dir);
      let largest = 0;
      const commit = LmdbStore.prototype.commit;
      vi.spyOn(LmdbStore.prototype, "commit").mockImplementation(function (this: LmdbStore, batch: WriteBatch) {
        const bytes = (batch as unknown as { writes: Array<{ value?: string }> }).writes.reduce((sum, write) => sum + (write.value?.length ?? 0), 0);
        largest = Math.max(largest, bytes);
        return commit.call(this, batch);
      });
      const node = await CrashableNode.open(dir, APP);
      try {
        node.start("m", "LockMany", { n, explicit });
        await until(() => node.instance("m")?.status === "Completed" && node.mailbox().length === 0, "m locks and releases every box");
        for (const id of [boxes(n)[0]!, boxes(n)[n - 1]!]) expect(node.store.readEntity(id)?.lock).toBeUndefined();
        // The set's JSON is about 12 KiB; n releases naming it would be about 7 MiB. Each commit stays well below.
        const setBytes = JSON.stringify(boxes(n)).length;
        expect(largest).toBeLessThan(40 * setBytes);
      } finally {
        await node.close();
      }
    }, 120_000);
  }
});
