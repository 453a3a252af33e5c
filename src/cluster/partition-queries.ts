import * as z from "zod";
import { CleanEntitiesResultSchema, ENTITY_NAME_PATTERN, ERROR_CODES, FailedSignalSchema, InstanceStatusSchema, MAX_ENTITY_PAGE, MAX_FAILURES_PAGE, MAX_KEY_PREFIX, OrchestrationName, RequestId, RuntimeStatusName, type FailedSignalWire } from "../../protocol/index.js";
import type { InstanceStatus, OrchestrationHost } from "../orchestration/index.js";
import { cleanEntities, type CleanReport, type EntityRuntime, type Outcome } from "../runtime/index.js";
import { failureWire, MAX_PAGE_CHARS as MAX_FAILURE_PAGE_CHARS } from "../runtime/dead-letter-book.js";
import { instanceMatcher, scanPartition, type PartitionScan } from "../server/instance-listing.js";
import type { EntityListingQuery, ListedEntity, LmdbStore } from "../storage/index.js";

/**
 * What one partition is asked for by a listing, a count or a bulk change that covers every partition
 * (cluster-listings.ts): the same question whether the partition is read here or by its owner, and its
 * answer. Questions and answers that come over NATS are checked against these schemas before use.
 */

const EntityTypeName = z.string().regex(ENTITY_NAME_PATTERN);
/** Longest id a query carries, in UTF-16 units (an entity id: a type of at most 128 and a key of at most 512 characters, each up to two units). */
const MAX_ID = 2048;
/** Most records one scan may read (a page's scan budget is at most 10 × 1,000). */
const MAX_BUDGET = 1_000_000;
const FINISHED = ["Completed", "Failed", "Terminated"] as const;

const EntitiesQuery = z.object({
  kind: z.literal("entities"),
  type: EntityTypeName,
  keyPrefix: z.string().max(MAX_KEY_PREFIX).optional(),
  includeState: z.boolean().optional(),
  includeDeleted: z.boolean().optional(),
  modifiedFrom: z.number().optional(),
  modifiedTo: z.number().optional(),
  pageSize: z.number().int().positive().max(MAX_ENTITY_PAGE),
  after: z.string().max(MAX_ID).optional(),
  count: z.boolean().optional(),
});

const InstancesQuery = z.object({
  kind: z.literal("instances"),
  filter: z.object({
    runtimeStatus: z.array(RuntimeStatusName).max(6).optional(),
    name: OrchestrationName.optional(),
    createdFrom: z.number().optional(),
    createdTo: z.number().optional(),
    instanceIdPrefix: z.string().max(256).optional(),
  }),
  afterId: z.string().max(MAX_ID).optional(),
  limits: z.object({ want: z.number().int().positive().max(1000), budget: z.number().int().positive().max(MAX_BUDGET), bytes: z.number().positive() }),
});

const FailuresQuery = z.object({
  kind: z.literal("failures"),
  entityType: EntityTypeName.optional(),
  limit: z.number().int().positive().max(MAX_FAILURES_PAGE + 1),
  before: RequestId.optional(),
});

const CleanQuery = z.object({
  kind: z.literal("clean"),
  entityType: EntityTypeName.optional(),
  removeEmpty: z.boolean(),
  releaseOrphanedLocks: z.boolean(),
});

const PurgeQuery = z.object({
  kind: z.literal("purge"),
  runtimeStatus: z.array(z.enum(FINISHED)).min(1).max(FINISHED.length),
  createdFrom: z.number(),
  createdTo: z.number(),
});

export const PartitionQuerySchema = z.discriminatedUnion("kind", [EntitiesQuery, InstancesQuery, FailuresQuery, CleanQuery, PurgeQuery]);
export type PartitionQuery = z.infer<typeof PartitionQuerySchema>;
export type EntitiesQuery = z.infer<typeof EntitiesQuery>;
export type InstancesQuery = z.infer<typeof InstancesQuery>;
export type FailuresQuery = z.infer<typeof FailuresQuery>;
export type CleanQuery = z.infer<typeof CleanQuery>;
export type PurgeQuery = z.infer<typeof PurgeQuery>;

