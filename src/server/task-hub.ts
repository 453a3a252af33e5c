import type { Logger } from "../log.js";
import { ClusterPartitions, type ClusterOptions } from "../cluster/index.js";
import type { ClusterListings } from "../cluster/cluster-listings.js";
import { OrchestrationHost, type OrchestrationHostOptions } from "../orchestration/index.js";
import { CommitPipeline, EntityRuntime, type Clock } from "../runtime/index.js";
import { LmdbStore } from "../storage/index.js";
import type { RuntimeMetrics } from "../observability/metrics.js";
import type { AppDefinitions } from "./app-definitions.js";
import { InstanceWatchHub } from "./instance-watch-hub.js";
import { LiveStateHub, type LiveStateOptions } from "./live-state/index.js";
import { OrchestrationRequests } from "./orchestration-requests.js";

/** How each task hub is run: the same app and tuning for every hub a server serves. */
export interface TaskHubSettings {
  readonly app: AppDefinitions;
  /** Partitions of a new hub's store (default 16). */
  readonly partitions?: number;
  readonly maxCachedEntities?: number;
  readonly maxFailuresPerType?: number;
  readonly maxStateBytes?: number;
  /** Past this many unsent bytes a subscriber's connection is closed. */
  readonly maxBufferedBytes: number;
  readonly liveState?: LiveStateOptions;
  readonly orchestration?: Pick<OrchestrationHostOptions, "maxConcurrentActivities" | "activityTimeoutMs" | "maxCachedInstances" | "limits">;
  readonly clock?: Clock;
  readonly log: Logger;
  /** Called when a hub's store fails and it stops taking work. */
  readonly onFatal?: (error: unknown) => void;
  /** The server's metrics: every hub records into the same ones (default: none). */
  readonly metrics?: RuntimeMetrics;
  /** Cluster mode: the hub's partitions are shared with other nodes through NATS JetStream (see src/cluster/). */
  readonly cluster?: ClusterOptions;
}

/** How long opening a hub in cluster mode waits for every partition to have an owner before it serves anyway. */
const CLUSTER_START_WAIT_MS = 30_000;

/**
 * One task hub: all state of one deployment (entities, instances, histories, timers, signal marks) in
 * a store of its own, with its own commit pipeline, entity runtime, orchestration host, live state and
 * instance watches. A server serves one or more, side by side.
 */
export class TaskHub {
  private closing: Promise<void> | undefined;
  private aborting: Promise<void> | undefined;
  private storeClosed: Promise<void> | undefined;

  private constructor(
    /** The canonical (lowercase) name. */
    readonly name: string,
    readonly store: LmdbStore,
    readonly runtime: EntityRuntime,
    /** Present when the app defines orchestrations or activities. */
    readonly orchestrationHost: OrchestrationHost | undefined,
    readonly orchestrations: OrchestrationRequests | undefined,
    readonly watches: InstanceWatchHub | undefined,
    readonly liveState: LiveStateHub,
    /** Cluster mode: this node's share of the hub's partitions. */
    readonly cluster: ClusterPartitions | undefined,
  ) {}

  /** Opens the hub's store at `path` (taking its lock) and starts it: its mailboxes and timers are taken back. */
  static async open(name: string, path: string, settings: TaskHubSettings): Promise<TaskHub> {
    const { app } = settings;
    const log = settings.log.child({ hub: name }); // a server may serve several hubs: each line says whose
    const store = await LmdbStore.open({ path, partitionCount: settings.partitions, outbox: settings.cluster !== undefined });
    let runtime: EntityRuntime;
    let host: OrchestrationHost | undefined;
    let cluster: ClusterPartitions | undefined;
    try {
      const { metrics } = settings;
      const pipeline = new CommitPipeline({ store, log, clock: settings.clock, onFatal: settings.onFatal, meter: metrics?.commits });
      runtime = new EntityRuntime({ store, pipeline, entities: app.entities, maxCachedEntities: settings.maxCachedEntities, maxFailuresPerType: settings.maxFailuresPerType, maxStateBytes: settings.maxStateBytes, log, meter: metrics?.entities(app.entities) });
      if (app.orchestrations.length + app.activities.length > 0) {
        const meter = metrics?.orchestrations(app.orchestrations.map((definition) => definition.name), app.activities.map((definition) => definition.name));
        const orchestrationHost = new OrchestrationHost({ pipeline, ...app, ...settings.orchestration, log, meter });
        runtime.lockHolderCheck = (holder) => orchestrationHost.isRunning(holder);
        host = orchestrationHost;
      }
      if (settings.cluster) cluster = await ClusterPartitions.join(name, store, runtime, host, settings.cluster, log);
    } catch (error) {
      await store.close(); // frees the directory for a retry
      throw error;
    }
    runtime.start();
    host?.start();
    if (cluster) {
      await cluster.untilAllOwned(CLUSTER_START_WAIT_MS).catch(() => log.warn("serving before every partition has an owner", { owned: cluster.owned }));
    }
    log.debug("task hub opened", { path, partitions: store.partitionCount, orchestrations: host !== undefined });
    const liveState = new LiveStateHub(runtime, { hardBufferBytes: settings.maxBufferedBytes, ...settings.liveState });
    const watches = host ? new InstanceWatchHub(host) : undefined;
    cluster?.followChanges({ entities: () => liveState.watchedEntities(), instances: () => watches?.watchedInstances() ?? [] });
    if (cluster) cluster.listings.isWatched = (entityId) => liveState.isWatched(entityId) || cluster.isFollowedElsewhere(entityId);
    const orchestrations = host && watches ? new OrchestrationRequests(host, watches, cluster?.listings) : undefined;
    return new TaskHub(name, store, runtime, host, orchestrations, watches, liveState, cluster);
  }

  /** Cluster mode: listings, counts, clean and bulk purge over every partition, whichever node owns it. */
  get listings(): ClusterListings | undefined {
    return this.cluster?.listings;
  }

  /** The orchestration name of an instance, undefined when there is no such instance. */
  instanceName(instanceId: string): string | undefined {
    const record = this.store.readInstance(instanceId) as { name?: string } | undefined;
    return record?.name;
  }

  /** Stops taking work, finishes what is queued, makes it durable and closes the store (connections are closed first by the server). */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      this.liveState.close();
      this.watches?.close();
      this.orchestrationHost?.stop();
      await this.runtime.close();
      await this.cluster?.leave();
      await this.closeStore();
    })());
  }

  /** For a fatal error: stops taking work at once, lets the commit in flight settle, closes the store. */
  abort(): Promise<void> {
    return (this.aborting ??= (async () => {
      this.cluster?.abandon();
      await this.runtime.abort();
      await this.closeStore();
    })());
  }

  private closeStore(): Promise<void> {
    return (this.storeClosed ??= this.store.close());
  }
}
