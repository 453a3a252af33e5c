/**
 * Partition leases for cluster mode: which node owns each partition of a task hub, so that exactly one
 * node opens a partition's log as writer at a time (issue 14; see docs/cluster-design.md).
 *
 * Where: a JetStream KV bucket per hub, `DE_<hub>_LEASES` (history 1, the given replicas). Key
 * `p.<partition>` holds `{ node, epoch, open }`; key `n.<node>` is a node's heartbeat `{ node, at,
 * leaving }`, rewritten every round.
 *
 * Time: no clock is compared between machines. A lease (or heartbeat) has lapsed when its KV revision
 * has not changed for `leaseMs`, measured on this node's monotonic clock from when this node first
 * saw that revision. Reads go to the stream leader (no direct gets from a follower that may lag, which
 * would make a live lease look lapsed); every write that matters is a compare-and-set anyway.
 *
 * Every `renewMs`, one round (rounds never overlap; a slow round delays the next):
 * - Leases not renewed for `leaseMs` are lost (`lost`) before anything else is done with them: NATS was
 *   unreachable, or the process was paused (SIGSTOP) and the others may have taken them over meanwhile.
 *   The same check runs before each renewal, and on a timer between rounds, so that a round stuck on a
 *   NATS request does not delay it.
 * - Renewal is `kv.update(key, value, lastRevision)`: a compare-and-set. When it fails because the
 *   revision moved, someone else wrote the key: `lost`. (Unless the key holds this node's own lease at
 *   the same epoch: an earlier renewal landed but its answer was lost. Then its revision is adopted.)
 * - The heartbeat is rewritten; the bucket is read.
 * - Fair share: the live nodes are this one plus those whose heartbeat has not lapsed and who are not
 *   leaving. Each gets floor(partitions / live), the first (partitions mod live) by name one more; the
 *   shares add up to the partition count, so 16 partitions on three nodes end as 6/5/5 without
 *   ping-pong. Held partitions (counting those being acquired) below the share: take free or lapsed
 *   partitions, the ones this node prefers most by rendezvous hashing first. Above it: hand off one
 *   partition per round, the one preferred least.
 * - Taking: a key never written is created (`kv.create` fails if someone created it first); a given-back
 *   or lapsed one is updated by compare-and-set on the revision seen, with `epoch` one more than the
 *   stored one. The epoch starts at 1 and grows with each new owner. A node restarted after a crash
 *   takes back at once the leases that name it in its first read of the bucket (its earlier run's),
 *   without waiting for them to lapse.
 * - Handing off (over the share, or stopping): `releasing` runs; once it resolves, the key is rewritten
 *   as given back (`node: null`, same epoch) by compare-and-set, so another node takes it at once. It is
 *   rewritten rather than deleted so the next owner still knows the epoch to go past.
 *
 * Stopping: the heartbeat says `leaving` (the others stop counting this node in their shares, so they
 * take what it hands off), every lease is handed off, then the heartbeat is deleted. A lease's `open`
 * tells the other nodes that its owner has finished opening the partition: untilAllOwned() waits for it.
 *
 * `acquired` (opening a partition can take seconds) and `releasing` run beside the rounds, never
 * awaited by them: the lease keeps being renewed meanwhile. A rejected `acquired` gives the lease back,
 * and this node tries the partition again after a lease's length.
 *
 * Leases narrow, not close, the window in which two nodes write a partition: a paused node notices its
 * loss only when it runs again. The partition log's fencing (a new owner opening the log) is what
 * refuses the old owner's appends.
 */
import type { JetStreamManager, KV, NatsConnection } from "nats";
import { HeldLeases, isWrongRevision, type LeaseHandlers } from "./lease-holdings.js";
import { checkNodeName, heartbeatKey, leaseBucketAddress, partitionLeaseKey, type LeaseBucketAddress } from "./lease-names.js";
import { RoundLoop } from "./lease-rounds.js";
import { fairShare, preference } from "./lease-shares.js";
import { encodeValue, type LeaseValue } from "./lease-values.js";
import { NOTHING_SEEN, readLeaseBucket, RevisionAges, seeBucket, type BucketView, type SeenKey } from "./lease-view.js";

