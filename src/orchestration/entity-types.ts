import type { Task } from "./task.js";

/*
 * Typed entity access from orchestrations, derived from an entity definition's type as the client's
 * entity proxy derives it (structurally: nothing here imports the entity runtime or the client).
 * `(ctx, input: I) => R` becomes `(input: I) => Task<R>`; `{ input: schema, run }` takes the
 * schema's input type.
 */

// An operation as a definition declares it: `(ctx, input?) => result`, or `{ input: schema, run }`.
type AnyOperation = (ctx: any, ...rest: any[]) => unknown;

interface SchemaShape {
  readonly "~standard": { readonly types?: { readonly input: unknown; readonly output: unknown } | undefined };
}

interface ValidatedOperationShape {
  readonly input: SchemaShape;
  readonly run: AnyOperation;
}

interface OperationsDefinitionShape {
  readonly kind: "operations";
  readonly name: string;
  readonly operations: { readonly [name: string]: AnyOperation | ValidatedOperationShape };
}

/** The input type a Standard Schema accepts (`unknown` when it does not say). */
type SchemaInput<T> = T extends { readonly "~standard": { readonly types?: infer X } } ? (NonNullable<X> extends { readonly input: infer I } ? I : unknown) : unknown;

/** The parameters for an input of type I: optional when I admits undefined. */
type InputParameters<I> = undefined extends I ? [input?: I] : [input: I];

/** The input parameters of one operation: `[]`, `[input: I]` or `[input?: I]`. */
export type EntityInputParameters<F> = F extends { readonly input: infer Schema; readonly run: AnyOperation }
  ? InputParameters<SchemaInput<Schema>>
  : F extends (ctx: any, ...args: infer A) => unknown
    ? A
    : [input?: unknown];

/** The result type of one operation (entity operations are synchronous). */
export type EntityResultOf<F> = F extends { readonly run: (...args: any[]) => infer R } ? R : F extends (...args: any[]) => infer R ? R : unknown;

/** Options of a signal: `at` (a Date or epoch ms) delivers it at, not before, that time. */
export interface SignalEntityOptions {
  readonly at?: Date | number;
}

/** A signal's parameters: the operation's input (`undefined` for one that takes none), then options. */
type SignalParameters<A extends unknown[]> = A extends [] ? [input?: undefined, options?: SignalEntityOptions] : [...A, options?: SignalEntityOptions];

/**
 * The ids of a definition's entities: `Name/${string}` for `typeof Account` (so
 * `ctx.entity<typeof Account>("Counter/x")` does not compile); any string for an untyped entity.
 */
export type EntityIdOf<D> = D extends { readonly name: infer N extends string } ? (string extends N ? string : `${N}/${string}`) : string;

/** The call side of a typed entity in an orchestration: one method per operation, each returning a Task to `yield`. */
export type OrchestrationEntityCalls<D> = D extends OperationsDefinitionShape
  ? { readonly [K in Extract<keyof D["operations"], string>]: (...args: EntityInputParameters<D["operations"][K]>) => Task<EntityResultOf<D["operations"][K]>> }
  : Record<string, (input?: unknown) => Task<any>>;

/** The signal side of a typed entity in an orchestration: one method per operation, one-way (`(input, { at }?) => void`). */
export type OrchestrationEntitySignals<D> = D extends OperationsDefinitionShape
  ? { readonly [K in Extract<keyof D["operations"], string>]: (...args: SignalParameters<EntityInputParameters<D["operations"][K]>>) => void }
  : Record<string, (input?: unknown, options?: SignalEntityOptions) => void>;

/**
 * A typed handle on one entity inside an orchestration, from `ctx.entity<typeof Account>("Account/a")`:
 * `const balance = yield* account.call.get()`, `account.signal.deposit(5, { at: tomorrow })`.
 */
export interface OrchestrationEntityProxy<D = unknown> {
  readonly id: string;
  /** `yield account.call.withdraw(5)`: the same as `ctx.callEntity(id, "withdraw", 5)`, typed. */
  readonly call: OrchestrationEntityCalls<D>;
  /** `account.signal.deposit(5)`: the same as `ctx.signalEntity(id, "deposit", 5)`, typed. */
  readonly signal: OrchestrationEntitySignals<D>;
}

/** A granted critical section: what `yield ctx.lock([...])` gives. */
export interface LockHandle {
  /** The locked entities, sorted and without duplicates. */
  readonly entities: readonly string[];
  /** Ends the critical section and frees the entities (once; later calls do nothing). */
  release(): void;
}

/** What `ctx.isLocked()` says: whether a critical section is held (or being acquired), and on which entities. */
export interface LockState {
  readonly locked: boolean;
  /** The entities of the critical section, sorted; empty when there is none. */
  readonly entities: string[];
}
