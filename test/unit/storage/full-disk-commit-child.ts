// Run as its own process by lmdb-store-full-disk.test.ts, which reads what it writes to stderr (vitest
// catches console output in its own workers). On the tmpfs at argv[2]: a store with one commit, the
// file system filled, then a commit that cannot fit. Prints the outcome on stdout.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { LmdbStore, StoreWriteError } from "../../../src/storage/index.js";

const mountPoint = process.argv[2]!;
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
    break;
  }
}
const big = store.newBatch();
big.putEntity("Counter/big", { version: 1, state: "x".repeat(2_000_000) });
const outcome = await store.commit(big).then(
  () => "written",
  (error: unknown) => (error instanceof StoreWriteError ? "refused" : `other: ${String(error)}`),
);
await new Promise((resolve) => setTimeout(resolve, 200)); // lmdb-js prints after the rejection
process.stdout.write(`${outcome}\n`);
process.exit(0);
