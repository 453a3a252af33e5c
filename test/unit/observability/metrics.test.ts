import { Histogram, register as globalRegistry, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { Counter, CounterFn } from "../../../src/demo/app.js";
import { readMetrics, type MetricJson } from "../../../src/observability/metrics-reading.js";
import { createMetrics } from "../../../src/observability/metrics.js";
import { TallyHistogram } from "../../../src/observability/tally-histogram.js";
import { throttledReading } from "../../../src/observability/throttled-reading.js";

/** When a reading was taken does not matter to what it sums. */
const AT = { wall: 0, monotonic: 0 };

async function json(registry: Registry): Promise<MetricJson[]> {
  return (await registry.getMetricsAsJSON()) as unknown as MetricJson[];
}

describe("createMetrics", () => {
  it("makes a registry of its own for each server, never prom-client's global one", async () => {
    const first = createMetrics();
    const second = createMetrics();
    expect(first.registry).not.toBe(second.registry);
    first.entities([Counter]).tallyOf("Counter").ran("add", false, 0.001);
    const totals = async (metrics: ReturnType<typeof createMetrics>) => readMetrics(await json(metrics.registry), AT).totals.get("durable_entities_operations_total");
    expect(await totals(first)).toBe(1);
    expect(await totals(second)).toBe(0);
    expect(globalRegistry.getSingleMetric("durable_entities_operations_total")).toBeUndefined();
    // The process metrics are shared (one set per process), registered in each server's registry.
    expect(first.registry.getSingleMetric("process_cpu_user_seconds_total")).toBe(second.registry.getSingleMetric("process_cpu_user_seconds_total"));
  });

  it("labels only the app's types and operations: others are (unknown), a dispatch type's are (dispatch)", async () => {
    const metrics = createMetrics();
    const meter = metrics.entities([Counter, CounterFn]);
    meter.tallyOf("Counter").ran("add", false, 0.00001);
    meter.tallyOf("Counter").ran("made-up", true, 0.00001);
    meter.tallyOf("CounterFn").ran("anything", false, 0.00001);
    meter.tallyOf("Nope").ran("add", false, 0.00001);
    meter.rejected("Counter/alice", "nope");
    meter.rejected("Ghost/bob", "add");
    meter.rejected("no slash at all", "add");
    const operations = (await json(metrics.registry)).find((metric) => metric.name === "durable_entities_operations_total")!;
    expect(operations.values.map(({ labels, value }) => [labels.entity_type, labels.operation, labels.outcome, value])).toEqual(
      expect.arrayContaining([
        ["Counter", "add", "ok", 1],
        ["Counter", "(unknown)", "error", 1],
        ["Counter", "(unknown)", "rejected", 1],
        ["CounterFn", "(dispatch)", "ok", 1],
        ["(unknown)", "(unknown)", "ok", 1],
        ["(unknown)", "(unknown)", "rejected", 2],
      ]),
    );
    expect(operations.values).toHaveLength(6);
  });

  it("adds every hub's operations to the same series (the hubs share the app)", async () => {
    const metrics = createMetrics();
    metrics.entities([Counter]).tallyOf("Counter").ran("add", false, 0.001);
    metrics.entities([Counter]).tallyOf("Counter").ran("add", false, 0.001);
    expect(readMetrics(await json(metrics.registry), AT).totals.get("durable_entities_operations_total")).toBe(2);
  });
});

describe("TallyHistogram", () => {
  it("reads as prom-client's Histogram does, given the same observations", async () => {
    const buckets = [0.001, 0.01, 0.1];
    const registry = new Registry();
    const reference = new Histogram({ name: "reference", help: "h", labelNames: ["entity_type"], buckets, registers: [registry] });
    const tallied = new TallyHistogram("tallied", "h", ["entity_type"], buckets);
    registry.registerMetric(tallied.asMetric());
    const tally = tallied.tally({ entity_type: "Counter" });
    for (const value of [0.0005, 0.001, 0.002, 0.05, 0.5, 3]) {
      reference.observe({ entity_type: "Counter" }, value);
      tally.observe(value);
    }
    const byName = new Map((await json(registry)).map((metric) => [metric.name, metric]));
    // Compared as the health sampler reads them: labels, value and metricName (prom-client adds `exemplar: null`).
    const renamed = (name: string) => byName.get(name)!.values.map(({ labels, value, metricName }) => ({ labels, value, metricName: metricName?.replace(name, "x") }));
    expect(renamed("tallied")).toEqual(renamed("reference"));
    const text = await registry.metrics();
    expect(text).toContain('tallied_bucket{entity_type="Counter",le="0.01"} 3');
    expect(text).toContain('tallied_bucket{entity_type="Counter",le="+Inf"} 6');
    expect(text).toContain('tallied_count{entity_type="Counter"} 6');
  });

  it("starts again from zero on resetMetrics, through the tallies already handed out", async () => {
    const registry = new Registry();
    const tallied = new TallyHistogram("tallied", "h", ["entity_type"], [1]);
    registry.registerMetric(tallied.asMetric());
    const tally = tallied.tally({ entity_type: "Counter" });
    tally.observe(0.5);
    registry.resetMetrics();
    tally.observe(2);
    expect(readMetrics(await json(registry), AT).histograms.get("tallied")).toEqual({ buckets: [[1, 0], [Infinity, 1]], count: 1, sum: 2 });
  });
});

describe("throttledReading", () => {
  it("reads again once the last reading is older than 100 times what it took", () => {
    let clock = 0;
    let reads = 0;
    const reading = throttledReading(() => {
      clock += 2; // each reading takes 2 ms
      return ++reads;
    }, () => clock);
    expect(reading()).toBe(1);
    clock += 199;
    expect(reading()).toBe(1);
    clock += 1;
    expect(reading()).toBe(2);
  });
});
