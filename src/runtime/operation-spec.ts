import type { EntityContext } from "./define-entity.js";
import { isInputSchema, type InputSchema, type SchemaOutput } from "./input-schema.js";

/**
 * An operation: `(ctx, input) => result`, synchronous. A thrown error rolls back its state changes.
 * Operations are synchronous because one entity runs one operation at a time and a batch of them
 * commits together: an `await` would hold every other operation of the entity. Do slow I/O in an
 * activity or an orchestration.
 */
export type EntityOperation<S> = (ctx: EntityContext<S>, input: any) => unknown;

/**
 * An operation whose input is checked before it runs: `{ input: Item, run: (ctx, item) => … }`,
 * with `input` a zod schema (or any Standard Schema). An input the schema refuses is answered with
 * `bad_request` and the schema's message, and the operation does not run. `run` gets the schema's
 * output (after its defaults and transforms), and so does `ctx.input`.
 */
export interface ValidatedOperation<S, Schema extends InputSchema<any, any> = InputSchema> {
  readonly input: Schema;
  readonly run: (ctx: EntityContext<S, SchemaOutput<Schema>>, input: SchemaOutput<Schema>) => unknown;
}

/** Either form of operation. */
export type OperationSpec<S> = EntityOperation<S> | ValidatedOperation<S, InputSchema<any, any>>;

/**
 * What each operation of `defineEntity` may be, per name, as a reverse-mapped type: `P[K]` is
 * inferred from a validated operation's `input`, so that its `run` gets the schema's output type.
 */
export type OperationTemplates<S, P> = {
  [K in keyof P]:
    | EntityOperation<S>
    | {
        readonly input: P[K] & InputSchema<any, any>;
        readonly run: (ctx: EntityContext<S, SchemaOutput<P[K]>>, input: SchemaOutput<P[K]>) => unknown;
      };
};

/** The message a type error shows for an `async` operation (or one that returns a promise). */
export interface OperationsMustBeSynchronous {
  readonly "entity operations must be synchronous (one writer, batched commits): do slow I/O in an activity or orchestration": never;
}

/** The result type of either form of operation. */
type ResultOf<F> = F extends (...args: any[]) => infer R ? R : F extends { readonly run: (...args: any[]) => infer R } ? R : unknown;

/** True when R is or may be a promise (`any` and `unknown` are not taken for one). */
type IsPromise<R> = 0 extends 1 & R ? false : [Extract<R, PromiseLike<unknown>>] extends [never] ? false : true;

/** Per operation: `unknown` (no constraint) for a synchronous one, an impossible requirement for an async one. */
export type SynchronousOperations<O> = {
  [K in keyof O]: IsPromise<ResultOf<O[K]>> extends true ? OperationsMustBeSynchronous : unknown;
};

/**
 * What a dispatch function may return: anything but a promise. (An `unknown` value must be cast,
 * since it could be a promise.)
 */
export type SynchronousResult =
  | string
  | number
  | boolean
  | bigint
  | symbol
  | null
  | undefined
  | void
  | { readonly then?: never; readonly [key: string]: any };

/** Checks the operations given to `defineEntity`; throws a TypeError naming the first that is neither form. */
export function checkOperationSpecs(entityName: string, operations: Record<string, unknown>): void {
  for (const [op, spec] of Object.entries(operations)) {
    if (typeof spec === "function") continue;
    const { input, run } = (spec ?? {}) as { input?: unknown; run?: unknown };
    if (typeof spec === "object" && spec !== null && typeof run === "function" && isInputSchema(input)) continue;
    throw new TypeError(
      `operation "${op}" of entity "${entityName}" is not a function (ctx, input) => result, nor { input: schema, run: (ctx, input) => result } with a zod schema (or any Standard Schema) as input`,
    );
  }
}
