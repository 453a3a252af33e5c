import { EntityError, ErrorCode } from "../protocol/entity-error.js";
import type { CleanEntitiesFrame, DeleteEntityFrame, ListEntitiesFrame } from "../protocol/entity-query-frames.js";
import type { EntityStateOf } from "./entity-proxy.js";

/** A definition's entity type name (`"Counter"` for `typeof Counter`); any string without one. */
export type EntityTypeOf<D> = D extends { readonly name: infer N extends string } ? (string extends N ? string : N) : string;

/** Which entities to list: one type, a page at a time, in one order by id. */
export interface EntityQuery<D = unknown> {
  /** The entity type, exactly as the ids spell it (`"Counter"` lists `Counter/…`). */
  readonly type: EntityTypeOf<D>;
  /** Match `type` ignoring case (ASCII), as Durable Functions' HTTP API does (default: exactly). */
  readonly ignoreCase?: boolean;
  /** Only keys that start with this. */
  readonly prefix?: string;
  /** Put each entity's state in the page (default false). */
  readonly includeState?: boolean;
  /** Also entities without state: deleted and not yet cleaned, or only holding a lock (default false). */
  readonly includeDeleted?: boolean;
  /** Only entities last modified at or after / at or before this time (a Date or epoch ms). */
  readonly modifiedFrom?: Date | number;
  readonly modifiedTo?: Date | number;
  /** Entities per page: default 100, at most 1,000 (a page also ends at about 1 MiB, or after reading 10 pages' worth of records). */
  readonly pageSize?: number;
  /** The previous page's `continuation` (with the same filter). */
  readonly continuation?: string;
  /** Also count every entity the filter matches (the server reads the whole type for it). */
  readonly count?: boolean;
}

/** One entity of a listing. */
export interface ListedEntity<S = unknown> {
  readonly id: string;
  /** Count of committed changes of its state. */
  readonly version: number;
  /** When it was last written, ISO-8601 UTC; absent when it was last written by a server that did not keep the time. */
  readonly lastModified?: string;
  /** With `includeState`, when it has state. */
  readonly state?: S;
  /** The orchestration instance holding it in a critical section. */
  readonly lockedBy?: string;
}

/** A page of entities. A page can be short (even empty) and still have a `continuation`: follow it until it is absent. */
export interface EntityPage<S = unknown> {
  readonly entities: ListedEntity<S>[];
  readonly continuation?: string;
  /** With `count`: every entity the filter matches. */
  readonly count?: number;
}

/** What `deleteEntity` did: `deleted` is false when the entity had no state. */
export interface DeleteEntityResult {
  readonly deleted: boolean;
}

/** What `cleanEntities` does. */
export interface CleanEntitiesOptions {
  /** Only this type's entities (default: every type the server hosts). */
  readonly entityType?: string;
  /** Remove entities that have no state (default true). */
  readonly removeEmpty?: boolean;
  /** Free locks held by orchestrations that no longer run (default true). */
  readonly releaseOrphanedLocks?: boolean;
}

/** What `cleanEntities` did: counts, and the first 100 ids of each kind. */
export interface CleanEntitiesResult {
  readonly removedEmpty: number;
  readonly locksFreed: number;
  readonly removed: string[];
  readonly unlocked: string[];
}

/** Listing, deleting and cleaning entities: part of `DurableClient`. */
export interface EntityQueryClient {
  /**
   * One page of the entities of a type, in one order by id; follow `continuation` for the rest.
   * Typed by definition: `client.listEntities<typeof Counter>({ type: "Counter", includeState: true })`
   * gives states of Counter's state type. Rejects with `unknown_entity` for a type the server does
   * not host, `bad_request` for a bad filter or a continuation it did not give.
   */
  listEntities<D = unknown>(query: EntityQuery<D>): Promise<EntityPage<EntityStateOf<D>>>;
  /**
   * Deletes an entity's state, in its turn (as an operation calling `deleteState()` would; live
   * subscribers see null); resolves once durable. An entity held in an orchestration's critical
   * section is deleted when the lock is released. The empty record stays until `cleanEntities`.
   */
  deleteEntity(entityId: string): Promise<DeleteEntityResult>;
  /**
   * Removes entities that have no state (no lock, nothing waiting, no live subscriber) and frees
   * locks whose orchestration no longer runs; resolves with what it did, once durable.
   */
  cleanEntities(options?: CleanEntitiesOptions): Promise<CleanEntitiesResult>;
}

/** Entity queries as the client sends them. */
export type EntityQueryRequest = ListEntitiesFrame | DeleteEntityFrame | CleanEntitiesFrame;

/** What the entity queries need from a client. */
export interface EntityQueryPort {
  nextId(): number;
  /** Sends a request (or queues it while disconnected) and resolves with its answer's value. */
  request<T>(frame: EntityQueryRequest): Promise<T>;
}

/** The entity query methods of a client. */
export class EntityQueryCalls {
  constructor(private readonly port: EntityQueryPort) {}

  listEntities(query: EntityQuery): Promise<EntityPage> {
    const frame: ListEntitiesFrame = { type: "listEntities", id: this.port.nextId(), entityType: query.type };
    for (const name of ["ignoreCase", "prefix", "includeState", "includeDeleted", "pageSize", "continuation", "count"] as const) {
      if (query[name] !== undefined) (frame as Record<string, unknown>)[name] = query[name];
    }
    for (const [name, value] of [["modifiedFrom", query.modifiedFrom], ["modifiedTo", query.modifiedTo]] as const) {
      if (value === undefined) continue;
      const ms = value instanceof Date ? value.getTime() : value;
      if (typeof ms !== "number" || !Number.isFinite(ms)) return Promise.reject(new EntityError(ErrorCode.bad_request, `listEntities: ${name} must be a Date or epoch milliseconds; got ${String(value)}`));
      frame[name] = ms;
    }
    return this.port.request(frame);
  }

  deleteEntity(entityId: string): Promise<DeleteEntityResult> {
    return this.port.request({ type: "deleteEntity", id: this.port.nextId(), entity: entityId });
  }

  cleanEntities(options: CleanEntitiesOptions = {}): Promise<CleanEntitiesResult> {
    const frame: CleanEntitiesFrame = { type: "cleanEntities", id: this.port.nextId() };
    if (options.entityType !== undefined) frame.entityType = options.entityType;
    if (options.removeEmpty !== undefined) frame.removeEmpty = options.removeEmpty;
    if (options.releaseOrphanedLocks !== undefined) frame.releaseOrphanedLocks = options.releaseOrphanedLocks;
    return this.port.request(frame);
  }
}
