import * as z from "zod";
import { ENTITY_NAME_PATTERN, EntityId } from "./entity-id.js";
import { isKeyText, KEY_TEXT_RULE } from "./key-text.js";
import { RequestId } from "./request-id.js";

/** Most entities one `listEntities` page holds (the default is 100). */
export const MAX_ENTITY_PAGE = 1000;
/** Longest key prefix a listing takes (an entity key has at most 512 characters). */
export const MAX_KEY_PREFIX = 512;
/** Longest continuation token a listing takes. */
export const MAX_ENTITY_CONTINUATION = 2048;

const EntityTypeName = z.string().regex(ENTITY_NAME_PATTERN, "an entity type name starts with a letter or _ and holds only letters, digits, _ . - (at most 128)");

/**
 * Lists the entities of one type, in one order by id (across every partition), a page at a time.
 * Answered with `result` `{ entities, continuation?, count? }`: pass `continuation` back, with the
 * same filter, for the next page (a page can be short, even empty, and still have one: a page reads
 * a bounded number of records). Entities without state (deleted, not yet cleaned) are left out
 * unless `includeDeleted`.
 */
export const ListEntitiesFrame = z.object({
  type: z.literal("listEntities"),
  id: RequestId,
  entityType: EntityTypeName,
  /** Match `entityType` ignoring case (ASCII), as Durable Functions' HTTP API does; default exact. */
  ignoreCase: z.boolean().optional(),
  /** Only keys starting with this. */
  prefix: z.string().max(MAX_KEY_PREFIX).refine(isKeyText, { message: `prefix must be ${KEY_TEXT_RULE}` }).optional(),
  /** Put each entity's state in the page (default false). */
  includeState: z.boolean().optional(),
  /** Also entities that have no state: deleted and not yet cleaned, or only holding a lock (default false). */
  includeDeleted: z.boolean().optional(),
  /** Only entities last modified at or after / at or before this time (epoch ms). */
  modifiedFrom: z.number().optional(),
  modifiedTo: z.number().optional(),
  /** Default 100, at most 1,000 (a page also ends at about 1 MiB). */
  pageSize: z.number().int().positive().max(MAX_ENTITY_PAGE).optional(),
  /** From the previous page's answer. */
  continuation: z.string().max(MAX_ENTITY_CONTINUATION).optional(),
  /** Also count every entity the filter matches (the whole type is read for it: slower). */
  count: z.boolean().optional(),
});
export type ListEntitiesFrame = z.infer<typeof ListEntitiesFrame>;

/**
 * Deletes an entity's state, in its turn, like an operation calling `deleteState()`: answered with
 * `result` `{ deleted }` (false when it had no state) once durable. An entity an orchestration holds
 * in a critical section is deleted once the lock is released.
 */
export const DeleteEntityFrame = z.object({ type: z.literal("deleteEntity"), id: RequestId, entity: EntityId });
export type DeleteEntityFrame = z.infer<typeof DeleteEntityFrame>;

/**
 * Cleans entity storage: removes entities that have no state (and no lock, nothing waiting, no live
 * subscriber), and frees locks whose orchestration no longer runs. Answered with `result`
 * `{ removedEmpty, locksFreed, removed, unlocked }` once durable.
 */
export const CleanEntitiesFrame = z.object({
  type: z.literal("cleanEntities"),
  id: RequestId,
  /** Only this type's entities (default: every type the server hosts). */
  entityType: EntityTypeName.optional(),
  /** Default true. */
  removeEmpty: z.boolean().optional(),
  /** Default true. */
  releaseOrphanedLocks: z.boolean().optional(),
});
export type CleanEntitiesFrame = z.infer<typeof CleanEntitiesFrame>;

/** Every entity query a client may send. */
export const ENTITY_QUERY_FRAMES = [ListEntitiesFrame, DeleteEntityFrame, CleanEntitiesFrame] as const;
export type EntityQueryFrame = z.infer<(typeof ENTITY_QUERY_FRAMES)[number]>;

/** One entity of a listing. */
export const ListedEntitySchema = z.object({
  id: z.string(),
  /** Count of committed changes of its state. */
  version: z.number().int().nonnegative(),
  /** When it was last written (ISO-8601 UTC); absent for entities last written by a server that did not keep the time. */
  lastModified: z.string().optional(),
  /** With `includeState`, when it has state. */
  state: z.unknown().optional(),
  /** The orchestration instance holding it in a critical section. */
  lockedBy: z.string().optional(),
});
export type ListedEntityWire = z.infer<typeof ListedEntitySchema>;

/** The answer to `listEntities`. */
export const EntityPageSchema = z.object({
  entities: z.array(ListedEntitySchema),
  /** Present when more may follow. */
  continuation: z.string().optional(),
  /** With `count`: every entity the filter matches. */
  count: z.number().int().nonnegative().optional(),
});
export type EntityPageWire = z.infer<typeof EntityPageSchema>;

/** The answer to `deleteEntity`. */
export const DeleteEntityResultSchema = z.object({ deleted: z.boolean() });
export type DeleteEntityResultWire = z.infer<typeof DeleteEntityResultSchema>;

/** The answer to `cleanEntities`: counts, and the first 100 ids of each kind. */
export const CleanEntitiesResultSchema = z.object({
  removedEmpty: z.number().int().nonnegative(),
  locksFreed: z.number().int().nonnegative(),
  removed: z.array(z.string()),
  unlocked: z.array(z.string()),
});
export type CleanEntitiesResultWire = z.infer<typeof CleanEntitiesResultSchema>;