/** A partition's part of an entity listing: its matches after `after` up to `next` (all of them: see entity-listing.ts), and its count when asked. */
export interface EntitiesAnswer {
  readonly entities: ListedEntity[];
  /** The last id read, when the partition may hold more after it. */
  readonly next?: string;
  readonly count?: number;
}

/** A partition's newest failures below `before`: all of them down to the last one given; `more` when older ones may follow. */
export interface FailuresAnswer {
  readonly failures: FailedSignalWire[];
  readonly more: boolean;
}

export interface PurgeAnswer {
  readonly instancesDeleted: number;
}

export type AnswerOf<Q extends PartitionQuery> = Q extends EntitiesQuery ? EntitiesAnswer : Q extends InstancesQuery ? PartitionScan : Q extends FailuresQuery ? FailuresAnswer : Q extends CleanQuery ? CleanReport : PurgeAnswer;

/** What answering a partition's query needs of this node. */
export interface PartitionServices {
  readonly store: LmdbStore;
  readonly runtime: EntityRuntime;
  readonly host: OrchestrationHost | undefined;
  /** True while live state here follows the entity (`clean` keeps its record). */
  isWatched(entityId: string): boolean;
}

/** Instances purged per step of a partition's purge (the event loop runs between steps). */
const PURGE_STEP = 1_000;
const PURGE_SCAN = 10_000;

/** Answers one partition's part of a query from this node's store (and runtime, for `clean` and `purge`). */
export async function answerPartitionQuery<Q extends PartitionQuery>(services: PartitionServices, partition: number, query: Q): Promise<AnswerOf<Q>> {
  return (await answer(services, partition, query)) as AnswerOf<Q>;
}

async function answer(services: PartitionServices, partition: number, query: PartitionQuery): Promise<unknown> {
  const { store } = services;
  switch (query.kind) {
    case "entities": {
      const { kind: _kind, count, ...rest } = query;
      const listing: EntityListingQuery = { ...rest, partitions: [partition] };
      const page = store.listEntities(listing);
      const counted = count === true ? { count: await store.countEntities(listing) } : {};
      return { entities: page.entities, ...(page.next === undefined ? {} : { next: page.next }), ...counted } satisfies EntitiesAnswer;
    }
    case "instances":
      return scanPartition(store, partition, instanceMatcher(query.filter), query.afterId, query.limits);
    case "failures": {
      const letters = store.readDeadLetters({ limit: query.limit, partitions: [partition], ...(query.entityType === undefined ? {} : { entityType: query.entityType }), ...(query.before === undefined ? {} : { before: query.before }) });
      const failures: FailedSignalWire[] = [];
      let chars = 0;
      for (const letter of letters) {
        if (failures.length > 0 && chars >= MAX_FAILURE_PAGE_CHARS) return { failures, more: true } satisfies FailuresAnswer;
        const failure = failureWire(letter);
        chars += JSON.stringify(failure).length;
        failures.push(failure);
      }
      return { failures, more: letters.length >= query.limit } satisfies FailuresAnswer;
    }
    case "clean": {
      const { entityType, removeEmpty, releaseOrphanedLocks } = query;
      return cleanEntities(services.runtime, { ...(entityType === undefined ? {} : { entityType }), removeEmpty, releaseOrphanedLocks, isWatched: (id) => services.isWatched(id), partitions: [partition] });
    }
    case "purge":
      return { instancesDeleted: await purgePartition(services, partition, query) } satisfies PurgeAnswer;
  }
}

