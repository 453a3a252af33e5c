import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HealthHistory } from "../../../src/observability/health-history.js";
import { quantile } from "../../../src/observability/health-sample.js";

/** One clock for both of a history's: the tests step it, as time passing (see health-clock.test.ts for a wall clock that steps alone). */
function steppedClock(now: () => number) {
  return { wall: now, monotonic: now };
}

/** A registry holding the server's metrics under their real names, and a clock the test moves. */
function serverMetrics() {
  const registry = new Registry();
  const metrics = {
    operations: new Counter({ name: "durable_entities_operations_total", help: "h", labelNames: ["entity_type", "operation", "outcome"], registers: [registry] }),
    operationDuration: new Histogram({ name: "durable_entities_operation_duration_seconds", help: "h", labelNames: ["entity_type"], buckets: [0.001, 0.01, 0.1, 1], registers: [registry] }),
    commitDuration: new Histogram({ name: "durable_entities_commit_duration_seconds", help: "h", buckets: [0.001, 0.01, 0.1, 1], registers: [registry] }),
    batchOperations: new Histogram({ name: "durable_entities_batch_operations", help: "h", buckets: [1, 10, 100, 1000], registers: [registry] }),
    mailboxDepth: new Gauge({ name: "durable_entities_mailbox_depth", help: "h", registers: [registry] }),
    connections: new Gauge({ name: "durable_entities_connections", help: "h", registers: [registry] }),
    subscriptions: new Gauge({ name: "durable_entities_subscriptions", help: "h", registers: [registry] }),
    started: new Counter({ name: "durable_entities_orchestrations_started_total", help: "h", labelNames: ["name"], registers: [registry] }),
    finished: new Counter({ name: "durable_entities_orchestrations_finished_total", help: "h", labelNames: ["name", "status"], registers: [registry] }),
  };
  let now = 1_000_000;
  const history = new HealthHistory(registry, { intervalMs: 1000, clock: steppedClock(() => now) });
  return { registry, metrics, history, advance: (ms: number) => (now += ms) };
}