export type { LeaseHandlers } from "./lease-holdings.js";

export interface LeaseLog {
  warn(message: string, fields?: object): void;
}

export interface PartitionLeasesOptions {
  readonly hub: string;
  /** This node's name, unique among the nodes sharing the hub: letters, digits, "-" and "_". */
  readonly node: string;
  readonly partitionCount: number;
  /** Replicas of the KV bucket when this creates it (3 on a three-server cluster). Default 1. */
  readonly replicas?: number;
  /** How long an unchanged lease or heartbeat stays valid. Default 5 s. */
  readonly leaseMs?: number;
  /** How often leases and the heartbeat are rewritten. Default 1 s. */
  readonly renewMs?: number;
  readonly handlers: LeaseHandlers;
  readonly log?: LeaseLog;
  /** Monotonic milliseconds (default performance.now): tests inject one they can jump forward. */
  readonly now?: () => number;
}

interface OwnedWaiter {
  resolve(): void;
  reject(error: Error): void;
}

/** Bucket creation may wait for a replica group to form; rounds use requests bounded by the lease. */
const OPEN_TIMEOUT_MS = 10_000;

export class PartitionLeases {
  private readonly holdings: HeldLeases;
  private readonly ages = new RevisionAges();
  private view: BucketView = NOTHING_SEEN;
  /** Set once a round has read the bucket. */
  private readBefore = false;
  private live: string[];
  private state: "running" | "stopping" | "stopped" | "abandoned" = "running";
  private readonly rounds: RoundLoop;
  private readonly watchdog: NodeJS.Timeout;
  private readonly stopWaiters: Array<() => void> = [];
  private readonly ownedWaiters = new Set<OwnedWaiter>();
  private readonly lastWarned = new Map<string, number>();
  private readonly node: string;
  private readonly partitionCount: number;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly address: LeaseBucketAddress,
    private readonly options: PartitionLeasesOptions,
  ) {
    this.node = options.node;
    this.partitionCount = options.partitionCount;
    this.leaseMs = options.leaseMs ?? 5_000;
    this.renewMs = options.renewMs ?? 1_000;
    this.now = options.now ?? (() => performance.now());
    this.live = [this.node];
    this.holdings = new HeldLeases({
      kv,
      node: this.node,
      leaseMs: this.leaseMs,
      now: this.now,
      handlers: options.handlers,
      warn: (message, fields) => this.warn(message, fields),
      changed: () => {
        this.settleOwnedWaiters();
        this.rounds.hurry();
      },
    });
    this.rounds = new RoundLoop(() => this.round(), this.renewMs, (error) => this.warn("partition lease round failed", { error: String(error) }));
    // Between rounds too, so that a round waiting on NATS does not hold back noticing a lapse.
    this.watchdog = setInterval(() => this.holdings.expireUnrenewed(), Math.max(10, Math.min(this.renewMs, this.leaseMs / 10)));
  }

  /** Opens (or creates) the hub's lease bucket, runs the first round, and keeps running rounds every `renewMs`. */
  static async start(connection: NatsConnection, options: PartitionLeasesOptions): Promise<PartitionLeases> {
    checkNodeName(options.node);
    if (!Number.isSafeInteger(options.partitionCount) || options.partitionCount < 1) throw new Error(`partitionCount must be a positive integer, not ${options.partitionCount}`);
    const leaseMs = options.leaseMs ?? 5_000;
    const renewMs = options.renewMs ?? 1_000;
    if (!(renewMs > 0 && leaseMs > renewMs)) throw new Error(`renewMs (${renewMs}) must be positive and shorter than leaseMs (${leaseMs})`);
    const address = leaseBucketAddress(options.hub);
    await openBucket(connection, address.bucket, options.replicas ?? 1);
    // A request that outlives the lease is of no use to a round: the lease is lost by then.
    const timeout = Math.max(1_000, Math.min(5_000, leaseMs));
    const kv = await connection.jetstream({ timeout }).views.kv(address.bucket, { bindOnly: true, allow_direct: false });
    const jsm = await connection.jetstreamManager({ timeout });
    const leases = new PartitionLeases(kv, jsm, address, options);
    await leases.rounds.start();
    return leases;
  }

  /** Drops the leases not renewed for a lease's length now (`lost` is called for each), not at the next watchdog tick. */
  expireUnrenewed(): void {
    if (!this.ended) this.holdings.expireUnrenewed();
  }

  /** Partitions whose lease this node holds and whose `acquired` resolved, ascending. */
  held(): number[] {
    return this.holdings.open();
  }

  /** Who owns the partition as last seen (this node for a lease it holds), undefined when free. */
  owner(partition: number): string | undefined {
    const phase = this.holdings.phase(partition);
    if (phase !== undefined && phase !== "closed") return this.node;
    return this.view.partitions[partition]?.value?.node ?? undefined;
  }

  /** Live nodes as last seen, this one included (until it stops), sorted. */
  liveNodes(): string[] {
    return [...this.live];
  }

  /** Resolves once every partition is held by a live node that has opened it, as seen from here; rejects after `timeoutMs`. */
  untilAllOwned(timeoutMs: number): Promise<void> {
    if (this.allOwned()) return Promise.resolve();
    if (this.state !== "running") return Promise.reject(new Error(`partition leases of node ${this.node} are ${this.state}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ownedWaiters.delete(waiter);
        reject(new Error(`not every one of ${this.partitionCount} partitions of hub ${this.options.hub} was owned within ${timeoutMs} ms (node ${this.node} holds ${this.held().length})`));
      }, timeoutMs);
      const waiter: OwnedWaiter = { resolve: () => (clearTimeout(timer), resolve()), reject: (error) => (clearTimeout(timer), reject(error)) };
      this.ownedWaiters.add(waiter);
    });
  }

  /** Graceful stop: hands off every partition (`releasing`, then gives the lease back), removes the heartbeat, stops the rounds. */
  async stop(): Promise<void> {
    if (this.ended) return;
    this.state = "stopping";
    const stopped = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    this.rounds.hurry();
    await stopped;
  }

  /** Stops at once without handing anything off, as a crash would: the leases and heartbeat lapse. For tests. */
  abandon(): void {
    if (this.ended) return;
    this.holdings.silence();
    this.finish("abandoned");
  }

  private async round(): Promise<void> {
    await this.holdings.renewAll();
    if (this.ended) return;
    if (this.state === "stopping") return this.windDown();
    const [, raw] = await Promise.all([this.writeHeartbeat(false), readLeaseBucket(this.kv, this.jsm, this.address, this.partitionCount)]);
    if (this.ended) return;
    this.view = seeBucket(raw, this.ages, this.now(), this.leaseMs);
    const firstRead = !this.readBefore;
    this.readBefore = true;
    this.live = this.liveFromView();
    if (this.state === "running") await this.rebalance(firstRead);
    this.settleOwnedWaiters();
  }

  /**
   * With `firstRead` (this process's first look at the bucket, before it took anything), a lease that
   * names this node is an earlier run's of this node (restarted after a crash): taken back at once, by
   * compare-and-set with a higher epoch like a lapsed one, rather than after waiting a lease's length
   * for it to lapse. Node names are unique among live nodes; should that earlier run still be alive
   * (paused), it loses the lease at its next renewal, and opening the log fences it out as with any
   * takeover.
   */
  private async rebalance(firstRead = false): Promise<void> {
    const share = fairShare(this.partitionCount, this.live, this.node);
    const holding = this.holdings.holding();
    if (holding.length < share) {
      const takeable = this.view.partitions.flatMap((seen, partition) => {
        if (!this.holdings.mayTake(partition)) return [];
        const earlierRun = firstRead && seen?.value?.node === this.node;
        return !seen || !seen.value?.node || seen.lapsed || earlierRun ? [{ partition, seen }] : [];
      });
      takeable.sort((a, b) => preference(this.node, b.partition) - preference(this.node, a.partition));
      await Promise.all(takeable.slice(0, share - holding.length).map(({ partition, seen }) => this.take(partition, seen)));
    } else if (holding.length > share) {
      const open = this.holdings.open();
      open.sort((a, b) => preference(this.node, a) - preference(this.node, b));
      if (open[0] !== undefined) this.holdings.close(open[0]);
    }
  }

  private async take(partition: number, seen: SeenKey<LeaseValue> | undefined): Promise<void> {
    const epoch = (seen?.value?.epoch ?? 0) + 1;
    const value = encodeValue({ node: this.node, epoch, open: false });
    const key = partitionLeaseKey(partition);
    const sentAt = this.now();
    try {
      const revision = seen ? await this.kv.update(key, value, seen.revision) : await this.kv.create(key, value);
      this.holdings.add(partition, epoch, revision, sentAt);
    } catch (error) {
      // Someone else wrote the key since it was read: they took it (or renewed it after all).
      if (!isWrongRevision(error)) this.warn("could not take a partition lease", { partition, error: String(error) });
    }
  }

  /** Stopping: hands off every open lease; once none is left, removes the heartbeat and ends. */
  private async windDown(): Promise<void> {
    for (const partition of this.holdings.open()) this.holdings.close(partition);
    if (this.holdings.size > 0) return this.writeHeartbeat(true);
    await this.kv.delete(heartbeatKey(this.node)).catch(() => undefined);
    this.live = this.live.filter((node) => node !== this.node);
    this.finish("stopped");
  }

  private async writeHeartbeat(leaving: boolean): Promise<void> {
    try {
      await this.kv.put(heartbeatKey(this.node), encodeValue({ node: this.node, at: Date.now(), leaving }));
    } catch (error) {
      this.warn("could not write the node heartbeat", { error: String(error) });
    }
  }

  private liveFromView(): string[] {
    const live = new Set(this.state === "running" ? [this.node] : []);
    for (const [node, seen] of this.view.heartbeats) {
      if (node !== this.node && seen.value && !seen.value.leaving && !seen.lapsed) live.add(node);
    }
    return [...live].sort();
  }

  private allOwned(): boolean {
    const live = new Set(this.live);
    for (let partition = 0; partition < this.partitionCount; partition++) {
      const phase = this.holdings.phase(partition);
      if (phase !== undefined) {
        if (phase !== "open") return false;
        continue;
      }
      const seen = this.view.partitions[partition];
      const owner = seen?.value?.node;
      if (!seen || seen.lapsed || !seen.value?.open || !owner || owner === this.node || !live.has(owner)) return false;
    }
    return true;
  }

  private settleOwnedWaiters(): void {
    if (this.ownedWaiters.size === 0 || !this.allOwned()) return;
    for (const waiter of this.ownedWaiters) waiter.resolve();
    this.ownedWaiters.clear();
  }

  private get ended(): boolean {
    return this.state === "stopped" || this.state === "abandoned";
  }

  private finish(state: "stopped" | "abandoned"): void {
    this.state = state;
    clearInterval(this.watchdog);
    this.rounds.stop();
    for (const resolve of this.stopWaiters.splice(0)) resolve();
    for (const waiter of this.ownedWaiters) waiter.reject(new Error(`partition leases of node ${this.node} were ${state}`));
    this.ownedWaiters.clear();
  }

  /** Warns once per message per lease length: a NATS outage fails every round. */
  private warn(message: string, fields: object): void {
    const now = performance.now();
    if (now - (this.lastWarned.get(message) ?? -Infinity) < this.leaseMs) return;
    this.lastWarned.set(message, now);
    this.options.log?.warn(message, { node: this.node, ...fields }); // the logger says which hub
  }
}

/** Creates the bucket unless it exists; two nodes starting together may race to create it, so once more on failure. */
async function openBucket(connection: NatsConnection, bucket: string, replicas: number): Promise<void> {
  const js = connection.jetstream({ timeout: OPEN_TIMEOUT_MS });
  try {
    await js.views.kv(bucket, { history: 1, replicas, allow_direct: false });
  } catch {
    await js.views.kv(bucket, { history: 1, replicas, allow_direct: false });
  }
}