/** Purges the partition's finished instances that match, a step at a time; resolves with how many were deleted. */
async function purgePartition(services: PartitionServices, partition: number, query: PurgeQuery): Promise<number> {
  const { host, store } = services;
  if (host === undefined) return 0; // an app without orchestrations has no instances
  const matches = instanceMatcher({ runtimeStatus: query.runtimeStatus, createdFrom: query.createdFrom, createdTo: query.createdTo });
  let deleted = 0;
  let afterId: string | undefined;
  for (;;) {
    const scan = scanPartition(store, partition, matches, afterId, { want: PURGE_STEP, budget: PURGE_SCAN, bytes: Number.POSITIVE_INFINITY });
    const outcomes = await Promise.all(scan.instances.map((status) => purged(host, status.instanceId)));
    for (const outcome of outcomes) if (outcome.kind === "result") deleted += (outcome.value as { instancesDeleted?: number }).instancesDeleted ?? 0;
    if (scan.stoppedAt === undefined || !scan.stoppedAt.rest) return deleted;
    afterId = scan.stoppedAt.id;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function purged(host: OrchestrationHost, instanceId: string): Promise<Outcome> {
  return new Promise((resolve) => host.submit({ kind: "purge", instanceId, requestId: 0, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }));
}

// ── Answers received from other nodes, checked ──

const ListedEntitySchema = z.object({
  id: z.string(),
  version: z.number().int().nonnegative(),
  modifiedAt: z.number().optional(),
  state: z.unknown().optional(),
  lock: z.object({ instanceId: z.string(), generation: z.number() }).optional(),
});
const EntitiesAnswerSchema = z.object({ entities: z.array(ListedEntitySchema), next: z.string().optional(), count: z.number().int().nonnegative().optional() });
const PartitionScanSchema = z.object({
  instances: z.array(InstanceStatusSchema),
  scanned: z.number().int().nonnegative(),
  bytes: z.number().nonnegative(),
  stoppedAt: z.object({ id: z.string(), rest: z.boolean() }).optional(),
});
const FailuresAnswerSchema = z.object({ failures: z.array(FailedSignalSchema), more: z.boolean() });
const PurgeAnswerSchema = z.object({ instancesDeleted: z.number().int().nonnegative() });
const ErrorAnswerSchema = z.object({ error: z.object({ code: z.enum(ERROR_CODES), message: z.string().max(4096) }) });

/** An owner's refusal (its coded error), as it travels. */
export type ErrorAnswer = z.infer<typeof ErrorAnswerSchema>;

/** A refusal the owner sent, or undefined when the value is not one. */
export function errorAnswerOf(value: unknown): ErrorAnswer["error"] | undefined {
  const parsed = ErrorAnswerSchema.safeParse(value);
  return parsed.success ? parsed.data.error : undefined;
}

/**
 * An owner's answer to `query` about `partition`, checked: its shape, and that what it lists belongs
 * where it was asked (the partition, the type, the order and bounds the merge relies on). Undefined
 * when it is not such an answer.
 */
export function answerOf<Q extends PartitionQuery>(query: Q, partition: number, partitionOf: (id: string) => number, value: unknown): AnswerOf<Q> | undefined {
  return checked(query, partition, partitionOf, value) as AnswerOf<Q> | undefined;
}

function checked(query: PartitionQuery, partition: number, partitionOf: (id: string) => number, value: unknown): unknown {
  switch (query.kind) {
    case "entities": {
      const parsed = EntitiesAnswerSchema.safeParse(value);
      if (!parsed.success) return undefined;
      const { entities, next } = parsed.data;
      const prefix = `${query.type}/${query.keyPrefix ?? ""}`;
      if (entities.length > query.pageSize || entities.some((entity) => !entity.id.startsWith(prefix) || partitionOf(entity.id) !== partition)) return undefined;
      if (next !== undefined && !next.startsWith(`${query.type}/`)) return undefined;
      return parsed.data as EntitiesAnswer;
    }
    case "instances": {
      const parsed = PartitionScanSchema.safeParse(value);
      if (!parsed.success) return undefined;
      const { instances } = parsed.data;
      if (instances.length > query.limits.want || instances.some((status) => partitionOf(status.instanceId) !== partition)) return undefined;
      return { ...parsed.data, instances: instances as InstanceStatus[] } as PartitionScan;
    }
    case "failures": {
      const parsed = FailuresAnswerSchema.safeParse(value);
      if (!parsed.success) return undefined;
      const { failures } = parsed.data;
      const ofType = (id: string) => query.entityType === undefined || id.startsWith(`${query.entityType}/`);
      if (failures.length > query.limit || failures.some((failure) => partitionOf(failure.entityId) !== partition || !ofType(failure.entityId) || (query.before !== undefined && failure.seq >= query.before))) return undefined;
      return parsed.data as FailuresAnswer;
    }
    case "clean": {
      const parsed = CleanEntitiesResultSchema.safeParse(value);
      return parsed.success ? (parsed.data as CleanReport) : undefined;
    }
    case "purge": {
      const parsed = PurgeAnswerSchema.safeParse(value);
      return parsed.success ? parsed.data : undefined;
    }
  }
}