describe("HealthHistory", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("turns counter deltas into rates per second over each interval, not since start", async () => {
    const { metrics, history, advance } = serverMetrics();
    expect(await history.sample()).toBeUndefined(); // the baseline
    metrics.operations.inc({ entity_type: "Counter", operation: "add", outcome: "ok" }, 20);
    metrics.operations.inc({ entity_type: "Cart", operation: "addItem", outcome: "error" }, 10);
    metrics.started.inc({ name: "Transfer" }, 4);
    metrics.finished.inc({ name: "Transfer", status: "Completed" }, 2);
    advance(2000);
    expect(await history.sample()).toMatchObject({ t: 1_002_000, operationsPerSecond: 15, orchestrationsStartedPerSecond: 2, orchestrationsFinishedPerSecond: 1 });
    advance(1000);
    expect(await history.sample()).toMatchObject({ operationsPerSecond: 0, orchestrationsStartedPerSecond: 0, orchestrationsFinishedPerSecond: 0 });
    metrics.operations.inc({ entity_type: "Counter", operation: "add", outcome: "ok" }, 5);
    advance(1000);
    expect((await history.sample())?.operationsPerSecond).toBe(5);
    expect(history.samples.map((sample) => sample.operationsPerSecond)).toEqual([15, 0, 5]);
  });

  it("takes latency percentiles from the buckets filled in the interval, in ms", async () => {
    const { metrics, history, advance } = serverMetrics();
    await history.sample();
    for (let i = 0; i < 100; i++) metrics.operationDuration.observe({ entity_type: i % 2 === 0 ? "Counter" : "Cart" }, 0.0005);
    for (let i = 0; i < 10; i++) metrics.commitDuration.observe(0.005);
    advance(1000);
    // 100 in (0, 1 ms]: the median at rank 50 of 100 is half way, 0.5 ms; p99 at 0.99 ms.
    expect(await history.sample()).toMatchObject({ operationLatencyMs: { p50: 0.5, p99: 0.99 }, commitLatencyMs: { p50: 5.5, p99: 9.91 } });

    for (let i = 0; i < 100; i++) metrics.operationDuration.observe({ entity_type: "Counter" }, 0.05);
    advance(1000);
    // Only this interval's 100, all in (10 ms, 100 ms]: since start the median would still be 1 ms.
    expect(await history.sample()).toMatchObject({ operationLatencyMs: { p50: 55, p99: 99.1 }, commitLatencyMs: { p50: null, p99: null } });
  });

  it("gives the mean batch size of the interval's commits, and the gauges as they are", async () => {
    const { metrics, history, advance } = serverMetrics();
    await history.sample();
    metrics.batchOperations.observe(10);
    metrics.batchOperations.observe(30);
    metrics.connections.set(3);
    metrics.subscriptions.set(12);
    metrics.mailboxDepth.set(7);
    advance(1000);
    expect(await history.sample()).toMatchObject({ batchSize: 20, connections: 3, subscriptions: 12, mailboxDepth: 7 });
    metrics.connections.dec();
    advance(1000);
    expect(await history.sample()).toMatchObject({ batchSize: null, connections: 2, subscriptions: 12, mailboxDepth: 7 });
  });

  it("answers null for metrics the registry does not have", async () => {
    let now = 1000;
    const history = new HealthHistory(new Registry(), { clock: steppedClock(() => now) });
    await history.sample();
    now = 2000;
    expect(await history.sample()).toEqual({
      t: 2000,
      operationsPerSecond: null,
      operationLatencyMs: { p50: null, p99: null },
      commitLatencyMs: { p50: null, p99: null },
      batchSize: null,
      mailboxDepth: null,
      connections: null,
      subscriptions: null,
      orchestrationsStartedPerSecond: null,
      orchestrationsFinishedPerSecond: null,
    });
  });

  it("treats counters and histograms that went down as reset: all they hold is new", async () => {
    const before = serverMetrics();
    const after = serverMetrics();
    let source = before.registry;
    let now = 0;
    const history = new HealthHistory({ getSingleMetric: (name) => source.getSingleMetric(name) }, { clock: steppedClock(() => now) });
    before.metrics.operations.inc({ entity_type: "Counter", operation: "add", outcome: "ok" }, 100);
    for (let i = 0; i < 5; i++) before.metrics.operationDuration.observe({ entity_type: "Counter" }, 0.0005);
    await history.sample();
    after.metrics.operations.inc({ entity_type: "Counter", operation: "add", outcome: "ok" }, 3);
    after.metrics.operationDuration.observe({ entity_type: "Counter" }, 0.5);
    source = after.registry; // a new registry, as after a restart of the metrics
    now += 1000;
    expect(await history.sample()).toMatchObject({ operationsPerSecond: 3, operationLatencyMs: { p50: 550 } });
  });

  it("keeps the last window of samples only", async () => {
    let now = 0;
    const history = new HealthHistory(new Registry(), { intervalMs: 1000, windowMs: 5000, clock: steppedClock(() => now) });
    for (let i = 0; i < 9; i++) {
      now += 1000;
      await history.sample();
    }
    expect(history.samples.map((sample) => sample.t)).toEqual([5000, 6000, 7000, 8000, 9000]);
  });

  it("samples every interval once started, until stopped", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const { metrics, history } = serverMetrics();
    history.start();
    metrics.connections.set(1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(history.samples).toHaveLength(3);
    history.stop();
    await vi.advanceTimersByTimeAsync(3000);
    expect(history.samples).toHaveLength(3);
  });

  it("skips a metric that cannot be read, logging it once, and goes on with the others, and with it once it reads again", async () => {
    const warnings: string[] = [];
    const log = { debug: () => {}, info: () => {}, warn: (message: string) => void warnings.push(message), error: () => {}, fatal: () => {}, child: () => log };
    const { metrics, registry } = serverMetrics();
    let broken = true;
    let now = 0;
    const history = new HealthHistory(
      { getSingleMetric: (name) => (broken && name === "durable_entities_operations_total" ? { get: () => Promise.reject(new Error("collect failed")) } : registry.getSingleMetric(name)) },
      { clock: steppedClock(() => now), log },
    );
    const oneSecondLater = () => {
      now += 1000;
      return history.sample();
    };
    await history.sample();
    metrics.operations.inc({ entity_type: "Counter", operation: "add", outcome: "ok" }, 7);
    metrics.connections.set(2);
    expect(await oneSecondLater()).toMatchObject({ operationsPerSecond: null, connections: 2 });
    expect(await oneSecondLater()).toMatchObject({ operationsPerSecond: null, connections: 2 });
    expect(warnings).toEqual(["health sample skipped a metric that could not be read"]);
    broken = false;
    expect(await oneSecondLater()).toMatchObject({ operationsPerSecond: null }); // no baseline yet: its whole count is not this second's
    metrics.operations.inc({ entity_type: "Counter", operation: "add", outcome: "ok" }, 3);
    expect(await oneSecondLater()).toMatchObject({ operationsPerSecond: 3 });
  });
});

describe("quantile", () => {
  it("estimates within the bucket the rank falls in, and gives the highest finite bound for the +Inf bucket", () => {
    const buckets = [[1, 0], [2, 4], [4, 8], [Infinity, 10]] as const;
    expect(quantile(0.25, { buckets, count: 10, sum: 0 })).toBeCloseTo(1.625);
    expect(quantile(0.5, { buckets, count: 10, sum: 0 })).toBe(2.5);
    expect(quantile(0.99, { buckets, count: 10, sum: 0 })).toBe(4);
    expect(quantile(0.5, { buckets: [[1, 0], [Infinity, 0]], count: 0, sum: 0 })).toBeUndefined();
  });
});
