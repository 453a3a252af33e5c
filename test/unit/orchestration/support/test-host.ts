import { expect } from "vitest";
import {
  ReplayExecutor,
  entityRequestEvent,
  entityResponseEventName,
  lockGrantedEventName,
  replay,
  type ExecutionEnd,
  type FailureDetails,
  type HistoryEvent,
  type OrchestrationDefinition,
  type OrchestratorAction,
  type ReplayResult,
} from "../../../../src/orchestration/index.js";
import { planRewind, type RewindPlan } from "../../../../src/orchestration/rewind-plan.js";

/** An event as a test writes it: the host stamps the time. */
export type Arrival = HistoryEvent extends infer E ? (E extends HistoryEvent ? Omit<E, "timestamp"> : never) : never;

/** A fake activity: returns its result, or throws to fail. */
export type FakeActivity = (input: any) => unknown;

export interface TestHostOptions {
  readonly instanceId?: string;
  /** The first turn's time (epoch ms). */
  readonly startMs?: number;
  /** Check at every turn that the cached executor and a fresh replay of the history agree (default true). */
  readonly verify?: boolean;
  readonly generation?: number;
  readonly parentInstanceId?: string;
}

export const START_MS = Date.UTC(2026, 0, 1, 12, 0, 0);

/**
 * Plays the host: turns of events into the executor, the history recorded as the real host records
 * it (the turn's events, one event per action, OrchestratorCompleted), JSON as the store keeps it.
 * At every turn it also replays the whole history on a fresh executor and checks both agree.
 */
export class TestHost {
  readonly instanceId: string;
  readonly history: HistoryEvent[] = [];
  readonly results: ReplayResult[] = [];
  /** The events of the last turn, as the executor got them. */
  lastNewEvents: HistoryEvent[] = [];
  /** Actions asked for and not yet answered, by id (CancelTimer removes its timer). */
  readonly open = new Map<number, OrchestratorAction>();
  nowMs: number;
  end: ExecutionEnd | undefined;
  #executor: ReplayExecutor | undefined;
  readonly #verify: boolean;

  constructor(
    readonly definition: OrchestrationDefinition,
    private readonly options: TestHostOptions = {},
  ) {
    this.instanceId = options.instanceId ?? "instance-1";
    this.nowMs = options.startMs ?? START_MS;
    this.#verify = options.verify ?? true;
  }

  get last(): ReplayResult {
    return this.results.at(-1)!;
  }

  /** The first turn: ExecutionStarted with `input`. */
  start(input?: unknown): ReplayResult {
    const { generation, parentInstanceId } = this.options;
    return this.turn(
      [
        {
          type: "ExecutionStarted",
          name: this.definition.name,
          ...(input === undefined ? {} : { input }),
          ...(generation === undefined ? {} : { generation }),
          ...(parentInstanceId === undefined ? {} : { parentInstanceId }),
        },
      ],
      0,
    );
  }

  /** One turn: an OrchestratorStarted `advanceMs` later than the last, then `arrivals`. */
  turn(arrivals: Arrival[], advanceMs = 1000): ReplayResult {
    this.nowMs += advanceMs;
    const newEvents = [{ type: "OrchestratorStarted", timestamp: this.nowMs }, ...arrivals.map((a) => ({ ...a, timestamp: this.nowMs }))] as HistoryEvent[];
    const stored = json(newEvents);
    this.lastNewEvents = json(newEvents);
    const cached = this.#executor ? this.#executor.advance(stored) : (this.#executor = new ReplayExecutor(this.instanceId, this.definition)).run(this.history, stored);
    if (this.#verify) {
      const fresh = replay({ instanceId: this.instanceId, definition: this.definition, past: json(this.history), newEvents: json(newEvents) });
      expect(json(cached), "a cached executor and a fresh replay disagree").toEqual(json(fresh));
    }
    this.#record(stored, cached);
    this.results.push(cached);
    return cached;
  }

