import type { GaugeSources } from "../observability/metrics.js";
import { throttledReading } from "../observability/throttled-reading.js";
import type { TaskHub } from "./task-hub.js";
import type { TaskHubs } from "./task-hubs.js";
import type { Transport } from "./transport.js";

/**
 * What the server's gauges read when the registry is read (each scrape, and the health sampler every
 * second): the transport's connections, and each open hub's counts summed. The counts that walk
 * something large are throttled: the durable timers in the store, and the mailboxes of every cached
 * entity (about 10 ms for 100,000 of them).
 */
export function serverGauges(hubs: TaskHubs, transport: Transport): GaugeSources {
  const eachHub = (count: (hub: TaskHub) => number) => hubs.list().reduce((total, hub) => total + count(hub), 0);
  return {
    transport: transport.name,
    connections: () => transport.connectionCount,
    subscriptions: () => eachHub((hub) => hub.liveState.stats().subscriptions),
    mailboxDepth: throttledReading(() => eachHub((hub) => hub.runtime.queuedOperations)),
    timersPending: throttledReading(() => eachHub(timersIn)),
  };
}

/** A hub's durable timers, counted in its store (0 once the store is closed, while the server stops). */
function timersIn(hub: TaskHub): number {
  try {
    return hub.store.localPartitions.reduce((total, partition) => total + hub.store.countTimers(partition), 0);
  } catch {
    return 0;
  }
}
