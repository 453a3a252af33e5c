import type { OrchestrationContext } from "./orchestration-context.js";

const ORCHESTRATION_BRAND = Symbol.for("durable-entities.orchestration-definition");
const ACTIVITY_BRAND = Symbol.for("durable-entities.activity-definition");

/** An orchestrator: a generator function that yields tasks and returns the output. */
export type Orchestrator<I, O> = (ctx: OrchestrationContext<I>, input: I) => Generator<unknown, O, any>;

/** What defineOrchestration returns; its type parameters carry the input and output types to typed calls. */
export interface OrchestrationDefinition<N extends string = string, I = any, O = any> {
  readonly [ORCHESTRATION_BRAND]: true;
  readonly kind: "orchestration";
  readonly name: N;
  readonly orchestrator: Orchestrator<I, O>;
}

/** An activity: any function of one JSON input, sync or async; it runs at least once, outside replay. */
export type ActivityFunction<I, O> = (input: I, context: ActivityContext) => O | Promise<O>;

/** What an activity is told about its call. */
export interface ActivityContext {
  readonly activityName: string;
  /** The orchestration instance that scheduled it. */
  readonly instanceId: string;
  /** 1 for the first attempt; an activity that ran before a crash may run again with the same attempt. */
  readonly attempt: number;
}

export interface ActivityDefinition<N extends string = string, I = any, O = any> {
  readonly [ACTIVITY_BRAND]: true;
  readonly kind: "activity";
  readonly name: N;
  readonly run: ActivityFunction<I, O>;
}

/** The input type of an orchestration or activity definition. */
export type InputOf<D> = D extends OrchestrationDefinition<string, infer I, any> ? I : D extends ActivityDefinition<string, infer I, any> ? I : never;
/** The output type of an orchestration or activity definition (an async activity's awaited result). */
export type OutputOf<D> = D extends OrchestrationDefinition<string, any, infer O> ? O : D extends ActivityDefinition<string, any, infer O> ? Awaited<O> : never;

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Defines an orchestration.
 *
 * ```ts
 * export const HelloSequence = defineOrchestration("HelloSequence", function* (ctx) {
 *   const a: string = yield ctx.callActivity("SayHello", "Tokyo");
 *   const b = yield* ctx.call(SayHello, "Seattle"); // typed
 *   return [a, b];
 * });
 * ```
 */
export function defineOrchestration<const N extends string, I = unknown, O = unknown>(name: N, orchestrator: Orchestrator<I, O>): OrchestrationDefinition<N, I, O> {
  checkName("orchestration", name);
  if (typeof orchestrator !== "function") throw new TypeError(`orchestration "${name}" needs a generator function: function* (ctx, input) { … }`);
  return { [ORCHESTRATION_BRAND]: true, kind: "orchestration", name, orchestrator };
}

/** Defines an activity: `defineActivity("SayHello", async (city: string) => \`Hello ${city}!\`)`. */
export function defineActivity<const N extends string, I = unknown, O = unknown>(name: N, run: ActivityFunction<I, O>): ActivityDefinition<N, I, O> {
  checkName("activity", name);
  if (typeof run !== "function") throw new TypeError(`activity "${name}" needs a function: (input) => result`);
  return { [ACTIVITY_BRAND]: true, kind: "activity", name, run };
}

/** True for what defineOrchestration returned (from any copy of this package). */
export function isOrchestrationDefinition(value: unknown): value is OrchestrationDefinition {
  return typeof value === "object" && value !== null && (value as { [ORCHESTRATION_BRAND]?: unknown })[ORCHESTRATION_BRAND] === true;
}

/** True for what defineActivity returned (from any copy of this package). */
export function isActivityDefinition(value: unknown): value is ActivityDefinition {
  return typeof value === "object" && value !== null && (value as { [ACTIVITY_BRAND]?: unknown })[ACTIVITY_BRAND] === true;
}

function checkName(kind: string, name: string): void {
  if (!NAME_PATTERN.test(name)) throw new TypeError(`${kind} name "${name}" must start with a letter or _ and hold only letters, digits, _ . - (at most 128)`);
}