  /**
   * A rewind turn, as the host runs it: planRewind decides which failures it takes back, then the
   * turn's OrchestratorStarted and ExecutionRewound run on a fresh executor over the whole history.
   * The tasks it takes back are open again. A refused rewind runs no turn.
   */
  rewind(reason?: unknown, maxReplayedEvents?: number): { plan: RewindPlan; result?: ReplayResult } {
    const plan = planRewind(this.instanceId, this.definition, json(this.history), this.nowMs + 1000, maxReplayedEvents);
    if (plan.refusal !== undefined) return { plan };
    for (const position of plan.rewoundEvents) {
      const failed = this.history[position]!;
      if (failed.type !== "TaskFailed" && failed.type !== "SubOrchestrationInstanceFailed") throw new Error(`position ${position} is a ${failed.type}`);
      const scheduled = this.history.find((event) => (event.type === "TaskScheduled" || event.type === "SubOrchestrationInstanceCreated") && event.eventId === failed.taskScheduledId);
      if (scheduled?.type === "TaskScheduled") this.open.set(scheduled.eventId, { type: "ScheduleTask", id: scheduled.eventId, name: scheduled.name, ...(scheduled.input === undefined ? {} : { input: scheduled.input }) });
      if (scheduled?.type === "SubOrchestrationInstanceCreated") {
        this.open.set(scheduled.eventId, { type: "CreateSubOrchestration", id: scheduled.eventId, name: scheduled.name, instanceId: scheduled.instanceId, ...(scheduled.input === undefined ? {} : { input: scheduled.input }) });
      }
    }
    this.#executor = undefined;
    const result = this.turn([{ type: "ExecutionRewound", ...(reason === undefined ? {} : { reason }), rewoundEvents: plan.rewoundEvents }]);
    return { plan, result };
  }

  // ---- arrivals ----

  completed(id: number, result?: unknown): Arrival {
    const action = this.open.get(id);
    if (action?.type === "CreateSubOrchestration") return { type: "SubOrchestrationInstanceCompleted", taskScheduledId: id, ...(result === undefined ? {} : { result }) };
    return { type: "TaskCompleted", taskScheduledId: id, ...(result === undefined ? {} : { result }) };
  }

  failed(id: number, failure: FailureDetails | string): Arrival {
    const details = typeof failure === "string" ? { errorType: "Error", message: failure } : failure;
    if (this.open.get(id)?.type === "CreateSubOrchestration") return { type: "SubOrchestrationInstanceFailed", taskScheduledId: id, failure: details };
    return { type: "TaskFailed", taskScheduledId: id, failure: details };
  }

  fired(id: number): Arrival {
    const timer = this.open.get(id);
    return { type: "TimerFired", timerId: id, fireAt: timer?.type === "CreateTimer" ? timer.fireAt : this.nowMs };
  }

  raised(name: string, input?: unknown): Arrival {
    return { type: "EventRaised", name, ...(input === undefined ? {} : { input }) };
  }

  /** An entity's answer to the call with action id `id`: `{ result }`. */
  entityResult(id: number, result?: unknown): Arrival {
    return this.raised(entityResponseEventName(id), result === undefined ? {} : { result });
  }

  /** An entity's failure answer to the call with action id `id`: `{ failure }`. */
  entityFailed(id: number, failure: FailureDetails | string): Arrival {
    return this.raised(entityResponseEventName(id), { failure: typeof failure === "string" ? { errorType: "operation_failed", message: failure } : failure });
  }

  /** The grant of the lock request with action id `id`. */
  lockGranted(id: number): Arrival {
    const action = this.open.get(id);
    return this.raised(lockGrantedEventName(id), { entities: action?.type === "LockEntities" ? action.entityIds : [] });
  }

  /** Open actions of one type, oldest first. */
  openOf<T extends OrchestratorAction["type"]>(type: T): Array<Extract<OrchestratorAction, { type: T }>> {
    return [...this.open.values()].filter((a): a is Extract<OrchestratorAction, { type: T }> => a.type === type);
  }

