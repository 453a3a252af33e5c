import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { EntityDefinition } from "../runtime/define-entity.js";
import type { CommitMeter, EntityMeter, OrchestrationMeter } from "./meters.js";
import { OperationTallies } from "./operation-tallies.js";
import { OrchestrationTallies } from "./orchestration-tallies.js";
import { processMetrics } from "./process-metrics.js";
import { TallyHistogram } from "./tally-histogram.js";

/** Operations take microseconds; a slow one, a second. */
const OPERATION_BUCKETS = [0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** A commit is a disk flush: from a tenth of a millisecond (no real flush) to seconds (a disk in trouble). */
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Operations per tick: 1 to 65,536 (eight connections with 5,000 signals in flight each make ticks of tens of thousands). */
const BATCH_BUCKETS = Array.from({ length: 17 }, (_, i) => 2 ** i);
/** Activities do I/O: milliseconds to minutes. */
const ACTIVITY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Where the gauges read their values when the registry is read (summed over the server's task hubs). */
export interface GaugeSources {
  /** The WebSocket transport's name (`uws`, `ws`), the connections gauge's label. */
  readonly transport: string;
  connections(): number;
  subscriptions(): number;
  mailboxDepth(): number;
  timersPending(): number;
}

/** A server's metrics: its own prom-client registry, and the meters the runtime records through. */
export interface RuntimeMetrics {
  /** What `/metrics` serves (and the health sampler reads). */
  readonly registry: Registry;
  readonly commits: CommitMeter;
  /** The entity meter, knowing these types; every hub (the same app) adds to the same counts. */
  entities(definitions: Iterable<EntityDefinition>): EntityMeter;
  /** The orchestration meter, knowing these names; every hub adds to the same counts. */
  orchestrations(orchestrations: Iterable<string>, activities: Iterable<string>): OrchestrationMeter;
  /** Where the gauges read (the server sets it once it listens; until then they read 0). */
  readGaugesFrom(sources: GaugeSources): void;
}

/**
 * The metrics of one server, in a registry of its own (never prom-client's global one: a process may
 * run several servers, the tests many), with prom-client's default process metrics in it too. Task
 * hubs are not a label: every hub of the server adds to the same series.
 */
export function createMetrics(): RuntimeMetrics {
  const registry = new Registry();
  const registers = [registry];
  let sources: GaugeSources | undefined;

  const operations: Counter<"entity_type" | "operation" | "outcome"> = new Counter({
    name: "durable_entities_operations_total",
    help: "Entity operations run, by entity type, operation and outcome (ok; error: it threw or was refused in its turn; rejected: refused before it was queued). Reads of the state count as operation (read).",
    labelNames: ["entity_type", "operation", "outcome"] as const,
    registers,
    collect: (): void => tallies.copyToCounter(),
  });
  const operationDuration = new TallyHistogram(
    "durable_entities_operation_duration_seconds",
    "Time an operation took in its entity's turn: its code, and its share of the turn's work (copying and checking the state).",
    ["entity_type"],
    OPERATION_BUCKETS,
  );
  registry.registerMetric(operationDuration.asMetric());
  const tallies = new OperationTallies(operations, operationDuration);

  const commitDuration = new Histogram({ name: "durable_entities_commit_duration_seconds", help: "From a tick's commit being asked for to LMDB reporting its transaction done (lmdb-js reports it once flushed, so this is nearly the flush time).", buckets: COMMIT_BUCKETS, registers });
  const flushDuration = new Histogram({ name: "durable_entities_flush_duration_seconds", help: "From a tick's commit being asked for to its transaction flushed to disk (durable): what the output gate waits for.", buckets: COMMIT_BUCKETS, registers });
  const commitFailures = new Counter({ name: "durable_entities_commit_failures_total", help: "Ticks whose transaction did not reach the disk (a full disk, a map that cannot grow): their requests were answered store_unavailable.", registers });
  const batchOperations = new Histogram({ name: "durable_entities_batch_operations", help: "Entity operations and orchestration turns per committed tick (one transaction).", buckets: BATCH_BUCKETS, registers });

  const orchestrationTallies = new OrchestrationTallies({
    started: new Counter({ name: "durable_entities_orchestrations_started_total", help: "Orchestration executions started, by orchestration name (a new instance, or the next execution after a continue-as-new).", labelNames: ["name"] as const, registers }),
    finished: new Counter({ name: "durable_entities_orchestrations_finished_total", help: "Orchestration executions ended, by name and status (Completed, Failed, Terminated, ContinuedAsNew).", labelNames: ["name", "status"] as const, registers }),
    activityDuration: new Histogram({ name: "durable_entities_activity_duration_seconds", help: "How long activities ran, by activity name and outcome (ok, failed).", labelNames: ["name", "outcome"] as const, buckets: ACTIVITY_BUCKETS, registers }),
    activityFailures: new Counter({ name: "durable_entities_activity_failures_total", help: "Activity runs that failed (threw, timed out, returned too much), by activity name; a retried activity counts each failed attempt.", labelNames: ["name"] as const, registers }),
  });

  new Gauge({
    name: "durable_entities_mailbox_depth",
    help: "Entity operations waiting for a turn: queued for the next tick, or held back while an orchestration has the entity locked.",
    registers,
    collect() {
      this.set(sources?.mailboxDepth() ?? 0);
    },
  });
  new Gauge({
    name: "durable_entities_connections",
    help: "Open WebSocket connections, by transport.",
    labelNames: ["transport"] as const,
    registers,
    collect() {
      this.reset();
      if (sources) this.set({ transport: sources.transport }, sources.connections());
    },
  });
  new Gauge({
    name: "durable_entities_subscriptions",
    help: "Live-state subscriptions (a connection subscribed to an entity).",
    registers,
    collect() {
      this.set(sources?.subscriptions() ?? 0);
    },
  });
  new Gauge({
    name: "durable_entities_timers_pending",
    help: "Durable timers waiting to fire: orchestration timers and retries, scheduled signals.",
    registers,
    collect() {
      this.set(sources?.timersPending() ?? 0);
    },
  });

  for (const metric of processMetrics()) registry.registerMetric(metric);

  return {
    registry,
    commits: {
      committed: (seconds) => commitDuration.observe(seconds),
      flushed: (seconds) => flushDuration.observe(seconds),
      batch: (count) => batchOperations.observe(count),
      commitFailed: () => commitFailures.inc(),
    },
    entities: (definitions) => tallies.define(definitions),
    orchestrations: (orchestrations, activities) => orchestrationTallies.define(orchestrations, activities),
    readGaugesFrom: (given) => {
      sources = given;
    },
  };
}
