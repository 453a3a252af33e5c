import type { LiveStateListener, Subscription } from "./subscription.js";

// An operation as an entity definition declares it: `(ctx, input?) => result`, or `{ input: schema, run }`.
type AnyOperation = (ctx: any, ...rest: any[]) => unknown;

// A schema's types, as Standard Schema (zod, valibot, arktype) declares them.
interface SchemaShape {
  readonly "~standard": { readonly types?: { readonly input: unknown; readonly output: unknown } | undefined };
}

// An operation whose input a schema checks (structural: nothing is imported from the server).
interface ValidatedOperationShape {
  readonly input: SchemaShape;
  readonly run: AnyOperation;
}

// The shape of an entity defined with named operations.
interface OperationsDefinitionShape {
  readonly kind: "operations";
  readonly name: string;
  readonly initialState: () => unknown;
  readonly operations: { readonly [name: string]: AnyOperation | ValidatedOperationShape };
}

/** Untyped operations: any name, any input, an unknown result. */
export type UntypedOperations<R> = Record<string, (input?: unknown) => Promise<R>>;

/** The input type a schema accepts (`unknown` when it does not say). */
export type SchemaInputOf<T> = T extends { readonly "~standard": { readonly types?: infer X } }
  ? NonNullable<X> extends { readonly input: infer I }
    ? I
    : unknown
  : unknown;

/** The parameters for an input of type I: optional when I admits undefined. */
type InputParameters<I> = undefined extends I ? [input?: I] : [input: I];

/**
 * `(ctx, input: I) => R` becomes `(input: I) => Promise<Awaited<R>>`; `(ctx) => R` becomes `() => Promise<Awaited<R>>`;
 * `{ input: schema, run: (ctx, input) => R }` becomes `(input: the schema's input type) => Promise<Awaited<R>>`.
 */
export type CallOf<F> = F extends { readonly input: infer Schema; readonly run: (...args: any[]) => infer R }
  ? (...args: InputParameters<SchemaInputOf<Schema>>) => Promise<Awaited<R>>
  : F extends (ctx: any, ...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;

/** Like CallOf, but resolving to void once the signal is durable. */
export type SignalOf<F> = F extends { readonly input: infer Schema; readonly run: AnyOperation }
  ? (...args: InputParameters<SchemaInputOf<Schema>>) => Promise<void>
  : F extends (ctx: any, ...args: infer A) => unknown
    ? (...args: A) => Promise<void>
    : never;

/** The `call` side of a typed entity: one method per operation. */
export type EntityCalls<D> = D extends OperationsDefinitionShape
  ? { readonly [K in Extract<keyof D["operations"], string>]: CallOf<D["operations"][K]> }
  : UntypedOperations<unknown>;

/** The `signal` side of a typed entity: one method per operation, resolving when the signal is durable. */
export type EntitySignals<D> = D extends OperationsDefinitionShape
  ? { readonly [K in Extract<keyof D["operations"], string>]: SignalOf<D["operations"][K]> }
  : UntypedOperations<void>;

/** The state type of a definition: initialState's return type, or the dispatch function's state. */
export type EntityStateOf<D> = D extends OperationsDefinitionShape
  ? ReturnType<D["initialState"]>
  : D extends { readonly kind: "dispatch"; readonly dispatch: (ctx: infer C) => unknown }
    ? C extends { state: infer S }
      ? Exclude<S, undefined>
      : unknown
    : unknown;

/**
 * The ids of a definition's entities: `Name/${string}` for `typeof ShoppingCart` (so
 * `client.entity<typeof ShoppingCart>("Leaderboard/global")` does not compile); any string without one.
 */
export type EntityIdOf<D> = D extends { readonly name: infer N extends string } ? (string extends N ? string : `${N}/${string}`) : string;

/** A typed handle on one entity: `await counter.call.add(1)`, `await counter.signal.reset()`, `await counter.get()`. */
export interface EntityProxy<D = unknown> {
  readonly id: string;
  readonly call: EntityCalls<D>;
  readonly signal: EntitySignals<D>;
  /** The entity's durable state, null when it does not exist. */
  get(): Promise<EntityStateOf<D> | null>;
  /** Live state: a snapshot, then every committed change, typed: `cart.subscribe((state, { version }) => …)`. */
  subscribe(listener: LiveStateListener<EntityStateOf<D>>): Subscription<EntityStateOf<D>>;
}

/** What an entity proxy needs from a client. */
export interface EntityProxyTarget {
  call(entityId: string, operation: string, input?: unknown): Promise<unknown>;
  signal(entityId: string, operation: string, input?: unknown): Promise<void>;
  get(entityId: string): Promise<unknown>;
  subscribe(entityId: string, listener: LiveStateListener<any>): Subscription<any>;
}

/**
 * Builds the proxy behind `client.entity(id)`. Property names become operation names; `then` is left
 * out so the proxies are never mistaken for promises.
 */
export function createEntityProxy<D>(client: EntityProxyTarget, entityId: string): EntityProxy<D> {
  return {
    id: entityId,
    call: operationsProxy((op, input) => client.call(entityId, op, input)),
    signal: operationsProxy((op, input) => client.signal(entityId, op, input)),
    get: () => client.get(entityId),
    subscribe: (listener: LiveStateListener<any>) => client.subscribe(entityId, listener),
  } as EntityProxy<D>;
}

function operationsProxy<R>(invoke: (op: string, input: unknown) => Promise<R>): UntypedOperations<R> {
  const methods = new Map<string, (input?: unknown) => Promise<R>>();
  return new Proxy({} as UntypedOperations<R>, {
    get(_target, key) {
      if (typeof key !== "string" || key === "then") return undefined;
      let method = methods.get(key);
      if (method === undefined) {
        method = (input?: unknown) => invoke(key, input);
        methods.set(key, method);
      }
      return method;
    },
  });
}
