import { canonicalTaskHubName } from "../../protocol/index.js";

/** A cluster's name: several clusters can share NATS servers, each in its own names. */
export const CLUSTER_NAME = /^[a-z][a-z0-9]{0,15}$/;
const SCOPE = /^([a-z][a-z0-9]{0,15}_)?[a-z][a-z0-9]{2,44}$/;

/**
 * What a hub's NATS names (streams, buckets, subjects) are made from: the hub's canonical name, after
 * the cluster's name when it has one (`blue_default`).
 */
export function clusterScope(hub: string, clusterName?: string): string {
  const name = canonicalTaskHubName(hub);
  if (name === undefined) throw new Error(`"${hub}" is not a task hub name`);
  if (clusterName === undefined) return name;
  if (!CLUSTER_NAME.test(clusterName)) throw new Error(`"${clusterName}" is not a cluster name (1 to 16 lowercase letters and digits, starting with a letter)`);
  return `${clusterName}_${name}`;
}

/** The scope itself, checked (a hub name is a scope too). */
export function checkedScope(scope: string): string {
  const lower = scope.toLowerCase();
  if (!SCOPE.test(lower)) throw new Error(`"${scope}" is not a task hub name`);
  return lower;
}

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
  const name = checkedScope(hub);
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