  /** Completes every open activity with the fakes (one turn), else fires the earliest timer; until nothing is left to do. */
  drive(activities: Record<string, FakeActivity>, maxTurns = 10_000): ReplayResult {
    for (let turns = 0; turns < maxTurns && this.end === undefined; turns++) {
      const tasks = this.openOf("ScheduleTask");
      if (tasks.length > 0) {
        this.turn(tasks.map((task) => runFake(this, activities, task)));
        continue;
      }
      const timer = this.openOf("CreateTimer").sort((a, b) => a.fireAt - b.fireAt)[0];
      if (timer === undefined) break;
      this.turn([this.fired(timer.id)], Math.max(0, timer.fireAt - this.nowMs));
    }
    return this.last;
  }

  #record(newEvents: HistoryEvent[], result: ReplayResult): void {
    for (const event of newEvents) {
      if (event.type === "TaskCompleted" || event.type === "TaskFailed" || event.type === "SubOrchestrationInstanceCompleted" || event.type === "SubOrchestrationInstanceFailed") {
        this.open.delete(event.taskScheduledId);
      } else if (event.type === "TimerFired") this.open.delete(event.timerId);
      else if (event.type === "EventRaised" && /^@(entity|lock):\d+$/.test(event.name)) this.open.delete(Number(event.name.slice(event.name.indexOf(":") + 1)));
    }
    const timestamp = this.nowMs;
    const recorded: HistoryEvent[] = [...newEvents];
    for (const action of result.actions) {
      if (action.type === "CancelTimer") {
        this.open.delete(action.id);
        continue;
      }
      if (action.type !== "SignalEntity" && action.type !== "ReleaseLocks") this.open.set(action.id, action); // one-way: nothing answers them
      recorded.push(eventOf(action, timestamp));
    }
    if (result.end?.status === "Completed") recorded.push({ type: "ExecutionCompleted", timestamp, status: "Completed", result: result.end.output });
    if (result.end?.status === "Failed") recorded.push({ type: "ExecutionCompleted", timestamp, status: "Failed", failure: result.end.failure });
    recorded.push({ type: "OrchestratorCompleted", timestamp });
    this.history.push(...json(recorded));
    this.end = result.end;
  }
}

function runFake(host: TestHost, activities: Record<string, FakeActivity>, task: { id: number; name: string; input?: unknown }): Arrival {
  const fake = activities[task.name];
  if (fake === undefined) return host.failed(task.id, { errorType: "Error", message: `no activity ${task.name}` });
  try {
    return host.completed(task.id, fake(task.input));
  } catch (error) {
    const e = error as Error & { details?: unknown };
    return host.failed(task.id, { errorType: e.name, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) });
  }
}

/** The history event the host records for an action. */
export function eventOf(action: Exclude<OrchestratorAction, { type: "CancelTimer" }>, timestamp: number): HistoryEvent {
  if (action.type === "CallEntity" || action.type === "SignalEntity" || action.type === "LockEntities" || action.type === "ReleaseLocks") return entityRequestEvent(action, timestamp);
  const input = action.type === "CreateTimer" || action.input === undefined ? {} : { input: action.input };
  switch (action.type) {
    case "ScheduleTask":
      return { type: "TaskScheduled", timestamp, eventId: action.id, name: action.name, ...input };
    case "CreateTimer":
      return { type: "TimerCreated", timestamp, eventId: action.id, fireAt: action.fireAt };
    case "CreateSubOrchestration":
      return { type: "SubOrchestrationInstanceCreated", timestamp, eventId: action.id, name: action.name, instanceId: action.instanceId, ...input };
    case "SendEvent":
      return { type: "EventSent", timestamp, eventId: action.id, instanceId: action.instanceId, name: action.name, ...input };
  }
}

/** A JSON round trip: what the store gives back. */
export function json<T>(value: T): T {
  return value === undefined ? value : JSON.parse(JSON.stringify(value));
}
