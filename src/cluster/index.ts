// Cluster mode (issue 14), under construction: nothing else imports this yet.
export { connectToNats } from "./nats-connection.js";
export { PartitionLog, type AppendAck, type LogEntry, type PartitionLogOptions } from "./partition-log.js";
export { LogFencedError, LogUnavailableError, isLogFencedError, isLogUnavailableError } from "./log-errors.js";
export { partitionLogAddress, type PartitionLogAddress } from "./log-names.js";
