import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import type { MetricJson } from "../../../src/observability/metrics-reading.js";
import { createMetrics, type RuntimeMetrics } from "../../../src/observability/metrics.js";
import { CommitPipeline, EntityRuntime, type Outcome } from "../../../src/runtime/index.js";
import type { EntityStore, WriteBatch } from "../../../src/storage/index.js";
import { Counter } from "../support/entities.js";
import { TempStores } from "../support/temp-dir.js";

/**
 * `durable_entities_commit_failures_total`: each tick whose transaction did not reach the disk. The
 * store is the real LMDB store, whose first commit fails inside LMDB (a key past its size limit is
 * added to the batch), so LMDB itself refuses it, and the store's chaining refuses a tick queued behind it.
 */

const stores = new TempStores();
afterEach(async () => {
  await stores.dispose();
});

function failingFirstCommit(store: EntityStore): EntityStore {
  let failed = false;
  return Object.assign(Object.create(store) as EntityStore, {
    commit(batch: WriteBatch, onCommitted?: () => void): Promise<void> {
      if (!failed) {
        failed = true;
        batch.putEntity(`Counter/${"k".repeat(4000)}`, { version: 1, state: 0 });
      }
      return store.commit(batch, onCommitted);
    },
    resync: () => store.resync(),
  });
}

async function counted(metrics: RuntimeMetrics, name: string): Promise<number> {
  const json = (await metrics.registry.getMetricsAsJSON()) as unknown as MetricJson[];
  return (json.find((metric) => metric.name === name)?.values ?? []).reduce((sum, entry) => sum + entry.value, 0);
}

function runtimeOver(store: EntityStore, metrics: RuntimeMetrics): EntityRuntime {
  const log = createLogger("silent");
  const pipeline = new CommitPipeline({ store, log, meter: metrics.commits });
  const runtime = new EntityRuntime({ store, pipeline, entities: [Counter], log });
  runtime.start();
  return runtime;
}

function signalOf(runtime: EntityRuntime) {
  return (seq: number) =>
    new Promise<Outcome>((resolve) =>
      runtime.submit({ kind: "signal", entityId: "Counter/x", op: "add", input: 1, sender: { clientId: "A", seq }, requestId: seq, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }),
    );
}

describe("durable_entities_commit_failures_total", () => {
  it("counts each tick whose commit LMDB refused, and none that reached the disk", async () => {
    const metrics = createMetrics();
    const runtime = runtimeOver(failingFirstCommit(await stores.openStore(stores.newDir())), metrics);
    const signal = signalOf(runtime);
    const first = signal(1);
    await new Promise((resolve) => setImmediate(resolve)); // a second tick commits before the first one's failure is known
    const second = signal(2);
    expect(await first).toMatchObject({ kind: "error", code: "store_unavailable" });
    expect(await second).toMatchObject({ kind: "error", code: "store_unavailable" });
    expect(await signal(3)).toEqual({ kind: "ack" });
    expect(await counted(metrics, "durable_entities_commit_failures_total")).toBe(2);
    await runtime.close();
  });

  it("stays at 0 while commits reach the disk", async () => {
    const metrics = createMetrics();
    const runtime = runtimeOver(await stores.openStore(stores.newDir()), metrics);
    expect(await signalOf(runtime)(1)).toEqual({ kind: "ack" });
    expect(await counted(metrics, "durable_entities_commit_failures_total")).toBe(0);
    await runtime.close();
  });
});
