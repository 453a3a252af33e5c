import { isInstanceId, KEY_TEXT_RULE, MAX_INSTANCE_ID_LENGTH } from "../../protocol/index.js";
import { isActivityDefinition, isOrchestrationDefinition, type ActivityDefinition, type InputOf, type OrchestrationDefinition, type OutputOf } from "./definitions.js";
import { RealDate } from "./determinism-sandbox.js";
import type { EntityIdOf, LockHandle, LockState, OrchestrationEntityProxy, SignalEntityOptions } from "./entity-types.js";
import { isReservedEventName } from "./entity-requests.js";
import type { Execution } from "./execution.js";
import { ownJson } from "./json-payloads.js";
import type { CallOptions, OrchestrationContext, TaskCombinators } from "./orchestration-context.js";
import type { RetryOptions } from "./retry-options.js";
import { checkRetryOptions } from "./retry-policy.js";
import { Task, type TimerTask } from "./task.js";

/**
 * The `ctx` orchestrator code gets: a thin face over its execution. Arguments are checked here, so
 * a bad one throws a TypeError at the call, inside the generator (where the code may catch it).
 */
export class RuntimeOrchestrationContext<I = unknown> implements OrchestrationContext<I> {
  readonly #execution: Execution;
  readonly Task: TaskCombinators = Task;

  constructor(execution: Execution) {
    this.#execution = execution;
  }

  get name(): string {
    return this.#execution.definition.name;
  }

  get instanceId(): string {
    return this.#execution.instanceId;
  }

  get parentInstanceId(): string | undefined {
    return this.#execution.parentInstanceId;
  }

  get isReplaying(): boolean {
    return this.#execution.replaying;
  }

  get currentUtcDateTime(): Date {
    return new RealDate(this.#execution.nowMs);
  }

  get input(): I {
    return this.#execution.input as I;
  }

  getInput<T = I>(): T {
    return this.#execution.input as T;
  }

  callActivity<T = any>(name: string, input?: unknown): Task<T> {
    return this.#call("activity", "callActivity", name, input, undefined, undefined);
  }

  callActivityWithRetry<T = any>(name: string, retry: RetryOptions, input?: unknown): Task<T> {
    return this.#call("activity", "callActivityWithRetry", name, input, undefined, retry);
  }

  call<D extends ActivityDefinition | OrchestrationDefinition>(definition: D, input: InputOf<D>, options?: CallOptions): Task<OutputOf<D>> {
    if (isActivityDefinition(definition)) {
      if (options?.instanceId !== undefined) throw new TypeError(`call(${definition.name}): instanceId is for sub-orchestrations, and "${definition.name}" is an activity`);
      return this.#call("activity", "call", definition.name, input, undefined, options?.retry);
    }
    if (isOrchestrationDefinition(definition)) return this.#call("sub-orchestration", "call", definition.name, input, options?.instanceId, options?.retry);
    throw new TypeError("call takes what defineActivity or defineOrchestration returned");
  }

  callSubOrchestration<T = any>(name: string | OrchestrationDefinition, input?: unknown, instanceId?: string): Task<T> {
    return this.#call("sub-orchestration", "callSubOrchestration", orchestrationName(name), input, instanceId, undefined);
  }

  callSubOrchestrationWithRetry<T = any>(name: string | OrchestrationDefinition, retry: RetryOptions, input?: unknown, instanceId?: string): Task<T> {
    return this.#call("sub-orchestration", "callSubOrchestrationWithRetry", orchestrationName(name), input, instanceId, retry);
  }

  createTimer(fireAt: Date | number): TimerTask {
    this.#execution.checkInStep("createTimer");
    const ms = typeof fireAt === "number" ? fireAt : Object.prototype.toString.call(fireAt) === "[object Date]" ? (fireAt as Date).getTime() : Number.NaN;
    if (!Number.isFinite(ms)) throw new TypeError(`createTimer takes a valid Date or epoch milliseconds; got ${String(fireAt)}`);
    return this.#execution.createTimer(ms);
  }

  waitForExternalEvent<T = any>(name: string): Task<T> {
    this.#execution.checkInStep("waitForExternalEvent");
    checkName("waitForExternalEvent", name, "an event name");
    if (isReservedEventName(name)) throw new TypeError(`waitForExternalEvent("${name}"): event names starting with "@" are reserved for entity answers and lock grants`);
    return this.#execution.events.wait(name) as Task<T>;
  }

  continueAsNew(input: unknown, options?: { preserveUnprocessedEvents?: boolean }): void {
    this.#execution.checkInStep("continueAsNew");
    const copy = ownJson(input, "continueAsNew: the input");
    this.#execution.continueAsNew(copy, options?.preserveUnprocessedEvents === true);
  }

  setCustomStatus(status: unknown): void {
    this.#execution.checkInStep("setCustomStatus");
    this.#execution.customStatus = ownJson(status, "setCustomStatus: the status");
  }

  newGuid(): string {
    this.#execution.checkInStep("newGuid");
    return this.#execution.newGuid();
  }

  callEntity<T = any>(entityId: string, operation: string, input?: unknown): Task<T> {
    this.#execution.checkInStep("callEntity");
    return this.#execution.entities.call(entityId, operation, input) as Task<T>;
  }

  signalEntity(entityId: string, operation: string, input?: unknown, options?: SignalEntityOptions): void {
    this.#execution.checkInStep("signalEntity");
    this.#execution.entities.signal(entityId, operation, input, options);
  }

  entity<D = unknown>(entityId: EntityIdOf<D>): OrchestrationEntityProxy<D> {
    return this.#execution.entities.proxy(
      entityId,
      (op, input) => this.callEntity(entityId, op, input),
      (op, input, options) => this.signalEntity(entityId, op, input, options as SignalEntityOptions | undefined),
    ) as OrchestrationEntityProxy<D>;
  }

  lock(entityIds: readonly string[]): Task<LockHandle> {
    this.#execution.checkInStep("lock");
    return this.#execution.entities.lock(entityIds);
  }

  isLocked(): LockState {
    return this.#execution.entities.isLocked();
  }

  #call<T>(kind: "activity" | "sub-orchestration", method: string, name: string, input: unknown, instanceId: string | undefined, retry: RetryOptions | undefined): Task<T> {
    this.#execution.checkInStep(method);
    const what = kind === "activity" ? "an activity name" : "an orchestration name";
    checkName(method, name, what);
    const where = `${method}("${name}")`;
    if (instanceId !== undefined && (typeof instanceId !== "string" || !isInstanceId(instanceId))) {
      throw new TypeError(`${method}: the instance id must be 1 to ${MAX_INSTANCE_ID_LENGTH} characters of ${KEY_TEXT_RULE}; got ${describeId(instanceId)}`);
    }
    if (retry !== undefined || method.endsWith("WithRetry")) checkRetryOptions(retry!, where);
    const copy = ownJson(input, `${where}: the input`);
    if (kind === "sub-orchestration") this.#execution.entities.section.checkSubOrchestration(method, name);
    return this.#execution.call(kind, name, copy, instanceId, retry) as Task<T>;
  }
}

function orchestrationName(name: string | OrchestrationDefinition): string {
  return isOrchestrationDefinition(name) ? name.name : name;
}

function checkName(method: string, value: unknown, what: string): void {
  if (typeof value !== "string" || value === "") throw new TypeError(`${method} takes ${what} (a non-empty string); got ${typeof value === "string" ? "an empty string" : String(value)}`);
}

function describeId(value: unknown): string {
  if (typeof value !== "string") return String(value);
  return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}… (${value.length} characters)` : JSON.stringify(value);
}
