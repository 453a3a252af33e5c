import type { NatsConnection } from "nats";
import type { CommitPipeline, EntityRuntime } from "../runtime/index.js";
import type { OrchestrationHost } from "../orchestration/index.js";
import { ForwardedRequests } from "./forwarded-requests.js";
import { clusterScope } from "./log-names.js";
import { ChangeRelay, type FollowedIds } from "./change-relay.js";
import type { LmdbStore } from "../storage/index.js";
import type { Logger } from "../log.js";
import { InboxParticipant } from "./inbox-participant.js";
import { OutboxCourier } from "./outbox-courier.js";
import { PartitionLeases } from "./partition-leases.js";
import { PartitionLogs } from "./partition-logs.js";
import { PartitionSnapshots } from "./partition-snapshots.js";
import { trimInbox } from "./inbox-trimming.js";

export interface ClusterOptions {
  readonly connection: NatsConnection;
  /** This node's name, unique in the cluster. */
  readonly node: string;
  /** Replicas of the logs, inboxes and lease bucket this node creates (3 on a three-server NATS cluster). */
  readonly replicas: number;
  /** How long a lease lasts without renewal (default 5 s). */
  readonly leaseMs?: number;
  /** The cluster's name, when several clusters share the NATS servers (each uses its own streams and subjects). */
  readonly name?: string;
  /** Log entries between a partition's snapshots (default 10,000): the log is purged behind each. */
  readonly snapshotEntries?: number;
}

/**
 * One task hub's part in a cluster: the partitions this node owns, through leases; their logs, which
 * make the hub's commits durable (the store applies them after); the outbox courier and the inboxes,
 * which carry messages between partitions. Taking or losing a partition reloads the pipeline's
 * participants (as after a failed commit), so that they serve exactly the partitions owned now.
 */
export class ClusterPartitions {
  private relay: ChangeRelay | undefined;

  private constructor(
    private readonly hub: string,
    private readonly store: LmdbStore,
    private readonly runtime: EntityRuntime,
    private readonly host: OrchestrationHost | undefined,
    private readonly connection: NatsConnection,
    private readonly log: Logger,
    private readonly logs: PartitionLogs,
    private readonly inbox: InboxParticipant,
    private readonly courier: OutboxCourier,
    private readonly leases: PartitionLeases,
    private readonly forwarded: ForwardedRequests,
  ) {}

  /**
   * Joins the hub's store and pipeline to the cluster (before the pipeline starts; the store must be
   * opened with `outbox: true`): from now on the store owns no partition until a lease is taken.
   */
  static async join(hubName: string, store: LmdbStore, runtime: EntityRuntime, host: OrchestrationHost | undefined, options: ClusterOptions, log: Logger): Promise<ClusterPartitions> {
    const hub = clusterScope(hubName, options.name);
    const { pipeline } = runtime;
    const { connection, node, replicas } = options;
    const js = connection.jetstream();
    const jsm = await connection.jetstreamManager();
    let inbox: InboxParticipant | undefined;
    const courier = new OutboxCourier(connection, js, jsm, store, {
      hub,
      replicas,
      log,
      delivered: (partition, seqs) => inbox?.outboxDelivered(partition, seqs),
      handOver: (target, bundle) => inbox?.handOver(target, bundle),
    });
    const snapshots = await PartitionSnapshots.open(connection, { hub, replicas });
    const logs = new PartitionLogs(connection, store, snapshots, {
      hub,
      node,
      replicas,
      log,
      onApplied: (parts) => courier.applied(parts),
      onSnapshot: (partition) => trimInbox(jsm, hub, store, partition),
      ...(options.snapshotEntries === undefined ? {} : { snapshotEntries: options.snapshotEntries }),
    });
    inbox = new InboxParticipant(connection, jsm, store, courier, hub, log);
    store.setLocalPartitions([]);
    store.useLog(logs);
    pipeline.join(inbox);
    const participant = inbox;
    participant.attach(() => pipeline.scheduleTick());
    const forwarded = new ForwardedRequests(connection, hub, store, runtime, host, log);
    /** Partitions being handed over: still written (the ticks in flight finish), no longer served. */
    const handingOver = new Set<number>();
    /** The partitions served changed: the pipeline reloads; forwarded requests for new ones are taken once it has. */
    const owned = async () => {
      const serving = () => logs.open.filter((partition) => !handingOver.has(partition));
      store.setLocalPartitions(serving());
      forwarded.owned(serving().filter((partition) => forwarded.isServing(partition)));
      await pipeline.reassigned();
      forwarded.owned(serving());
    };
    const leases = await PartitionLeases.start(connection, {
      hub,
      node,
      partitionCount: store.partitionCount,
      replicas,
      ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs, renewMs: Math.max(50, Math.floor(options.leaseMs / 5)) }),
      log,
      handlers: {
        acquired: async (partition) => {
          await logs.openPartition(partition);
          log.info("partition taken", { partition });
          void owned();
        },
        lost: (partition) => {
          logs.closePartition(partition);
          log.warn("partition lost to another node", { partition });
          void owned();
        },
        releasing: async (partition) => {
          // Served no more at once; its log closes once the ticks in flight (which may write it) have settled.
          handingOver.add(partition);
          try {
            await owned();
          } finally {
            logs.closePartition(partition);
            handingOver.delete(partition);
          }
          log.info("partition handed over", { partition });
        },
      },
    });
    store.checkLocalityWith(() => leases.expireUnrenewed());
    return new ClusterPartitions(hub, store, runtime, host, connection, log, logs, participant, courier, leases, forwarded);
  }

  /** Relays the changes this node's clients follow (live state, watches) from and to the other nodes. */
  followChanges(followed: FollowedIds): void {
    this.relay ??= new ChangeRelay(this.connection, this.hub, this.store, this.runtime, this.host, followed, this.log);
  }

  /** Partitions this node owns now. */
  get owned(): number[] {
    return this.logs.open;
  }

  /** Resolves once every partition of the hub has an owner (this node or another), as seen from here. */
  untilAllOwned(timeoutMs: number): Promise<void> {
    return this.leases.untilAllOwned(timeoutMs);
  }

  /** Hands every partition over (after the hub's pipeline closed), and stops. */
  async leave(): Promise<void> {
    await this.leases.stop().catch((error: unknown) => void error);
    this.forwarded.stop();
    this.relay?.stop();
    this.inbox.stop();
    this.courier.stop();
  }

  /** For a crash-like stop (the process is about to end): stops without handing anything over. */
  abandon(): void {
    this.leases.abandon();
    this.forwarded.stop();
    this.relay?.stop();
    this.inbox.stop();
    this.courier.stop();
  }
}
