import type { Msg, NatsConnection } from "nats";
import { EntityError, ErrorCode, isEntityError, type FailurePageWire, type ListFrame } from "../../protocol/index.js";
import { errorMessage, type Logger } from "../log.js";
import type { InstanceStatus, OrchestrationHost } from "../orchestration/index.js";
import type { CleanReport, EntityRuntime } from "../runtime/index.js";
import { DEFAULT_PAGE as DEFAULT_FAILURE_PAGE, type FailureQuery } from "../runtime/dead-letter-book.js";
import { pageSteps } from "../server/instance-listing.js";
import type { EntityListing, EntityListingQuery, LmdbStore } from "../storage/index.js";
import { mergeCleanReports, mergeEntityPages, mergeFailures } from "./listing-merge.js";
import { partitionLogAddress } from "./log-names.js";
import { isRecord, jsonOf } from "./nats-payloads.js";
import { AnswerStream, askPartition } from "./partition-asks.js";
import { PartitionSubscriptions } from "./partition-subscriptions.js";
import { answerOf, answerPartitionQuery, errorAnswerOf, PartitionQuerySchema, type AnswerOf, type EntitiesQuery, type PartitionQuery, type PartitionServices } from "./partition-queries.js";

/** How long a part of a listing keeps looking for its partition's owner (a partition moving after a node died takes a lease's time). */
const OWNER_DEADLINE_MS = 30_000;
/** Longest silence of a partition's owner while it prepares its part (it says "still working" every second). */
const ANSWER_IDLE_MS = 10_000;
/** After a node says it does not own the partition, how long another may still start answering. */
const MOVED_GRACE_MS = 250;
const RETRY_DELAY_MS = 100;
/** Largest part of an answer taken from one partition (a page of large entity states). */
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An entity listing as the cluster answers it: what `EntityListingQuery` says, without the store-only parts. */
export type ClusterEntityQuery = Pick<EntityListingQuery, "type" | "keyPrefix" | "includeState" | "includeDeleted" | "modifiedFrom" | "modifiedTo" | "pageSize" | "after">;

/** Which finished instances a bulk purge deletes. */
export interface PurgeFilter {
  readonly runtimeStatus: ReadonlyArray<"Completed" | "Failed" | "Terminated">;
  readonly createdFrom: number;
  readonly createdTo: number;
}

/** What a clean does (as `cleanEntities`'s options, across the cluster). */
export interface ClusterCleanOptions {
  readonly entityType?: string | undefined;
  readonly removeEmpty?: boolean | undefined;
  readonly releaseOrphanedLocks?: boolean | undefined;
}

/**
 * Listings, counts and bulk changes over every partition of a hub, whichever node owns each
 * (scatter-gather): the node asked reads its own partitions and asks each other partition's owner on
 * `de.<hub>.queries.<p>`, where only the owner listens, then merges the parts into what one server
 * would answer (same order, same page bounds, continuations that any node takes). A partition whose
 * owner does not answer in time fails the whole request with `store_unavailable`: a listing without a
 * partition's part would look complete and not be. Clean and bulk purge run on each partition's owner.
 */
export class ClusterListings {
  private readonly subscriptions: PartitionSubscriptions;
  private readonly services: PartitionServices;
  private stopped = false;
  /** Whether live state on this node follows an entity (set by the hub once it has live state; `clean` keeps those). */
  isWatched: (entityId: string) => boolean = () => false;
  /**
   * Drops the leases that ran out (set once the leases run): called before deciding whether a partition
   * is this node's, so that a node resumed after a pause answers the questions that waited in its socket
   * as one that has lost those partitions (the asker finds their new owner), not from an old copy.
   */
  checkLocality: () => void = () => undefined;

  constructor(
    private readonly connection: NatsConnection,
    private readonly hub: string,
    private readonly store: LmdbStore,
    private readonly runtime: EntityRuntime,
    host: OrchestrationHost | undefined,
    private readonly log: Logger,
  ) {
    this.services = { store, runtime, host, isWatched: (entityId) => this.isWatched(entityId) };
    const onError = (partition: number, error: unknown) => this.log.warn("a partition query could not be answered", { partition, error: errorMessage(error) });
    this.subscriptions = new PartitionSubscriptions(connection, (partition) => querySubject(hub, partition), (partition, message) => this.serve(partition, message), onError);
  }

  // ── Owner side ──

  /** Answers the queries of exactly the partitions this node owns now. */
  owned(partitions: readonly number[]): void {
    this.subscriptions.owned(partitions);
  }

