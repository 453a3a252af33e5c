import { EntityError, ErrorCode, isEntityError, isEntityId, type EntityPageWire, type EntityQueryFrame, type ListEntitiesFrame, type ListedEntityWire } from "../../protocol/index.js";
import { errorMessage, type Logger } from "../log.js";
import { cleanEntities, deleteRequest, type EntityRegistry, type EntityRuntime, type Outcome, type ReplyTarget } from "../runtime/index.js";
import type { EntityListingQuery, ListedEntity } from "../storage/index.js";
import type { ClusterListings } from "../cluster/cluster-listings.js";

/** What entity queries need of a task hub: its runtime, and whether live state watches an entity (`clean` keeps those). */
export interface EntityQueryServices {
  readonly runtime: EntityRuntime;
  readonly liveState: { isWatched?(entityId: string): boolean };
  /** Cluster mode: listings and clean cover every partition, whichever node owns it. */
  readonly listings?: ClusterListings | undefined;
}

const DEFAULT_PAGE_SIZE = 100;

/**
 * A connection's entity queries: `listEntities` reads committed records from the store (a page, and
 * a count when asked); `deleteEntity` and `cleanEntities` go through each entity's mailbox and turn
 * (entity-maintenance.ts), answered once durable. Every answer goes to `session.deliver`.
 */
export function handleEntityQuery(session: ReplyTarget, frame: EntityQueryFrame, hub: EntityQueryServices, log: Logger): void {
  const { runtime } = hub;
  const answer = (work: Promise<unknown>) =>
    work.then(
      (value) => session.deliver(frame.id, { kind: "result", value }),
      (error: unknown) => session.deliver(frame.id, errorOutcome(error, frame.type, log)),
    );
  switch (frame.type) {
    case "listEntities":
      return void answer(listPage(runtime, frame, hub.listings));
    case "deleteEntity": {
      const problem = runtime.registry.check(frame.entity);
      if (problem) return session.deliver(frame.id, { kind: "error", code: problem.code, message: problem.message });
      return runtime.submit({ ...deleteRequest(frame.entity), replyTo: session, requestId: frame.id });
    }
    case "cleanEntities": {
      const isWatched = (entityId: string) => hub.liveState.isWatched?.(entityId) ?? false;
      const { entityType, removeEmpty, releaseOrphanedLocks } = frame;
      if (hub.listings) return void answer(hub.listings.clean({ entityType, removeEmpty, releaseOrphanedLocks })); // each partition's owner cleans its own
      return void answer(cleanEntities(runtime, { entityType, removeEmpty, releaseOrphanedLocks, isWatched }));
    }
  }
}

/** One page of a listing, with its continuation, and the count when asked. */
async function listPage(runtime: EntityRuntime, frame: ListEntitiesFrame, listings: ClusterListings | undefined): Promise<EntityPageWire> {
  const type = resolveType(runtime.registry, frame.entityType, frame.ignoreCase === true);
  const after = frame.continuation === undefined ? undefined : decodeContinuation(frame.continuation, type);
  const query: EntityListingQuery = {
    type,
    pageSize: frame.pageSize ?? DEFAULT_PAGE_SIZE,
    ...(frame.prefix === undefined ? {} : { keyPrefix: frame.prefix }),
    ...(frame.includeState === undefined ? {} : { includeState: frame.includeState }),
    ...(frame.includeDeleted === undefined ? {} : { includeDeleted: frame.includeDeleted }),
    ...(frame.modifiedFrom === undefined ? {} : { modifiedFrom: frame.modifiedFrom }),
    ...(frame.modifiedTo === undefined ? {} : { modifiedTo: frame.modifiedTo }),
    ...(after === undefined ? {} : { after }),
  };
  if (listings) {
    // Cluster mode: every partition's part, from its owner, merged in id order (the continuation is the same).
    const { listing, count } = await listings.listEntities(query, frame.count === true);
    const entities = listing.entities.map(toWire);
    return { entities, ...(listing.next === undefined ? {} : { continuation: encodeContinuation(listing.next) }), ...(count === undefined ? {} : { count }) };
  }
  const store = runtime.pipeline.store;
  const page = store.listEntities(query);
  const entities = page.entities.map(toWire);
  const continuation = page.next === undefined ? {} : { continuation: encodeContinuation(page.next) };
  if (frame.count !== true) return { entities, ...continuation };
  return { entities, ...continuation, count: await store.countEntities(query) };
}

/**
 * A listing as the type it lists: with `ignoreCase`, the hosted type's own name in place of the spelling
 * sent, so that access is checked on the type whose entities the page shows. Unchanged when no hosted
 * type (or more than one) matches: the listing refuses it.
 */
export function exactListing(registry: EntityRegistry, frame: ListEntitiesFrame): ListEntitiesFrame {
  if (frame.ignoreCase !== true || registry.definition(frame.entityType) !== undefined) return frame;
  try {
    return { ...frame, entityType: resolveType(registry, frame.entityType, true) };
  } catch {
    return frame;
  }
}

/**
 * The hosted entity type a listing names: exactly, or with `ignoreCase` the one type whose name
 * matches ignoring case (Durable Functions' HTTP API matches names so). Unknown: `unknown_entity`.
 */
export function resolveType(registry: EntityRegistry, name: string, ignoreCase: boolean): string {
  if (registry.definition(name) !== undefined) return name;
  if (ignoreCase) {
    const lower = name.toLowerCase();
    const matches = registry.names.filter((candidate) => candidate.toLowerCase() === lower);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw new EntityError(ErrorCode.bad_request, `entity type "${name}" matches ${matches.join(", ")} ignoring case; name one exactly`);
  }
  throw registry.check(`${name}/_`)!;
}

function toWire(entity: ListedEntity): ListedEntityWire {
  const at = entity.modifiedAt;
  return {
    id: entity.id,
    version: entity.version,
    ...(at === undefined || !Number.isFinite(at) || Math.abs(at) > 8.64e15 ? {} : { lastModified: new Date(at).toISOString() }),
    ...(entity.state === undefined ? {} : { state: entity.state }),
    ...(entity.lock === undefined ? {} : { lockedBy: entity.lock.instanceId }),
  };
}

/** The continuation: where the page ended (the last id it covered), opaque to clients. */
function encodeContinuation(after: string): string {
  return Buffer.from(JSON.stringify({ after })).toString("base64url");
}

function decodeContinuation(text: string, type: string): string {
  let after: unknown;
  try {
    after = (JSON.parse(Buffer.from(text, "base64url").toString()) as { after?: unknown } | null)?.after;
  } catch {
    after = undefined;
  }
  if (typeof after !== "string" || !isEntityId(after) || !after.startsWith(`${type}/`)) {
    throw new EntityError(ErrorCode.bad_request, `continuation is not one this server gave for a listing of ${type}; start again without it`);
  }
  return after;
}

/** A refusal (a coded error) as it was; anything else is a bug: logged, and answered `internal`. */
function errorOutcome(error: unknown, request: string, log: Logger): Outcome {
  if (isEntityError(error)) return { kind: "error", code: error.code, message: error.message };
  log.error("entity query failed", { request, error: errorMessage(error) });
  return { kind: "error", code: ErrorCode.internal, message: "the server failed to answer (see its log)" };
}
