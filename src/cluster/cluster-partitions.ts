import type { NatsConnection } from "nats";
import type { EntityRuntime } from "../runtime/index.js";
import type { OrchestrationHost } from "../orchestration/index.js";
import { ForwardedRequests } from "./forwarded-requests.js";
import { ClusterListings } from "./cluster-listings.js";
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

/** How long a partition that is open waits for the others taken with it before it is served all the same. */
const OPEN_TOGETHER_MS = 1_000;

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
    /** Listings, counts, clean and bulk purge over every partition of the hub (scatter-gather). */
    readonly listings: ClusterListings,
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
      published: (target, sequence) => inbox?.published(target, sequence),
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
    pipeline.join(inbox, { first: true });
    const participant = inbox;
    participant.attach(
      () => pipeline.scheduleTick(),
      (address, message) => pipeline.deliver(address, message),
    );
    const forwarded = new ForwardedRequests(connection, hub, store, runtime, host, log);
    const listings = new ClusterListings(connection, hub, store, runtime, host, log);
    /** Partitions being handed over: still written (the ticks in flight finish), no longer served. */
    const handingOver = new Set<number>();
    /** The partitions served changed: the pipeline reloads; forwarded requests for new ones are taken once it has. */
    const owned = async () => {
      const serving = () => logs.open.filter((partition) => !handingOver.has(partition));
      store.setLocalPartitions(serving());
      forwarded.owned(serving().filter((partition) => forwarded.isServing(partition)));
      listings.owned(serving().filter((partition) => listings.isServing(partition)));
      await pipeline.reassigned();
      forwarded.owned(serving());
      listings.owned(serving());
    };
    // Partitions taken together (a node starting, or taking over a dead node's share) are served
    // together, once the last of them is open: one reload of the pipeline for all of them, rather than
    // one each (each reload reads every owned partition's inbox, outbox, mailbox and work items again),
    // and no work starts on the first ones while the others are still being read. One slow to open
    // does not hold the others back for longer than OPEN_TOGETHER_MS.
    let opening = 0;
    let openedWaiting: NodeJS.Timeout | undefined;
    const serveOpened = () => {
      clearTimeout(openedWaiting);
      openedWaiting = undefined;
      void owned();
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
          opening++;
          let opened = false;
          try {
            await logs.openPartition(partition);
            opened = true;
            log.info("partition taken", { partition });
          } finally {
            opening--;
            if (opening === 0 && (opened || openedWaiting !== undefined)) serveOpened();
            else if (opened) openedWaiting ??= setTimeout(serveOpened, OPEN_TOGETHER_MS).unref();
          }
        },
        lost: (partition) => {
          logs.closePartition(partition);
          host?.partitionLeft(partition);
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
            host?.partitionLeft(partition);
            handingOver.delete(partition);
          }
          log.info("partition handed over", { partition });
        },
      },
    });
    store.checkLocalityWith(() => leases.expireUnrenewed());
    listings.checkLocality = () => leases.expireUnrenewed();
    return new ClusterPartitions(hub, store, runtime, host, connection, log, logs, participant, courier, leases, forwarded, listings);
  }

  /** Relays the changes this node's clients follow (live state, watches) from and to the other nodes. */
  followChanges(followed: FollowedIds): void {
    this.relay ??= new ChangeRelay(this.connection, this.hub, this.store, this.runtime, this.host, followed, this.log);
  }

  /** True while a client of another node follows the entity (a clean keeps it, as one of this node's would be kept). */
  isFollowedElsewhere(entityId: string): boolean {
    return this.relay?.isEntityFollowed(entityId) ?? false;
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
    this.listings.stop();
    this.relay?.stop();
    this.inbox.stop();
    this.courier.stop();
  }

  /** For a crash-like stop (the process is about to end): stops without handing anything over. */
  abandon(): void {
    this.leases.abandon();
    this.forwarded.stop();
    this.listings.stop();
    this.relay?.stop();
    this.inbox.stop();
    this.courier.stop();
  }
}