  /** True while this node answers the partition's queries. */
  isServing(partition: number): boolean {
    return this.subscriptions.isServing(partition);
  }

  stop(): void {
    this.stopped = true;
    this.subscriptions.stop();
  }

  private owns(partition: number): boolean {
    this.checkLocality();
    return this.store.localPartitions.includes(partition);
  }

  private serve(partition: number, message: Msg): void {
    // Answers go to an asker's inbox only: a frame published on another subject (a log, a JetStream API) could do harm there.
    if (!message.reply?.startsWith("_INBOX.")) {
      this.log.warn("a partition query without an inbox to answer to was dropped", { subject: message.subject });
      return;
    }
    const stream = new AnswerStream(this.connection, message.reply, (error) => this.log.warn("answering a partition query failed", { partition, error: errorMessage(error) }));
    const body = jsonOf(message);
    const parsed = PartitionQuerySchema.safeParse(isRecord(body) ? body.query : undefined);
    if (!parsed.success) {
      this.log.warn("a message on a partition's query subject that is not a query was refused", { subject: message.subject });
      return stream.answer(encoded({ error: { code: ErrorCode.bad_request, message: "not a partition query" } }));
    }
    if (!this.owns(partition)) return stream.moved();
    stream.working();
    void (async () => {
      let data: Uint8Array;
      try {
        data = encoded(await answerPartitionQuery(this.services, partition, parsed.data));
      } catch (error) {
        data = encoded({ error: this.refusal(error, parsed.data.kind) });
      }
      stream.answer(data);
    })();
  }

  /** An error as it travels to the asker: a coded refusal as it is; anything else is a bug, logged here. */
  private refusal(error: unknown, kind: string): { code: ErrorCode; message: string } {
    if (isEntityError(error)) return { code: error.code, message: error.message };
    this.log.error("a partition query failed", { kind, error: errorMessage(error), stack: (error as Error | undefined)?.stack });
    return { code: ErrorCode.internal, message: "a node of the cluster failed to answer for its partition (see its log)" };
  }

  // ── Asking side ──

  /** A page of entities of one type across the cluster (and their count when asked), as one store would list them. */
  async listEntities(query: ClusterEntityQuery, count: boolean): Promise<{ listing: EntityListing; count?: number }> {
    const { type, pageSize, keyPrefix, includeState, includeDeleted, modifiedFrom, modifiedTo, after } = query;
    const asked: EntitiesQuery = { kind: "entities", type, pageSize, ...definedOnly({ keyPrefix, includeState, includeDeleted, modifiedFrom, modifiedTo, after }), ...(count ? { count: true } : {}) };
    const parts = await this.everyPartition((partition) => this.read(partition, asked, "listing"));
    return mergeEntityPages(parts, query);
  }

  /**
   * A page of instances across the cluster, partition by partition as one store lists them. A
   * continuation this server did not give throws a plain Error (a bad request); a partition without an
   * answer, an EntityError.
   */
  async listInstances(frame: ListFrame): Promise<{ instances: InstanceStatus[]; continuation?: string }> {
    const filter = definedOnly({ runtimeStatus: frame.runtimeStatus, name: frame.name, createdFrom: frame.createdFrom, createdTo: frame.createdTo, instanceIdPrefix: frame.instanceIdPrefix });
    const steps = pageSteps(frame, this.store.partitionCount);
    let step = steps.next();
    while (!step.done) {
      const { partition, afterId, limits } = step.value;
      const scan = await this.read(partition, { kind: "instances", filter, ...(afterId === undefined ? {} : { afterId }), limits }, "listing");
      step = steps.next(scan);
    }
    return step.value;
  }

  /** A page of failed signals between entities across the cluster, newest first. */
  async failures(query: FailureQuery): Promise<FailurePageWire> {
    const limit = query.limit ?? DEFAULT_FAILURE_PAGE;
    const asked = { kind: "failures" as const, limit: limit + 1, ...definedOnly({ entityType: query.entityType, before: query.before }) };
    const parts = await this.everyPartition(async (partition) => ({ partition, ...(await this.read(partition, asked, "listing")) }));
    return mergeFailures(parts, limit);
  }

