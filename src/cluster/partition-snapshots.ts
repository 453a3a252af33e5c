import type { KV, NatsConnection, ObjectStore } from "nats";
import type { LogPosition, StoreWrite } from "../storage/index.js";
import { isWrongRevision } from "./lease-holdings.js";
import { decodeEntry, encodeEntry } from "./log-entry.js";
import { checkedScope } from "./log-names.js";
import { isRecord, jsonOf } from "./nats-payloads.js";

/** Where the latest snapshot of a partition is: the log entry it covers up to, and the object holding it. */
export interface SnapshotPointer extends LogPosition {
  readonly object: string;
}

export interface SavedSnapshot {
  /** The snapshot it replaced as the latest, undefined when it is the partition's first. */
  readonly replaced: SnapshotPointer | undefined;
}

/**
 * A hub's partition snapshots: each one a partition's whole state as of a log position, in a
 * JetStream object store (`DE_<hub>_SNAPSHOTS`, objects `p.<partition>.<sequence>`), and a pointer
 * to each partition's latest in a KV bucket (`DE_<hub>_SNAPSHOT_INDEX`, keys `p.<partition>`).
 *
 * The pointer only moves forward (compare-and-set on its revision, and only to a later sequence), so
 * a node that lost a partition without knowing it yet cannot put an older snapshot in place of a
 * newer one; a snapshot it saves at a later sequence is still right, since a writer's copy is always
 * exactly its log's first entries (the log refuses any append that does not follow its last entry).
 * The log is purged only below the pointer, never beyond: the entry a pointer names stays in the log,
 * which is how a new owner checks that the snapshot belongs to this log.
 */
export class PartitionSnapshots {
  private constructor(
    private readonly objects: ObjectStore,
    private readonly index: KV,
  ) {}

  static async open(connection: NatsConnection, options: { readonly hub: string; readonly replicas: number }): Promise<PartitionSnapshots> {
    const name = checkedScope(options.hub);
    const views = connection.jetstream().views;
    const objects = await views.os(`DE_${name}_SNAPSHOTS`, { replicas: options.replicas });
    const index = await views.kv(`DE_${name}_SNAPSHOT_INDEX`, { replicas: options.replicas, history: 1 });
    return new PartitionSnapshots(objects, index);
  }

  /** The pointer to a partition's latest snapshot, undefined when it has none (or an unreadable one). */
  async latest(partition: number): Promise<SnapshotPointer | undefined> {
    return (await this.readPointer(partition))?.pointer;
  }

  /** The writes that make a snapshot's state; undefined when the object is gone (a later snapshot replaced it: ask again). */
  async load(pointer: SnapshotPointer): Promise<StoreWrite[] | undefined> {
    const object = await this.objects.get(pointer.object);
    if (object === null) return undefined;
    const reader = object.data.getReader();
    const chunks: Uint8Array[] = [];
    const reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        chunks.push(value);
      }
    })();
    reading.catch(() => undefined);
    // An object removed while it is read (a newer snapshot replaced it) never delivers its last chunk:
    // look again now and then, and give up on it once it is gone.
    for (let checks = 0; ; checks++) {
      const timer = new Promise<"check">((resolve) => setTimeout(() => resolve("check"), 1_000));
      if ((await Promise.race([reading.then(() => "read" as const), timer])) === "read") break;
      const info = await this.objects.info(pointer.object);
      if (info === null || info.deleted || info.nuid !== object.info.nuid || checks >= 30) {
        await reader.cancel().catch(() => undefined);
        if (checks >= 30) throw new Error(`snapshot object ${pointer.object} could not be read`);
        return undefined;
      }
    }
    await object.error;
    const whole = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      whole.set(chunk, at);
      at += chunk.length;
    }
    return decodeEntry(whole);
  }

  /**
   * Saves a partition's state as of `position` and makes it the latest, unless a snapshot at the same
   * or a later position is the latest already (then this one is removed again, and undefined returned).
   */
  async save(partition: number, position: LogPosition, writes: readonly StoreWrite[], ofThisLog: (pointer: SnapshotPointer) => Promise<boolean> = async () => true): Promise<SavedSnapshot | undefined> {
    const object = `p.${partition}.${position.sequence}`;
    await this.objects.putBlob({ name: object, description: position.batchId }, encodeEntry(writes));
    const pointer: SnapshotPointer = { sequence: position.sequence, batchId: position.batchId, object };
    for (;;) {
      const current = await this.readPointer(partition);
      if (current?.pointer !== undefined && current.pointer.sequence >= position.sequence && (await ofThisLog(current.pointer))) {
        if (current.pointer.object !== object) await this.remove(object);
        return undefined;
      }
      try {
        // A partition's first pointer is created: refused, like an update, if one appeared meanwhile.
        const key = pointerKey(partition);
        if (current === undefined) await this.index.create(key, JSON.stringify(pointer));
        else await this.index.update(key, JSON.stringify(pointer), current.revision);
        return { replaced: current?.pointer };
      } catch (error) {
        if (!isWrongRevision(error)) throw error;
        // Another writer moved the pointer meanwhile: look again.
      }
    }
  }

  /** The partition's snapshots in the bucket, newest first, as pointers (for when the pointer is unusable). */
  async stored(partition: number): Promise<SnapshotPointer[]> {
    const found: SnapshotPointer[] = [];
    for (const info of await this.objects.list()) {
      const match = /^p\.(\d+)\.(\d+)$/.exec(info.name);
      if (info.deleted || !match || Number(match[1]) !== partition || !info.description) continue;
      found.push({ sequence: Number(match[2]), batchId: info.description, object: info.name });
    }
    return found.sort((a, b) => b.sequence - a.sequence);
  }

  /** Removes the partition's objects below the latest snapshot (left by nodes that died while snapshotting). */
  async removeOlder(partition: number, latest: SnapshotPointer): Promise<void> {
    for (const info of await this.objects.list()) {
      const match = /^p\.(\d+)\.(\d+)$/.exec(info.name);
      if (info.deleted || !match || Number(match[1]) !== partition || Number(match[2]) >= latest.sequence) continue;
      await this.remove(info.name);
    }
  }

  /** Removes a snapshot's object (one a later snapshot replaced); a missing one is no error. */
  async remove(object: string): Promise<void> {
    await this.objects.delete(object).catch((error: unknown) => {
      if (!/not found/i.test(String(error))) throw error;
    });
  }

  private async readPointer(partition: number): Promise<{ pointer: SnapshotPointer | undefined; revision: number } | undefined> {
    const entry = await this.index.get(pointerKey(partition));
    if (entry === null) return undefined;
    return { pointer: entry.operation === "PUT" ? pointerOf(jsonOf({ data: entry.value })) : undefined, revision: entry.revision };
  }
}

const pointerKey = (partition: number): string => `p.${partition}`;

function pointerOf(value: unknown): SnapshotPointer | undefined {
  if (!isRecord(value)) return undefined;
  const { sequence, batchId, object } = value;
  if (typeof sequence !== "number" || !Number.isSafeInteger(sequence) || sequence < 1) return undefined;
  if (typeof batchId !== "string" || typeof object !== "string") return undefined;
  return { sequence, batchId, object };
}
