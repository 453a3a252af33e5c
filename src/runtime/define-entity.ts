import { ENTITY_NAME_PATTERN } from "../../protocol/index.js";
import {
  checkOperationSpecs,
  type EntityOperation,
  type OperationSpec,
  type OperationTemplates,
  type SynchronousOperations,
  type SynchronousResult,
} from "./operation-spec.js";

export type { EntityOperation, OperationSpec, ValidatedOperation, OperationsMustBeSynchronous, SynchronousResult } from "./operation-spec.js";
export type { InputSchema, SchemaInput, SchemaOutput } from "./input-schema.js";

/** What an operation sees: the entity's state (read and write), its input, and a way to signal other entities. */
export interface EntityContext<S = unknown, I = unknown> {
  /** `Name/key`. */
  readonly entityId: string;
  readonly entityName: string;
  readonly entityKey: string;
  readonly operationName: string;
  readonly input: I;
  /** The state; assign to replace it, or change it in place. */
  state: S;
  /** True when the entity has state. A new entity defined with operations starts with its initial state; a dispatch-function entity has none until it sets it; `deleteState()` removes it. */
  readonly hasState: boolean;
  /** The state, initialised with `initial()` when there is none (the Durable Functions idiom). */
  getState(initial: () => NonNullable<S>): NonNullable<S>;
  getState(): S;
  setState(state: S): void;
  getInput<T = I>(): T;
  /** Removes the entity; its next operation starts it again from the initial state. */
  deleteState(): void;
  /**
   * Signals another entity; delivered only after this operation's changes are durable, and dropped
   * if it throws. With `at` (a Date or epoch ms) it is applied then, not before: a durable timer.
   */
  signalEntity(entityId: string, operation: string, input?: unknown, options?: { readonly at?: Date | number }): void;
  /**
   * Starts an orchestration once this operation's changes are durable (dropped if it throws); returns
   * its instance id (the one given, or a new random one). An unknown name fails that instance.
   */
  startOrchestration(name: string, input?: unknown, options?: { readonly instanceId?: string }): string;
}

const ENTITY_BRAND = Symbol.for("durable-entities.entity-definition");

/** An entity type defined with named operations (plain functions, or `{ input: schema, run }`). */
export interface OperationsEntityDefinition<N extends string, S, O> {
  readonly [ENTITY_BRAND]: true;
  readonly kind: "operations";
  readonly name: N;
  readonly initialState: () => S;
  readonly operations: O;
}

/** An entity type defined by one dispatch function that switches on `ctx.operationName`. */
export interface DispatchEntityDefinition<N extends string, S> {
  readonly [ENTITY_BRAND]: true;
  readonly kind: "dispatch";
  readonly name: N;
  readonly dispatch: (ctx: EntityContext<S | undefined>) => unknown;
}

export type EntityDefinition =
  | OperationsEntityDefinition<string, any, Record<string, OperationSpec<any>>>
  | DispatchEntityDefinition<string, any>;

/**
 * Defines an entity type, with named operations or with one dispatch function. An operation is a
 * function `(ctx, input) => result`, or `{ input: schema, run: (ctx, input) => result }` whose input
 * a zod schema checks before it runs. Operations are synchronous: the types refuse `async` ones.
 *
 * ```ts
 * const Item = z.object({ name: z.string(), price: z.number().nonnegative() });
 * export const Cart = defineEntity("Cart", {
 *   initialState: () => ({ items: [] as z.infer<typeof Item>[] }),
 *   operations: {
 *     addItem: { input: Item, run: (ctx, item) => void ctx.state.items.push(item) },
 *     count: (ctx) => ctx.state.items.length,
 *   },
 * });
 * export const CounterFn = defineEntity<"CounterFn", number>("CounterFn", (ctx) => {
 *   switch (ctx.operationName) { case "add": ctx.state = (ctx.state ?? 0) + ctx.getInput<number>(); }
 * });
 * ```
 */
export function defineEntity<const N extends string, S, O, P>(
  name: N,
  spec: { initialState: () => S; operations: O & OperationTemplates<S, P> & SynchronousOperations<O> },
): OperationsEntityDefinition<N, S, O>;
export function defineEntity<const N extends string, S = unknown>(
  name: N,
  dispatch: (ctx: EntityContext<S | undefined>) => SynchronousResult,
): DispatchEntityDefinition<N, S>;
export function defineEntity(
  name: string,
  spec: { initialState: () => unknown; operations: Record<string, OperationSpec<unknown>> } | ((ctx: EntityContext<unknown>) => unknown),
): EntityDefinition {
  if (!ENTITY_NAME_PATTERN.test(name)) {
    throw new TypeError(`entity name "${name}" must start with a letter or _ and hold only letters, digits, _ . -`);
  }
  if (typeof spec === "function") return { [ENTITY_BRAND]: true, kind: "dispatch", name, dispatch: spec };
  if (typeof spec?.initialState !== "function" || typeof spec.operations !== "object" || spec.operations === null) {
    throw new TypeError(`entity "${name}" needs { initialState: () => state, operations: { … } } or a dispatch function`);
  }
  checkOperationSpecs(name, spec.operations);
  return { [ENTITY_BRAND]: true, kind: "operations", name, initialState: spec.initialState, operations: spec.operations };
}

/** True for what defineEntity returned (from any copy of this package). */
export function isEntityDefinition(value: unknown): value is EntityDefinition {
  return typeof value === "object" && value !== null && (value as { [ENTITY_BRAND]?: unknown })[ENTITY_BRAND] === true;
}
