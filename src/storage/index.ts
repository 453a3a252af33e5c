export type { EntityMessage, InstanceMessage, InstanceReply, LockHolder, EntityRecord, EntityStore, MailboxAddress, MailboxMessage, Page, PageCursor, SignalFailure, SignalMark, WriteBatch } from "./entity-store.js";
export { StoreWriteError } from "./entity-store.js";
export { LmdbStore, type LmdbStoreOptions } from "./lmdb-store.js";
export { partitionOf, stableHash } from "./partition-hash.js";
export type { InstanceReads, InstanceWrites, TimerAddress, WorkItemAddress } from "./instance-records.js";
export { entityTypeOf, type DeadLetter, type DeadLetterAddress, type DeadLetterQuery, type DeadLetterReads, type DeadLetterWrites } from "./dead-letters.js";
export { DataDirInUseError } from "./data-dir-lock.js";
export { compareIds, type EntityListing, type EntityListingQuery, type ListedEntity } from "./entity-listing.js";
export type { CommitLog, LoggedWrites, LogPosition, PartitionWrites, StoreWrite } from "./commit-log.js";
