// Cluster mode (issue 14): a hub's partitions shared by nodes through NATS JetStream.
export { connectToNats } from "./nats-connection.js";
export { PartitionLog, type AppendAck, type LogEntry, type PartitionLogOptions } from "./partition-log.js";
export { LogFencedError, LogUnavailableError, isLogFencedError, isLogUnavailableError } from "./log-errors.js";
export { CLUSTER_NAME, partitionLogAddress, type PartitionLogAddress } from "./log-names.js";
export { ClusterPartitions, type ClusterOptions } from "./cluster-partitions.js";
