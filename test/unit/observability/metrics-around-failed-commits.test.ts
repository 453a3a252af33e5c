import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { readMetrics, type MetricJson } from "../../../src/observability/metrics-reading.js";
import { createMetrics, type RuntimeMetrics } from "../../../src/observability/metrics.js";
import { defineActivity, defineOrchestration, OrchestrationHost } from "../../../src/orchestration/index.js";
import { CommitPipeline, EntityRuntime, type Outcome } from "../../../src/runtime/index.js";
import { StoreWriteError, type LmdbStore, type WriteBatch } from "../../../src/storage/index.js";
import { Counter } from "../support/entities.js";
import { TempStores } from "../support/temp-dir.js";

/**
 * What the metrics say about a commit that did not reach the disk (a full disk). Its requests are
 * answered `store_unavailable` and nothing of them is applied; the pipeline then resets memory to the
 * store and hands durable work out again. A tick's counts are added only once it is durable, so a
 * refused tick counts nothing, and work handed out again counts once, when it commits.
 */

const stores = new TempStores();
afterEach(async () => {
  await stores.dispose();
});

/** The store, whose commits numbered in `failing` (1-based) fail as a full disk does. */
function failingCommits(store: LmdbStore, failing: ReadonlySet<number>): LmdbStore {
  let commits = 0;
  return Object.assign(Object.create(store) as LmdbStore, {
    commit(batch: WriteBatch, onCommitted?: () => void): Promise<void> {
      if (failing.has(++commits)) return Promise.reject(new StoreWriteError("the disk is full (injected)"));
      return store.commit(batch, onCommitted);
    },
    resync: () => store.resync(),
  });
}

async function value(metrics: RuntimeMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const json = (await metrics.registry.getMetricsAsJSON()) as unknown as MetricJson[];
  const metric = json.find((entry) => entry.name === name);
  return (metric?.values ?? []).filter((entry) => Object.entries(labels).every(([key, v]) => entry.labels[key] === v)).reduce((sum, entry) => sum + entry.value, 0);
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000 && !(await condition()); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(await condition()).toBe(true);
}

describe("operations of a tick whose commit failed", () => {
  it("are not counted as ok: the client was answered store_unavailable and nothing was applied", async () => {
    const store = await stores.openStore(stores.newDir());
    const metrics = createMetrics();
    const runtime = new EntityRuntime({ store: failingCommits(store, new Set([1])), entities: [Counter], log: createLogger("silent"), meter: metrics.entities([Counter]) });
    runtime.start();
    const signal = (seq: number) =>
      new Promise<Outcome>((resolve) =>
        runtime.submit({ kind: "signal", entityId: "Counter/x", op: "add", input: 1, sender: { clientId: "A", seq }, requestId: seq, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }),
      );
    expect(await signal(1)).toMatchObject({ kind: "error", code: "store_unavailable" });
    expect(await signal(2)).toEqual({ kind: "ack" });
    expect(store.readEntity("Counter/x")).toMatchObject({ state: 1 });
    // One add was applied; the refused one must not read as a successful operation.
    expect(await value(metrics, "durable_entities_operations_total", { entity_type: "Counter", operation: "add", outcome: "ok" })).toBe(1);
    await runtime.close();
  });
});

const Echo = defineActivity("Echo", (text: string) => text);
const OneStep = defineOrchestration("OneStep", function* (ctx) {
  return yield* ctx.call(Echo, "hi");
});

function orchestrationStack(store: LmdbStore, metrics: RuntimeMetrics) {
  const log = createLogger("silent");
  const pipeline = new CommitPipeline({ store, log, meter: metrics.commits });
  const host = new OrchestrationHost({ pipeline, orchestrations: [OneStep], activities: [Echo], log, meter: metrics.orchestrations(["OneStep"], ["Echo"]) });
  pipeline.start();
  host.start();
  const start = (instanceId: string) =>
    new Promise<Outcome>((resolve) => host.submit({ kind: "start", instanceId, name: "OneStep", depth: 0, requestId: 1, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }));
  const status = (instanceId: string) =>
    new Promise<Outcome>((resolve) => host.submit({ kind: "read", instanceId, requestId: 1, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }));
  return { pipeline, host, start, status };
}

describe("orchestrations around a failed commit", () => {
  it("a start refused with store_unavailable is not counted as started", async () => {
    const store = await stores.openStore(stores.newDir());
    const metrics = createMetrics();
    const { pipeline, start, status } = orchestrationStack(failingCommits(store, new Set([1])), metrics);
    expect(await start("refused")).toMatchObject({ kind: "error", code: "store_unavailable" });
    expect(await status("refused")).toMatchObject({ kind: "result", value: null }); // no such instance
    const started = await value(metrics, "durable_entities_orchestrations_started_total");
    const finished = await value(metrics, "durable_entities_orchestrations_finished_total");
    expect(started - finished).toBe(0); // nothing is running
    await pipeline.close();
  });

  it("an execution that completes in a tick whose commit fails, and again after the reset, is counted finished once", async () => {
    const store = await stores.openStore(stores.newDir());
    const metrics = createMetrics();
    // Commit 1: the start (its activity scheduled). Commit 2: the activity's result completes the execution; it fails.
    const { pipeline, start, status } = orchestrationStack(failingCommits(store, new Set([2])), metrics);
    expect(await start("one")).toMatchObject({ kind: "result" });
    await until(async () => ((await status("one")) as { value?: { runtimeStatus?: string } }).value?.runtimeStatus === "Completed");
    expect(await value(metrics, "durable_entities_orchestrations_started_total", { name: "OneStep" })).toBe(1);
    // One execution started, one ended.
    expect(await value(metrics, "durable_entities_orchestrations_finished_total", { name: "OneStep", status: "Completed" })).toBe(1);
    await pipeline.close();
  });
});
