import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HealthHistory } from "../../../src/observability/health-history.js";

/**
 * The health sampler measures the time between two readings on a monotonic clock, and only stamps
 * samples with the wall clock. A wall clock steps (NTP corrections, a VM resumed, an operator setting
 * the time): measured with it, a step back would clamp the interval to 1 ms and make one sample's rates
 * a thousand times too high (a spike that sets the chart's scale for ten minutes), a step forward would
 * make them near zero.
 */
describe("HealthHistory across a wall-clock step", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function registryWithOperations() {
    const registry = new Registry();
    const operations = new Counter({ name: "durable_entities_operations_total", help: "h", labelNames: ["entity_type", "operation", "outcome"], registers: [registry] });
    return { registry, add: (n: number) => operations.inc({ entity_type: "Counter", operation: "add", outcome: "ok" }, n) };
  }

  it("reports the rate over the second that passed when the wall clock stepped back 2 s in it", async () => {
    vi.useFakeTimers({ toFake: ["Date", "performance", "setTimeout", "setInterval", "clearInterval", "clearTimeout"] });
    vi.setSystemTime(Date.UTC(2026, 0, 1));
    const { registry, add } = registryWithOperations();
    const history = new HealthHistory(registry, { intervalMs: 1000 });
    await history.sample(); // the baseline
    add(100);
    vi.advanceTimersByTime(1000); // one real second…
    vi.setSystemTime(Date.now() - 2000); // …in which the wall clock was set back by 2 s
    const sample = await history.sample();
    expect(sample?.operationsPerSecond).toBe(100); // not 100,000
  });

  it("reports the rate over the second that passed when the wall clock stepped forward an hour in it", async () => {
    vi.useFakeTimers({ toFake: ["Date", "performance", "setTimeout", "setInterval", "clearInterval", "clearTimeout"] });
    vi.setSystemTime(Date.UTC(2026, 0, 1));
    const { registry, add } = registryWithOperations();
    const history = new HealthHistory(registry, { intervalMs: 1000 });
    await history.sample();
    add(100);
    vi.advanceTimersByTime(1000);
    vi.setSystemTime(Date.now() + 3_600_000);
    const sample = await history.sample();
    expect(sample?.operationsPerSecond).toBe(100); // not 0.02778
  });
});
