import type { JetStreamManager, KV, KvEntry } from "nats";
import { partitionLeaseKey, type LeaseBucketAddress, nodeOfHeartbeatSubject, heartbeatKey } from "./lease-names.js";
import { decodeHeartbeat, decodeLease, isPresent, type HeartbeatValue, type LeaseValue } from "./lease-values.js";

/** One key as this node last read it. */
export interface SeenKey<T> {
  readonly revision: number;
  /** Undefined when the key was deleted (it still has a revision: the delete marker's). */
  readonly value: T | undefined;
  /** The revision has not changed for a whole lease, by this node's clock since it first saw it. */
  readonly lapsed: boolean;
}

/** The bucket as one round read it. */
export interface BucketView {
  /** By partition; undefined for a key never written. */
  readonly partitions: ReadonlyArray<SeenKey<LeaseValue> | undefined>;
  /** By node name. */
  readonly heartbeats: ReadonlyMap<string, SeenKey<HeartbeatValue>>;
}

/** The empty view, before the first read. */
export const NOTHING_SEEN: BucketView = { partitions: [], heartbeats: new Map() };

/**
 * When this node first saw each key's current revision, on its own monotonic clock. Nothing compares
 * clocks between machines: a lease lapses when its revision stayed the same for a lease's length as
 * this node measured it.
 */
export class RevisionAges {
  private firstSeen = new Map<string, { readonly revision: number; readonly at: number }>();

  /** Takes in one read of the bucket (key → revision) made at `now`; keys not in it are forgotten. */
  update(revisions: ReadonlyMap<string, number>, now: number): void {
    const next = new Map<string, { revision: number; at: number }>();
    for (const [key, revision] of revisions) {
      const previous = this.firstSeen.get(key);
      next.set(key, previous?.revision === revision ? previous : { revision, at: now });
    }
    this.firstSeen = next;
  }

  /** How long the key has had the revision it had at the last update. */
  age(key: string, now: number): number {
    const seen = this.firstSeen.get(key);
    return seen ? now - seen.at : 0;
  }
}

export interface RawBucket {
  readonly partitions: ReadonlyArray<KvEntry | null>;
  readonly heartbeats: ReadonlyMap<string, KvEntry>;
}

/**
 * Reads every partition's lease and every node's heartbeat. Heartbeat keys are listed with one stream
 * info request (its subject filter answers with the subjects present) rather than `kv.keys()`, which
 * runs a consumer per call and can wait indefinitely when the connection drops while it lists.
 */
export async function readLeaseBucket(kv: KV, jsm: JetStreamManager, address: LeaseBucketAddress, partitionCount: number): Promise<RawBucket> {
  const [partitions, heartbeats] = await Promise.all([
    Promise.all(Array.from({ length: partitionCount }, (_, partition) => kv.get(partitionLeaseKey(partition)))),
    readHeartbeats(kv, jsm, address),
  ]);
  return { partitions, heartbeats };
}

async function readHeartbeats(kv: KV, jsm: JetStreamManager, address: LeaseBucketAddress): Promise<Map<string, KvEntry>> {
  const info = await jsm.streams.info(address.stream, { subjects_filter: address.heartbeatSubjects });
  const nodes = Object.keys(info.state.subjects ?? {}).map(nodeOfHeartbeatSubject);
  const entries = await Promise.all(nodes.map((node) => kv.get(heartbeatKey(node))));
  const heartbeats = new Map<string, KvEntry>();
  for (const [index, node] of nodes.entries()) {
    const entry = entries[index];
    if (entry) heartbeats.set(node, entry);
  }
  return heartbeats;
}

/** Turns a read into a view, aging each revision on this node's clock. */
export function seeBucket(raw: RawBucket, ages: RevisionAges, now: number, leaseMs: number): BucketView {
  const revisions = new Map<string, number>();
  raw.partitions.forEach((entry, partition) => entry && revisions.set(partitionLeaseKey(partition), entry.revision));
  for (const [node, entry] of raw.heartbeats) revisions.set(heartbeatKey(node), entry.revision);
  ages.update(revisions, now);

  const partitions = raw.partitions.map((entry, partition) => {
    if (!entry) return undefined;
    const lapsed = ages.age(partitionLeaseKey(partition), now) >= leaseMs;
    return { revision: entry.revision, value: isPresent(entry) ? decodeLease(entry) : undefined, lapsed };
  });
  const heartbeats = new Map<string, SeenKey<HeartbeatValue>>();
  for (const [node, entry] of raw.heartbeats) {
    const lapsed = ages.age(heartbeatKey(node), now) >= leaseMs;
    heartbeats.set(node, { revision: entry.revision, value: isPresent(entry) ? decodeHeartbeat(entry, node) : undefined, lapsed });
  }
  return { partitions, heartbeats };
}
