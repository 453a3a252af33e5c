import { ErrorCode } from "../../protocol/index.js";
import type { ExecutionEnd } from "./actions.js";
import { ActionLedger } from "./action-ledger.js";
import type { OrchestrationDefinition } from "./definitions.js";
import { RealDate, runDeterministic, seededRandom } from "./determinism-sandbox.js";
import { nameBasedUuid } from "./deterministic-guid.js";
import { EntityMessages, type EntityMessagesHost } from "./entity-messages.js";
import { isReservedEventName } from "./entity-requests.js";
import { ExternalEvents } from "./external-events.js";
import type { ExecutionStarted, FailureDetails } from "./history-events.js";
import { copyForCode, ownJson } from "./json-payloads.js";
import { RuntimeOrchestrationContext } from "./orchestration-runtime-context.js";
import { OrchestratorRunner, type RunnerHost } from "./orchestrator-runner.js";
import type { RetryOptions } from "./retry-options.js";
import { CallTask, type TaskOutcome } from "./retry-task.js";
import type { NonDeterminismError } from "./task-errors.js";
import { DurableTimerTask } from "./timer-task.js";

/** Work the history will complete: an activity or sub-orchestration attempt, a timer, an entity call or a lock request. */
interface Completion {
  readonly kind: "activity" | "sub-orchestration" | "timer" | "entity" | "lock";
  readonly settle: (outcome: TaskOutcome) => void;
}

/**
 * The state of one execution while it is replayed and run: time, actions, open tasks, external
 * events, custom status and how it ended. Event handlers change it; the context asks it for work.
 */
export class Execution implements RunnerHost, EntityMessagesHost {
  readonly ledger: ActionLedger;
  readonly events = new ExternalEvents();
  readonly entities = new EntityMessages(this);
  readonly context: RuntimeOrchestrationContext;
  readonly #runner = new OrchestratorRunner(this);
  readonly #completions = new Map<number, Completion>();

  /** The current turn's time (the last OrchestratorStarted's timestamp). */
  nowMs = 0;
  /** True while past events are applied. */
  replaying = true;
  /** The position in the history of the event being applied (for messages). */
  historyPosition = 0;
  started = false;
  input: unknown = undefined;
  parentInstanceId: string | undefined;
  customStatus: unknown = undefined;
  #generation = 0;
  /** Events that can run code (starts, completions, raised events) applied so far: seeds Math.random. */
  #inputEvents = 0;
  #random: { readonly at: number; readonly next: () => number } | undefined;
  #guidCounter = 0;
  #continueAsNew: { readonly input: unknown; readonly preserve: boolean } | undefined;
  #end: ExecutionEnd | undefined;
  #failureStack: string | undefined;
  #nonDeterministic = false;
  /** Steps of user code running now (generator steps, retry predicates): ctx calls outside them are refused. */
  #stepDepth = 0;

  constructor(
    readonly instanceId: string,
    readonly definition: OrchestrationDefinition,
  ) {
    this.ledger = new ActionLedger(definition.name);
    this.context = new RuntimeOrchestrationContext(this);
  }

  get orchestrationName(): string {
    return this.definition.name;
  }

  get running(): boolean {
    return this.#end === undefined;
  }

  get end(): ExecutionEnd | undefined {
    return this.#end;
  }

  /** True when the execution failed because replay did not match history (its actions mean nothing). */
  get nonDeterministic(): boolean {
    return this.#nonDeterministic;
  }

  get openTasks(): number {
    return this.#completions.size;
  }

