import { canonicalTaskHubName } from "../../protocol/index.js";

/**
 * Where a partition's log lives: one JetStream stream per partition of a hub, with one subject.
 *
 * One stream per partition, not one per hub with a subject per partition: the fencing check, an
 * expected last message id, compares with the last message of the whole stream, so partitions
 * sharing a stream would refuse each other's appends (measured on nats-server 2.9.10). A stream per
 * partition also gives each partition its own replication group, which spreads stream leaders over
 * the NATS servers.
 */
export interface PartitionLogAddress {
  readonly stream: string;
  readonly subject: string;
}

export function partitionLogAddress(hub: string, partition: number): PartitionLogAddress {
  const name = canonicalTaskHubName(hub);
  if (name === undefined) throw new Error(`"${hub}" is not a task hub name`);
  if (!Number.isInteger(partition) || partition < 0) throw new Error(`partition must be a non-negative integer, not ${partition}`);
  return { stream: `DE_${name}_LOG_${partition}`, subject: `de.${name}.log.${partition}` };
}

/**
 * Where messages to a partition from other partitions arrive: a stream per partition of a hub,
 * written by any node (no fencing: each message carries its sender's outbox numbers, and the
 * receiving owner drops what it applied already), read by the partition's owner.
 */
export function partitionInboxAddress(hub: string, partition: number): PartitionLogAddress {
  const { stream, subject } = partitionLogAddress(hub, partition);
  return { stream: stream.replace("_LOG_", "_INBOX_"), subject: subject.replace(".log.", ".inbox.") };
}
