import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { defineActivity, defineOrchestration, OrchestrationHost, type InstanceRecord } from "../../../src/orchestration/index.js";
import { CommitPipeline, EntityRuntime } from "../../../src/runtime/index.js";
import type { EntityStore, WriteBatch } from "../../../src/storage/index.js";
import { TempStores } from "../support/temp-dir.js";

/*
 * An activity whose result reached the server while the disk is full: the result exists only in
 * memory, so a refused commit keeps it (as a client's request is kept across a reset) and records it
 * once there is room, rather than running the activity again at every recovery (a side effect, a
 * payment or an e-mail, would repeat through the outage).
 */

const stores = new TempStores();
afterEach(async () => {
  await stores.dispose();
});

let runs = 0;
const Charge = defineActivity("Charge", async (amount: number) => {
  runs++;
  return amount;
});
const Checkout = defineOrchestration("Checkout", function* (ctx) {
  return yield ctx.call(Charge, 5);
});

describe("an activity that ends while the disk is full", () => {
  it("runs once: its result waits in memory for room instead of the activity running again at every recovery", async () => {
    const store = await stores.openStore(stores.newDir());
    let full = false;
    const flaky = Object.assign(Object.create(store) as EntityStore, {
      commit(batch: WriteBatch, onCommitted?: () => void): Promise<void> {
        if (full) batch.putEntity(`Counter/${"k".repeat(4000)}`, { version: 1, state: 0 }); // LMDB refuses it, as a full disk does
        return store.commit(batch, onCommitted);
      },
      resync: () => store.resync(),
    });
    const log = createLogger("silent");
    const pipeline = new CommitPipeline({ store: flaky, log, onFatal: () => {} });
    const runtime = new EntityRuntime({ store: flaky, pipeline, entities: [], log });
    const host = new OrchestrationHost({ pipeline, orchestrations: [Checkout], activities: [Charge], log });
    runtime.start();
    host.start();
    runs = 0;
    // Full from the start of the activity on: the commit that schedules it is the last that fits.
    const scheduled = new Promise<void>((resolve) => {
      const commit = flaky.commit.bind(flaky);
      flaky.commit = (batch, onCommitted) => commit(batch, onCommitted).then(() => {
        if (((batch as unknown as { writes: Array<{ key: unknown }> }).writes ?? []).some((write) => Array.isArray(write.key) && write.key[1] === "w")) {
          full = true;
          resolve();
        }
      });
    });
    host.submit({ kind: "start", instanceId: "order-1", name: "Checkout", input: undefined, depth: 0 });
    await scheduled;
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // three seconds of a full disk
    const runsWhileFull = runs;
    full = false;
    for (let i = 0; i < 400 && (store.readInstance("order-1") as InstanceRecord | undefined)?.status !== "Completed"; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((store.readInstance("order-1") as InstanceRecord | undefined)?.status).toBe("Completed");
    await runtime.close();
    host.stop();
    expect(runsWhileFull, "times the activity ran during three seconds of a full disk").toBe(1);
  }, 20_000);
});