  /** Cleans entity storage on every partition's owner; one report for all. */
  async clean(options: ClusterCleanOptions): Promise<CleanReport> {
    const removeEmpty = options.removeEmpty ?? true;
    const releaseOrphanedLocks = options.releaseOrphanedLocks ?? true;
    if (!removeEmpty && !releaseOrphanedLocks) return { removedEmpty: 0, locksFreed: 0, removed: [], unlocked: [] };
    const problem = options.entityType === undefined ? undefined : this.runtime.registry.check(`${options.entityType}/_`);
    if (problem) throw problem; // an unknown type: its entities cannot be loaded to be cleaned
    const asked = { kind: "clean" as const, removeEmpty, releaseOrphanedLocks, ...definedOnly({ entityType: options.entityType }) };
    const reports = await this.onEveryPartition((partition) => this.read(partition, asked, "change"));
    return mergeCleanReports(reports, options.entityType === undefined ? this.runtime.registry.names : [options.entityType]);
  }

  /** Purges the matching finished instances on every partition's owner; resolves with how many were deleted. */
  async purge(filter: PurgeFilter): Promise<number> {
    const asked = { kind: "purge" as const, runtimeStatus: [...filter.runtimeStatus], createdFrom: filter.createdFrom, createdTo: filter.createdTo };
    const parts = await this.onEveryPartition((partition) => this.read(partition, asked, "change"));
    return parts.reduce((sum, part) => sum + part.instancesDeleted, 0);
  }

  /** Every partition's part of a read; the first failure fails it. */
  private everyPartition<T>(read: (partition: number) => Promise<T>): Promise<T[]> {
    return Promise.all(Array.from({ length: this.store.partitionCount }, (_, partition) => read(partition)));
  }

  /** Every partition's part of a change, each run to its end; then the first failure fails it (the other partitions' parts are done). */
  private async onEveryPartition<T>(change: (partition: number) => Promise<T>): Promise<T[]> {
    const results = await Promise.allSettled(Array.from({ length: this.store.partitionCount }, (_, partition) => change(partition)));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failed) throw failed.reason;
    return results.map((result) => (result as PromiseFulfilledResult<T>).value);
  }

  /**
   * One partition's part: from this node's store when it owns the partition, else from its owner
   * (found again while the partition moves, for up to 30 s). Fails with `store_unavailable` when the
   * owner stays silent: a part missing would make the answer look complete when it is not.
   */
  private async read<Q extends PartitionQuery>(partition: number, query: Q, what: "listing" | "change"): Promise<AnswerOf<Q>> {
    const deadline = Date.now() + OWNER_DEADLINE_MS;
    const payload = encoded({ query });
    const applied = what === "change" ? "; the other partitions' parts were done, and this one's may or may not be: the request can be sent again" : "; no partial answer is given: try again";
    for (;;) {
      if (this.owns(partition)) return answerPartitionQuery(this.services, partition, query);
      if (this.stopped) throw unavailable(`this node is leaving the cluster and cannot ask partition ${partition}'s owner`);
      const result = await askPartition(this.connection, querySubject(this.hub, partition), payload, { idleMs: ANSWER_IDLE_MS, maxBytes: MAX_ANSWER_BYTES, movedGraceMs: MOVED_GRACE_MS });
      switch (result.kind) {
        case "answer": {
          let value: unknown;
          try {
            value = JSON.parse(decoder.decode(result.data));
          } catch {
            value = undefined;
          }
          const refusal = errorAnswerOf(value);
          if (refusal) throw new EntityError(refusal.code, refusal.message);
          const answer = answerOf(query, partition, (id) => this.store.partitionOf(id), value);
          if (answer !== undefined) return answer;
          this.log.warn("a partition's owner answered a query with something that is not an answer", { partition, kind: query.kind });
          throw unavailable(`the node owning partition ${partition} gave an answer that is not one${applied}`);
        }
        case "timeout":
          throw unavailable(`the node owning partition ${partition} did not answer within ${ANSWER_IDLE_MS / 1000} s${applied}`);
        case "too-large":
          throw unavailable(`partition ${partition}'s part of the answer is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB${applied}`);
        case "unsent":
          throw unavailable(`partition ${partition}'s owner could not be asked (${result.reason})${applied}`);
        case "moved":
        case "no-owner":
          if (Date.now() >= deadline) throw unavailable(`no node of the cluster answered for partition ${partition} within ${OWNER_DEADLINE_MS / 1000} s${applied}`);
          await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
  }
}

function querySubject(hub: string, partition: number): string {
  return partitionLogAddress(hub, partition).subject.replace(".log.", ".queries.");
}

function unavailable(message: string): EntityError {
  return new EntityError(ErrorCode.store_unavailable, message);
}

function encoded(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** The object without its undefined properties (as it would travel as JSON; the schemas take absent, not undefined). */
function definedOnly<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
