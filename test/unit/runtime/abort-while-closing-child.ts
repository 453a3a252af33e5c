// Run as its own process by abort-while-closing.test.ts (it may starve its event loop).
// A runtime over the real LMDB store whose commits all fail (a disk that stays full), with a durable
// message waiting; close() is called (it waits for the recoveries), then abort() (a fatal error
// during the shutdown, or the host giving up). Prints "timer fired" if timers still run afterwards.
import { createLogger } from "../../../src/log.js";
import { EntityRuntime } from "../../../src/runtime/index.js";
import { LmdbStore, type EntityStore, type WriteBatch } from "../../../src/storage/index.js";
import { Counter } from "../support/entities.js";
import { makeTempDir } from "../support/temp-dir.js";

const store = await LmdbStore.open({ path: makeTempDir() });
const stuck = store.newBatch();
stuck.appendMessage({ target: "Counter/stuck", op: "add", input: 1 });
await store.commit(stuck);
const full = Object.assign(Object.create(store) as EntityStore, {
  commit(batch: WriteBatch): Promise<void> {
    batch.putEntity(`Counter/${"k".repeat(4000)}`, { version: 1, state: 0 }); // LMDB refuses it, as a full disk does
    return store.commit(batch);
  },
  resync: () => store.resync(),
});
const runtime = new EntityRuntime({ store: full, entities: [Counter], log: createLogger("silent"), onFatal: () => {} });
runtime.start();
await new Promise((resolve) => setTimeout(resolve, 100));
void runtime.close();
await new Promise((resolve) => setTimeout(resolve, 50));
await runtime.abort();
console.log("aborted");
setTimeout(() => {
  console.log("timer fired");
  process.exit(0);
}, 200);
