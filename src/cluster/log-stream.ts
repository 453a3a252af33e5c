import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager } from "nats";
import type { PartitionLogAddress } from "./log-names.js";

/** How long an inbox remembers a message id (a resent bundle within it is a duplicate; later ones the receiver drops by number). */
export const INBOX_DUPLICATE_WINDOW_MS = 120_000;

/** JetStream's "stream name already in use" (with another config): another node created it first. */
const STREAM_NAME_IN_USE = 10058;
const NOT_FOUND = 404;

export interface LogStreamOptions {
  /** Copies of every batch; an append is acknowledged once a majority of them hold it. */
  readonly replicas: number;
  /** How long the stream remembers a batch id, so that a retried append within it is a duplicate. */
  readonly duplicateWindowMs: number;
}

/**
 * Creates the partition's stream unless it exists. An existing stream is kept as it is (its replica
 * count is an operator's choice, changed with the nats tool, not by whichever node starts first).
 */
export async function ensureLogStream(jsm: JetStreamManager, address: PartitionLogAddress, options: LogStreamOptions): Promise<void> {
  try {
    await jsm.streams.info(address.stream);
    return;
  } catch (error) {
    if (apiErrorCode(error)?.code !== NOT_FOUND) throw error;
  }
  try {
    await jsm.streams.add({
      name: address.stream,
      subjects: [address.subject],
      num_replicas: options.replicas,
      storage: StorageType.File,
      // A log: nothing expires or is dropped; snapshots purge what they cover, explicitly.
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.New,
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      duplicate_window: options.duplicateWindowMs * 1_000_000,
    });
  } catch (error) {
    if (apiErrorCode(error)?.err_code !== STREAM_NAME_IN_USE) throw error;
  }
}

/** The JetStream API error a NATS client error carries, if it is one. */
export function apiErrorCode(error: unknown): { code: number; err_code: number; description: string } | undefined {
  const api = (error as { api_error?: { code: number; err_code: number; description: string } } | null)?.api_error;
  return api ?? undefined;
}
