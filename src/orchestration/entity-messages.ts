import { isEntityId } from "../../protocol/index.js";
import type { ActionLedger } from "./action-ledger.js";
import { CompletableTask } from "./completable-task.js";
import { CriticalSection, CriticalSectionHandle } from "./critical-section.js";
import { entityCallOutcome, lockOrder, parseReservedEventName } from "./entity-requests.js";
import type { LockHandle, LockState, OrchestrationEntityProxy, SignalEntityOptions } from "./entity-types.js";
import { ownJson } from "./json-payloads.js";
import type { TaskOutcome } from "./retry-task.js";
import { TaskFailedError } from "./task-errors.js";

/** What entity messages need from their execution. */
export interface EntityMessagesHost {
  readonly ledger: ActionLedger;
  checkInStep(method: string): void;
  /** Registers the completion of action `id`, settled by its answer (an EventRaised with a reserved name). */
  expect(id: number, kind: "entity" | "lock", settle: (outcome: TaskOutcome) => void): void;
  /** Settles the open task of action `id` (nothing when none is open, or of another kind). */
  settle(kind: "entity" | "lock", id: number, outcome: TaskOutcome): void;
}

/**
 * Calls, signals and locks of entities from one execution: checks the arguments and the locking
 * rules, asks the ledger for the actions, and settles the tasks when the entities answer.
 */
export class EntityMessages {
  readonly section = new CriticalSection();

  constructor(private readonly host: EntityMessagesHost) {}

  call(entityId: string, operation: string, input: unknown): CompletableTask<unknown> {
    const where = checkTarget("callEntity", entityId, operation);
    const copy = ownJson(input, `${where}: the input`);
    this.section.checkCall(entityId, operation);
    const id = this.host.ledger.nextId();
    this.host.ledger.add({ type: "CallEntity", id, entityId, operation, ...withInput(copy) });
    const task = new CompletableTask<unknown>();
    this.host.expect(id, "entity", (outcome) => (outcome.ok ? task.complete(outcome.result) : task.fail(new TaskFailedError("entity", operation, id, outcome.failure, entityId))));
    return task;
  }

  signal(entityId: string, operation: string, input: unknown, options: SignalEntityOptions | undefined): void {
    const where = checkTarget("signalEntity", entityId, operation);
    const copy = ownJson(input, `${where}: the input`);
    const at = scheduledTime(where, options);
    this.section.checkSignal(entityId, operation);
    const id = this.host.ledger.nextId();
    this.host.ledger.add({ type: "SignalEntity", id, entityId, operation, ...withInput(copy), ...(at === undefined ? {} : { at }) });
  }

  lock(entityIds: readonly string[]): CompletableTask<LockHandle> {
    if (!Array.isArray(entityIds) || entityIds.length === 0) throw new TypeError("lock takes a non-empty array of entity ids (Name/key)");
    for (const entityId of entityIds) checkEntityId("lock", entityId);
    const entities = lockOrder(entityIds);
    this.section.begin(entities);
    const id = this.host.ledger.nextId();
    this.host.ledger.add({ type: "LockEntities", id, entityIds: entities });
    const task = new CompletableTask<LockHandle>();
    this.host.expect(id, "lock", (outcome) => {
      if (!outcome.ok) {
        this.section.end();
        task.fail(new TaskFailedError("entity", "lock", id, outcome.failure, entities[0]));
        return;
      }
      this.section.granted();
      task.complete(new CriticalSectionHandle(entities, () => this.#release(entities)));
    });
    return task;
  }

  isLocked(): LockState {
    return this.section.state();
  }

  /** A typed (or untyped) handle on one entity: `call.op(input)` and `signal.op(input, options)`. */
  proxy(entityId: string, call: (op: string, input: unknown) => unknown, signal: (op: string, input: unknown, options: unknown) => void): OrchestrationEntityProxy {
    checkEntityId("entity", entityId);
    return { id: entityId, call: operations((op) => (input?: unknown) => call(op, input)), signal: operations((op) => (input?: unknown, options?: unknown) => signal(op, input, options)) } as OrchestrationEntityProxy;
  }

  /** An EventRaised with a reserved name: an entity's answer or a lock grant settles its task; anything else is ignored. */
  answer(name: string, input: unknown): void {
    const target = parseReservedEventName(name);
    if (target === undefined) return;
    if (target.kind === "entity") this.host.settle("entity", target.id, entityCallOutcome(input));
    else this.host.settle("lock", target.id, lockOutcome(input));
  }

  #release(entities: readonly string[]): void {
    this.host.checkInStep("lock(…).release");
    this.section.end();
    const id = this.host.ledger.nextId();
    this.host.ledger.add({ type: "ReleaseLocks", id, entityIds: entities });
  }
}

function lockOutcome(input: unknown): TaskOutcome {
  const failure = typeof input === "object" && input !== null ? (input as { failure?: unknown }).failure : undefined;
  return failure === undefined ? { ok: true, result: undefined } : entityCallOutcome(input);
}

function checkTarget(method: string, entityId: unknown, operation: unknown): string {
  checkEntityId(method, entityId);
  if (typeof operation !== "string" || operation === "") throw new TypeError(`${method}("${entityId}") takes an operation name (a non-empty string); got ${typeof operation === "string" ? "an empty string" : String(operation)}`);
  return `${method}("${entityId}", "${operation}")`;
}

function checkEntityId(method: string, entityId: unknown): asserts entityId is string {
  if (typeof entityId !== "string" || !isEntityId(entityId)) {
    const got = typeof entityId === "string" ? JSON.stringify(entityId.length > 60 ? `${entityId.slice(0, 60)}…` : entityId) : String(entityId);
    throw new TypeError(`${method} takes an entity id Name/key (e.g. "Account/alice"); got ${got}`);
  }
}

function scheduledTime(where: string, options: SignalEntityOptions | undefined): number | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) throw new TypeError(`${where}: the options must be an object such as { at: Date }`);
  const at = options.at;
  if (at === undefined) return undefined;
  const ms = typeof at === "number" ? at : Object.prototype.toString.call(at) === "[object Date]" ? (at as Date).getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`${where}: "at" takes a valid Date or epoch milliseconds; got ${String(at)}`);
  return ms;
}

function operations<M>(method: (op: string) => M): Record<string, M> {
  const methods = new Map<string, M>();
  return new Proxy({} as Record<string, M>, {
    get(_target, key) {
      if (typeof key !== "string" || key === "then") return undefined;
      let m = methods.get(key);
      if (m === undefined) methods.set(key, (m = method(key)));
      return m;
    },
  });
}

function withInput(input: unknown): { input?: unknown } {
  return input === undefined ? {} : { input };
}
