import { collectDefaultMetrics, Registry, type Metric } from "prom-client";

let collected: Metric[] | undefined;

/**
 * prom-client's default metrics (CPU, memory, heap, event-loop lag, GC, file descriptors, handles), made
 * once per process and shared by every server's registry. They describe the process, which all servers
 * in it share; and each set made starts an event-loop delay monitor and a GC observer that are never
 * stopped, so making one per server would pile them up in a process that starts many (the tests).
 * They live in a private registry of their own, never prom-client's global one.
 */
export function processMetrics(): readonly Metric[] {
  if (collected === undefined) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    collected = registry.getMetricsAsArray().flatMap(({ name }) => registry.getSingleMetric(name) ?? []);
  }
  return collected;
}
