import type { JetStreamManager } from "nats";
import type { LmdbStore } from "../storage/index.js";
import { INBOX_POSITION } from "./inbox-participant.js";
import { partitionInboxAddress } from "./log-names.js";

/**
 * Purges a partition's inbox up to where its copy has applied it. That position is in the partition's
 * log already (it is applied only once the log holds it), and a later owner reads on from there or
 * later, so nobody needs what lies before it. Called after the partition's snapshots.
 */
export async function trimInbox(jsm: JetStreamManager, hub: string, store: LmdbStore, partition: number): Promise<void> {
  const applied = Number(store.readPartitionValue(partition, INBOX_POSITION) ?? 0);
  if (!Number.isSafeInteger(applied) || applied < 1) return;
  await jsm.streams.purge(partitionInboxAddress(hub, partition).stream, { seq: applied + 1 });
}
