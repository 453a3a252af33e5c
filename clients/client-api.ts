import type { EntityIdOf, EntityProxy } from "./entity-proxy.js";
import type { EntityQueryClient } from "./entity-queries.js";
import type { FailurePage, FailureQuery } from "./failure-types.js";
import type { OrchestrationClient } from "./orchestration-calls.js";
import type { LiveStateListener, Subscription } from "./subscription.js";

/** An entity's durable state and the version it is at (0 when it does not exist). */
export interface EntitySnapshot<S = unknown> {
  readonly state: S | null;
  readonly version: number;
}

/** A connection to a durable-entities server, as returned by `connect()`: entities here, listing and cleaning them in EntityQueryClient, orchestrations in OrchestrationClient. */
export interface DurableClient extends OrchestrationClient, EntityQueryClient {
  /** Names this client across reconnects. */
  readonly clientId: string;
  /** True while a connection is established (requests made otherwise wait for one). */
  readonly connected: boolean;
  /** Sends an operation without waiting for its result; resolves once the server has made it durable. */
  /** With `{ at }` (a Date or epoch ms) the signal is scheduled: durable now, applied then (exactly once, not before). */
  signal(entityId: string, operation: string, input?: unknown, options?: SignalOptions): Promise<void>;
  /** Runs an operation; resolves with its return value once its changes are durable. */
  call<R = unknown>(entityId: string, operation: string, input?: unknown): Promise<R>;
  /** The entity's durable state, null when it does not exist. */
  get<S = unknown>(entityId: string): Promise<S | null>;
  /** The entity's durable state and version. */
  getWithVersion<S = unknown>(entityId: string): Promise<EntitySnapshot<S>>;
  /**
   * A typed handle on one entity: `client.entity<typeof Counter>("Counter/alice").call.add(1)`. With a
   * definition, the id must name its type (`Counter/${string}`).
   */
  entity<D = unknown>(entityId: EntityIdOf<D>): EntityProxy<D>;
  /** Live state: a snapshot, then every committed change; listeners of one entity share one server subscription. */
  subscribe<S = unknown>(entityId: string, listener: LiveStateListener<S>): Subscription<S>;
  /**
   * Failed signals between entities (an operation that threw, or refused its input, when another
   * entity had signalled it: nobody was waiting for the answer), newest first, with their input,
   * error and sender. `{ entityType: "Counter" }` lists one type's; follow `next` (as `before`) for older ones.
   */
  failures(query?: FailureQuery): Promise<FailurePage>;
  /** Closes the connection; every pending request fails with `disconnected`. */
  close(): Promise<void>;
}

/** When a signal is applied: `at` a Date or epoch milliseconds (default: now). */
export interface SignalOptions {
  readonly at?: Date | number;
}
