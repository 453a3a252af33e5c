import type { KvEntry } from "nats";

/**
 * A partition's lease as stored under `p.<partition>`. `node` is null once its owner gave it back:
 * the key is rewritten rather than deleted, so that the next owner still learns the epoch to go past.
 */
export interface LeaseValue {
  readonly node: string | null;
  /** 1 for the partition's first owner, one more for each owner after. */
  readonly epoch: number;
  /** The owner has opened the partition (its `acquired` resolved) and is not handing it off. */
  readonly open: boolean;
}

/** A node's heartbeat as stored under `n.<node>`; `at` is the writer's wall clock, for people only. */
export interface HeartbeatValue {
  readonly node: string;
  readonly at: number;
  /** The node is stopping: it takes nothing more, so the others no longer count it in the fair share. */
  readonly leaving: boolean;
}

const encoder = new TextEncoder();

export function encodeValue(value: LeaseValue | HeartbeatValue): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Whether the entry holds a value (a key that was deleted or purged reads back as a marker). */
export function isPresent(entry: KvEntry | null): entry is KvEntry {
  return entry !== null && entry.operation === "PUT";
}

/**
 * The lease an entry holds. A value this code did not write (malformed) reads as given back at epoch
 * 0: the key can still be taken over by compare-and-set, and the next epoch is 1.
 */
export function decodeLease(entry: KvEntry): LeaseValue {
  const value = parseJson(entry) as Partial<LeaseValue> | undefined;
  const node = typeof value?.node === "string" ? value.node : null;
  const epoch = Number.isSafeInteger(value?.epoch) && value!.epoch! > 0 ? value!.epoch! : 0;
  return { node, epoch, open: node !== null && value?.open === true };
}

export function decodeHeartbeat(entry: KvEntry, node: string): HeartbeatValue {
  const value = parseJson(entry) as Partial<HeartbeatValue> | undefined;
  return { node, at: typeof value?.at === "number" ? value.at : 0, leaving: value?.leaving === true };
}

function parseJson(entry: KvEntry): unknown {
  try {
    return entry.json();
  } catch {
    return undefined;
  }
}
