import { ENTITY_NAME_PATTERN } from "../../protocol/index.js";

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
  /** Signals another entity; delivered only after this operation's changes are durable, and dropped if it throws. */
  signalEntity(entityId: string, operation: string, input?: unknown): void;
}

/** An operation: `(ctx, input) => result`. A thrown error rolls back its state changes. */
export type EntityOperation<S> = (ctx: EntityContext<S>, input: any) => unknown;

const ENTITY_BRAND = Symbol.for("durable-entities.entity-definition");

/** An entity type defined with named operations. */
export interface OperationsEntityDefinition<N extends string, S, O extends Record<string, EntityOperation<S>>> {
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
  | OperationsEntityDefinition<string, any, Record<string, EntityOperation<any>>>
  | DispatchEntityDefinition<string, any>;

/**
 * Defines an entity type.
 *
 * ```ts
 * export const Counter = defineEntity("Counter", {
 *   initialState: () => 0,
 *   operations: { add: (ctx, n: number) => (ctx.state += n), get: (ctx) => ctx.state },
 * });
 * export const CounterFn = defineEntity("CounterFn", (ctx) => {
 *   switch (ctx.operationName) { case "add": ctx.state = (ctx.state ?? 0) + ctx.getInput<number>(); }
 * });
 * ```
 */
export function defineEntity<const N extends string, S, O extends Record<string, EntityOperation<S>>>(
  name: N,
  spec: { initialState: () => S; operations: O },
): OperationsEntityDefinition<N, S, O>;
export function defineEntity<const N extends string, S = unknown>(
  name: N,
  dispatch: (ctx: EntityContext<S | undefined>) => unknown,
): DispatchEntityDefinition<N, S>;
export function defineEntity(
  name: string,
  spec: { initialState: () => unknown; operations: Record<string, EntityOperation<unknown>> } | ((ctx: EntityContext<unknown>) => unknown),
): EntityDefinition {
  if (!ENTITY_NAME_PATTERN.test(name)) {
    throw new TypeError(`entity name "${name}" must start with a letter or _ and hold only letters, digits, _ . -`);
  }
  if (typeof spec === "function") return { [ENTITY_BRAND]: true, kind: "dispatch", name, dispatch: spec };
  if (typeof spec?.initialState !== "function" || typeof spec.operations !== "object") {
    throw new TypeError(`entity "${name}" needs { initialState: () => state, operations: { … } } or a dispatch function`);
  }
  for (const [op, fn] of Object.entries(spec.operations)) {
    if (typeof fn !== "function") throw new TypeError(`operation "${op}" of entity "${name}" is not a function`);
  }
  return { [ENTITY_BRAND]: true, kind: "operations", name, initialState: spec.initialState, operations: spec.operations };
}

/** True for what defineEntity returned (from any copy of this package). */
export function isEntityDefinition(value: unknown): value is EntityDefinition {
  return typeof value === "object" && value !== null && (value as { [ENTITY_BRAND]?: unknown })[ENTITY_BRAND] === true;
}
