// Run as its own process by full-disk-stderr.test.ts, which reads its stderr (vitest catches
// console output in its workers, and LMDB's native code writes to fd 2 directly). On the file system
// mounted at argv[2]: a store with one commit, the file system filled, a commit that cannot fit, a close.
// Then logs one line as the pipeline does. Prints the outcome on stdout.
import { join } from "node:path";
import { createLogger } from "../../../src/log.js";
import { LmdbStore, StoreWriteError } from "../../../src/storage/index.js";
import { fillFileSystem } from "../../support/small-file-system.js";

const mountPoint = process.argv[2]!;
const store = await LmdbStore.open({ path: join(mountPoint, "data") });
const first = store.newBatch();
first.putEntity("Counter/a", { version: 1, state: 1 });
await store.commit(first);
fillFileSystem(mountPoint);
const big = store.newBatch();
big.putEntity("Counter/big", { version: 1, state: "x".repeat(2_000_000) });
const outcome = await store.commit(big).then(
  () => "written",
  (error: unknown) => (error instanceof StoreWriteError ? "refused" : `other: ${String(error)}`),
);
await new Promise((resolve) => setTimeout(resolve, 200)); // lmdb-js prints after the rejection
// What the pipeline logs right after a failed commit: a JSON line of the server's log, on stderr.
createLogger("info").error("a commit failed; its requests were refused, and memory is reset to the store", { hub: "default" });
await new Promise((resolve) => setTimeout(resolve, 100));
const closed = await Promise.race([store.close().then(() => "closed"), new Promise((resolve) => setTimeout(() => resolve("close hung"), 3_000))]);
process.stdout.write(`${outcome} ${closed}\n`);
process.exit(0);