  /** The ids of the open tasks of one kind (what the code still waits for), in id order. */
  openTaskIds(kind: Completion["kind"]): number[] {
    const ids: number[] = [];
    for (const [id, completion] of this.#completions) if (completion.kind === kind) ids.push(id);
    return ids.sort((a, b) => a - b);
  }

  // ---- applying history (event handlers) ----

  /** An event that can run code was applied (the next step sees a new random stream). */
  countInputEvent(): void {
    this.#inputEvents += 1;
  }

  beginTurn(timestamp: number): void {
    this.ledger.turnBoundary(this.historyPosition);
    this.nowMs = timestamp;
  }

  start(event: ExecutionStarted): void {
    if (this.started) return;
    this.started = true;
    this.#generation = event.generation ?? 0;
    this.input = copyForCode(event.input);
    this.parentInstanceId = event.parentInstanceId;
    this.#runner.start(() => this.definition.orchestrator(this.context as never, this.input));
  }

  /** A completion event for action `id`; one for an unknown id (or of another kind) is ignored. */
  settle(kind: Completion["kind"], id: number, outcome: TaskOutcome): void {
    const completion = this.#completions.get(id);
    if (completion === undefined || completion.kind !== kind) return;
    this.#completions.delete(id);
    completion.settle(outcome.ok ? { ok: true, result: copyForCode(outcome.result) } : { ok: false, failure: copyForCode(outcome.failure) as FailureDetails });
  }

  /** An EventRaised: a reserved name (an entity's answer, a lock grant) settles its task; others go to the external events. */
  raise(name: string, input: unknown): void {
    if (isReservedEventName(name)) {
      if (this.#end === undefined) this.entities.answer(name, input);
      return;
    }
    if (this.#end === undefined) this.events.raise(name, input);
    else if (this.#end.status === "ContinuedAsNew") this.events.keep(name, input); // carried over with preserveUnprocessedEvents
  }

  /** Runs the code on if the task it waits for has settled. */
  resume(): void {
    this.#runner.resume();
  }

  // ---- services for the context ----

  runUserCode<T>(fn: () => T): T {
    this.#stepDepth += 1;
    try {
      return runDeterministic(this.nowMs, () => this.#nextRandom(), fn);
    } finally {
      this.#stepDepth -= 1;
    }
  }

  /** Refuses a ctx call made while no step runs (from a callback, or after an await): it could not replay. */
  checkInStep(method: string): void {
    if (this.#stepDepth === 0) {
      throw new Error(`ctx.${method} was called outside the orchestrator's steps (from a callback, or after an await?): orchestrator code is a synchronous generator that yields tasks`);
    }
  }

  /** An activity or sub-orchestration call (input already checked), retried as `retry` says. */
  call(kind: "activity" | "sub-orchestration", name: string, input: unknown, instanceId: string | undefined, retry: RetryOptions | undefined): CallTask<unknown> {
    return new CallTask(kind, name, retry, {
      now: () => this.nowMs,
      runUserCode: (fn) => this.runUserCode(fn),
      wait: (delayMs, fired) => this.#startTimer(this.nowMs + delayMs, () => fired()),
      attempt: (settled) => {
        const id = this.ledger.nextId();
        const withInput = input === undefined ? {} : { input };
        if (kind === "activity") this.ledger.add({ type: "ScheduleTask", id, name, ...withInput });
        else this.ledger.add({ type: "CreateSubOrchestration", id, name, instanceId: instanceId ?? this.#childInstanceId(id), ...withInput });
        this.#completions.set(id, { kind, settle: (outcome) => settled(outcome, id) });
      },
    });
  }

  /** Registers the completion of action `id` (an entity call or lock request; see EntityMessages). */
  expect(id: number, kind: "entity" | "lock", settle: (outcome: TaskOutcome) => void): void {
    this.#completions.set(id, { kind, settle });
  }

  createTimer(fireAtMs: number): DurableTimerTask {
    let id = -1;
    const task = new DurableTimerTask(fireAtMs, () => {
      this.checkInStep("createTimer(…).cancel");
      this.#completions.delete(id);
      this.ledger.cancelTimer(id, this.replaying);
    });
    id = this.#startTimer(fireAtMs, () => task.complete());
    return task;
  }

  continueAsNew(input: unknown, preserveUnprocessedEvents: boolean): void {
    this.#continueAsNew = { input, preserve: preserveUnprocessedEvents };
  }

  newGuid(): string {
    // The generation too: several executions after continue-as-new can run at one turn's time.
    const execution = this.#generation === 0 ? "" : `${this.#generation}_`;
    return nameBasedUuid(`${this.instanceId}_${execution}${new RealDate(this.nowMs).toISOString()}_${this.#guidCounter++}`);
  }

  // ---- endings ----

  returned(output: unknown): void {
    let copy: unknown;
    try {
      copy = ownJson(output, `orchestration "${this.definition.name}": the output`);
    } catch (error) {
      this.fail({ errorType: "TypeError", message: (error as Error).message });
      return;
    }
    this.#end = { status: "Completed", output: copy };
  }

  endIfContinuedAsNew(): boolean {
    const request = this.#continueAsNew;
    if (request === undefined) return false;
    this.#end = { status: "ContinuedAsNew", input: request.input, carryOver: [] };
    return true;
  }

  fail(failure: FailureDetails, thrown?: unknown): void {
    if (this.#end !== undefined) return;
    this.#end = { status: "Failed", failure };
    this.#failureStack = stackOf(thrown);
  }

  /** Where the code threw the error that failed the execution, when it did: for the server's log, never for history or the wire. */
  get failureStack(): string | undefined {
    return this.#failureStack;
  }

  failNonDeterministic(error: NonDeterminismError): void {
    this.#nonDeterministic = true;
    this.#end = { status: "Failed", failure: { errorType: ErrorCode.non_determinism, message: error.message } };
  }

  /** The end as the host sees it (a continued execution carries the events kept until now). */
  reportedEnd(): ExecutionEnd | undefined {
    const end = this.#end;
    if (end?.status !== "ContinuedAsNew" || !this.#continueAsNew?.preserve) return end;
    return { ...end, carryOver: this.events.unconsumed() };
  }

  #startTimer(fireAtMs: number, fired: () => void): number {
    const id = this.ledger.nextId();
    this.ledger.add({ type: "CreateTimer", id, fireAt: fireAtMs });
    this.#completions.set(id, { kind: "timer", settle: () => fired() });
    return id;
  }

  /** A sub-orchestration's default instance id: stable on replay, and new in each continue-as-new execution. */
  #childInstanceId(actionId: number): string {
    return this.#generation === 0 ? `${this.instanceId}:${actionId}` : `${this.instanceId}:${this.#generation}:${actionId}`;
  }

  #nextRandom(): number {
    if (this.#random?.at !== this.#inputEvents) {
      this.#random = { at: this.#inputEvents, next: seededRandom(`${this.instanceId}\n${this.#generation}\n${this.#inputEvents}`) };
    }
    return this.#random.next();
  }
}

/** The stack of what the code threw, never throwing (a thrown value may be anything, a proxy even). */
function stackOf(thrown: unknown): string | undefined {
  try {
    return thrown instanceof Error && typeof thrown.stack === "string" ? thrown.stack : undefined;
  } catch {
    return undefined;
  }
}
