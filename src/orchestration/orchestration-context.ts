import type { ActivityDefinition, InputOf, OrchestrationDefinition, OutputOf } from "./definitions.js";
import type { EntityIdOf, LockHandle, LockState, OrchestrationEntityProxy, SignalEntityOptions } from "./entity-types.js";
import type { RetryOptions } from "./retry-options.js";
import type { ResultOf, Task, TimerTask } from "./task.js";

/** What a typed call takes besides the input. */
export interface CallOptions {
  /** Retry the call on failure (activities and sub-orchestrations). */
  readonly retry?: RetryOptions;
  /** A sub-orchestration's instance id (default: derived from this instance's id and the call's position, as callSubOrchestration says). */
  readonly instanceId?: string;
}

/**
 * What orchestrator code sees: `ctx` in `function* (ctx, input) { … }`. Every method that starts
 * work returns a Task to `yield`; the result of `yield task` is the task's result (or the task's
 * error is thrown at the `yield`). `yield* task` gives the same result with its type.
 *
 * While the code runs, `Date.now()`, `new Date()` and `Math.random()` are replay-safe: they return
 * the orchestration's current time and numbers seeded by the instance id and the history position.
 */
export interface OrchestrationContext<I = unknown> {
  /** The orchestration's name. */
  readonly name: string;
  readonly instanceId: string;
  /** The instance that started this one as a sub-orchestration, if any. */
  readonly parentInstanceId: string | undefined;
  /** True while the code is being replayed from history (its effects happened before). */
  readonly isReplaying: boolean;
  /** The time of the current turn: the same on every replay. */
  readonly currentUtcDateTime: Date;
  readonly input: I;
  getInput<T = I>(): T;

  /** Schedules an activity by name; `yield` it for its result. */
  callActivity<T = any>(name: string, input?: unknown): Task<T>;
  /** Schedules an activity and retries it as `retry` says when it fails. */
  callActivityWithRetry<T = any>(name: string, retry: RetryOptions, input?: unknown): Task<T>;
  /** Typed: an activity or sub-orchestration by its definition; the input is checked and the result typed (`yield* ctx.call(SayHello, "Tokyo")`). */
  call<D extends ActivityDefinition | OrchestrationDefinition>(definition: D, input: InputOf<D>, options?: CallOptions): Task<OutputOf<D>>;
  /**
   * Starts a sub-orchestration by name (or definition) and waits for its output. The default
   * instance id is `${instanceId}:${actionId}` (`${instanceId}:${generation}:${actionId}` after a
   * continue-as-new, so a later execution's children never reuse an earlier one's ids).
   */
  callSubOrchestration<T = any>(name: string | OrchestrationDefinition, input?: unknown, instanceId?: string): Task<T>;
  callSubOrchestrationWithRetry<T = any>(name: string | OrchestrationDefinition, retry: RetryOptions, input?: unknown, instanceId?: string): Task<T>;
  /** A durable timer that fires at `fireAt`; `cancel()` it when it is no longer needed (a cancelled timer never completes). */
  createTimer(fireAt: Date | number): TimerTask;
  /**
   * Waits for an external event; events raised before the wait are kept, in order, and several
   * waiters for one name are served in the order they waited. Names match case-insensitively.
   */
  waitForExternalEvent<T = any>(name: string): Task<T>;
  /**
   * Ends this execution and starts the instance again with `input` and a fresh history (the eternal
   * orchestration). Return right after calling it. With `preserveUnprocessedEvents`, external events
   * raised and not yet consumed are kept for the next execution. Returning, or yielding, after it
   * ends the execution; the input must be JSON.
   */
  continueAsNew(input: unknown, options?: { preserveUnprocessedEvents?: boolean }): void;
  /** A JSON value shown in the instance's status (`customStatus`). */
  setCustomStatus(status: unknown): void;
  /** A GUID that is the same on every replay. */
  newGuid(): string;

  /**
   * Calls an entity operation and waits for its result: `const balance: number = yield ctx.callEntity("Account/alice", "get")`.
   * A failed operation throws a TaskFailedError named "EntityOperationFailed" at the `yield`, with
   * `failure.errorType` the entity's error code (`operation_failed`, `unknown_operation`, …).
   * Typed: `ctx.entity<typeof Account>(id).call.get()`.
   */
  callEntity<T = any>(entityId: string, operation: string, input?: unknown): Task<T>;
  /**
   * Signals an entity: one-way (nothing to yield); it leaves with this turn's commit. `{ at }` (a
   * Date or epoch ms) delivers it at, not before, that time. Typed: `ctx.entity<typeof Account>(id).signal.deposit(5)`.
   */
  signalEntity(entityId: string, operation: string, input?: unknown, options?: SignalEntityOptions): void;
  /**
   * A typed handle on one entity, as the client's `client.entity<typeof Account>(id)`: the id must be
   * `Account/…`, each operation's input and result are typed, and its calls return Tasks:
   * `const balance = yield* ctx.entity<typeof Account>("Account/alice").call.withdraw(5)`.
   */
  entity<D = unknown>(entityId: EntityIdOf<D>): OrchestrationEntityProxy<D>;
  /**
   * Enters a critical section: completes with a LockHandle once every entity is held (locks are
   * taken in one global order, sorted ids, so orchestrations locking overlapping sets never
   * deadlock). Until `lock.release()` (or the end of the execution, which releases them): no nested
   * lock, calls only to the locked entities, no sub-orchestration, no signal to a locked entity; a
   * call that breaks a rule throws a LockingRulesViolationError.
   *
   * ```ts
   * const lock = yield* ctx.lock([from, to]);
   * try { … yield ctx.callEntity(from, "withdraw", amount) … } finally { lock.release(); }
   * ```
   */
  lock(entityIds: readonly string[]): Task<LockHandle>;
  /** Whether a critical section is held (or being acquired), and on which entities. */
  isLocked(): LockState;
  /** `Task.all` and `Task.any`, as in Durable Functions' `context.df.Task`. */
  readonly Task: TaskCombinators;
}

export interface TaskCombinators {
  /**
   * Completes with every result, in order, when all complete; fails with the first failure.
   * Typed per element: `yield* Task.all([a, b])` is `[A, B]`; an array of `Task<T>` gives `T[]`.
   */
  all<const Ts extends readonly Task<unknown>[]>(tasks: Ts): Task<{ -readonly [K in keyof Ts]: ResultOf<Ts[K]> }>;
  /**
   * Completes with the first task to complete (the task itself, completed or failed, as in Durable
   * Functions; it never throws): `const winner = yield* Task.any([event, timer]); if (winner === timer) …`.
   */
  any<const Ts extends readonly Task<unknown>[]>(tasks: Ts): Task<Ts[number]>;
}
