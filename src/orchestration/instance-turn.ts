import { randomInt } from "node:crypto";
import { ErrorCode } from "../../protocol/index.js";
import { jsonEqual, type Outcome, type TickContext } from "../runtime/index.js";
import { isReservedEventName } from "./entity-requests.js";
import { guardRail } from "./guard-rails.js";
import { TurnActions } from "./turn-actions.js";
import type { TimerAddress } from "../storage/index.js";
import type { ActivityWork } from "./activity-worker.js";
import type { OrchestrationDefinition } from "./definitions.js";
import type { FailureDetails, HistoryEvent } from "./history-events.js";
import { readHistoryPage } from "./history-page.js";
import { isActive, statusOf, type InstanceRecord, type InstanceStatus } from "./instance-record.js";
import type { ControlRequest, EventRequest, InstanceRequest, RewindRequest, StartRequest } from "./instance-requests.js";
import { rewindInstance } from "./instance-rewind.js";
import type { LoadedInstance } from "./loaded-instance.js";
import type { OrchestrationLimits } from "./orchestration-limits.js";
import type { OrchestrationMeter } from "../observability/meters.js";
import { ReplayExecutor, type ReplayResult } from "./replay-executor.js";

/** What an instance turn needs besides the instance. */
export interface InstanceTurnDeps {
  readonly orchestrations: ReadonlyMap<string, OrchestrationDefinition>;
  readonly limits: OrchestrationLimits;
  /** The committed history of an instance's current execution (from an event on, at most `limit` of them). */
  readonly readHistory: (instanceId: string, from?: number, limit?: number) => HistoryEvent[];
  /** Where executions' starts and ends are counted (default: nowhere). */
  readonly meter?: Pick<OrchestrationMeter, "started" | "finished">;
}

/** What the turn leaves to do once its commit is durable. */
export interface InstanceTurnEffects {
  /** Answers, released after the commit (a function is evaluated then: it reads the store). */
  readonly outcomes: Array<[InstanceRequest, Outcome | (() => Outcome)]>;
  readonly activities: ActivityWork[];
  readonly timersAdded: number[];
  readonly timersSettled: TimerAddress[];
  /** The status, output or custom status changed (watchers are told after the commit). */
  statusChanged: boolean;
  /** Events wait in the inbox (the next execution after continue-as-new): run another turn. */
  again: boolean;
  /** The status after the turn, when it changed (null: purged). */
  status?: InstanceStatus | null;
  /** Requests the turn left for a later one (from a history read on, which waits until what came before is durable). */
  leftover?: InstanceRequest[];
  /** The execution failed in this turn (logged once the turn is durable); `stack` is where its code threw, when it did. */
  failed?: { readonly orchestration: string; readonly failure: FailureDetails; readonly stack?: string };
}

const ACK: Outcome = { kind: "ack" };
/** Executions one turn may run (each continue-as-new starts one); the rest wait for the next turn. */
const MAX_EXECUTIONS_PER_TURN = 50;
/** Raised events a suspended instance keeps for its resume (they live in its record, rewritten each turn). */
const MAX_SUSPENDED_EVENTS = 1_000;

/**
 * One turn of one orchestration instance: every request in its mailbox, in order. Starts, results,
 * timers and raised events become history events; the replay executor runs the code over them; its
 * actions become history events, work items, timers and messages, all in the tick's batch. Nothing
 * of it acts before the commit (the effects are returned for the release).
 */
export class InstanceTurn {
  readonly effects: InstanceTurnEffects = { outcomes: [], activities: [], timersAdded: [], timersSettled: [], statusChanged: false, again: false };
  /** Events arrived in this turn and not yet run through the code. */
  private pending: HistoryEvent[] = [];
  private readonly actions: TurnActions;
  private recordChanged = false;
  private wroteHistory = false;

  constructor(
    private readonly instance: LoadedInstance,
    private readonly tick: TickContext,
    private readonly deps: InstanceTurnDeps,
  ) {
    this.actions = new TurnActions(instance, tick, this.effects);
  }

  run(requests: readonly InstanceRequest[]): InstanceTurnEffects {
    for (let i = 0; i < requests.length; i++) {
      const request = requests[i]!;
      const readsHistory = (request.kind === "read" && request.history === true) || request.kind === "rewind";
      if (readsHistory && (this.wroteHistory || this.pending.length > 0 || this.instance.pendingCommits > 0)) {
        // A history read (or a rewind) works from the store: it waits for a turn of its own once what came before is durable.
        this.effects.leftover = requests.slice(i);
        break;
      }
      this.consume(request);
      switch (request.kind) {
        case "start":
          this.start(request);
          break;
        case "event":
          this.event(request);
          break;
        case "read":
          this.runCode();
          this.read(request);
          break;
        case "rewind":
          this.rewind(request);
          break;
        default:
          this.control(request);
      }
    }
    this.runCode();
    // An eternal orchestration continues as new once per event: run the next executions now, a bounded number per turn.
    for (let executions = 1; executions < MAX_EXECUTIONS_PER_TURN && this.hasInbox(); executions++) this.runCode();
    const record = this.instance.record;
    if (this.recordChanged && record) {
      record.lastUpdatedTime = this.tick.nowMs;
      this.tick.batch.putInstance(this.instance.id, record);
    }
    this.effects.again = this.hasInbox();
    // What watchers are told: the status this turn leaves (a later turn may change the record before the release).
    if (this.effects.statusChanged) this.effects.status = record ? statusOf(this.instance.id, record) : null;
    return this.effects;
  }

  private get now(): number {
    return this.tick.nowMs;
  }

  /** Deletes what made a durable request, in this turn's batch (a stale result's work item belongs to a newer task: kept). */
  private consume(request: InstanceRequest): void {
    if (request.kind !== "start" && request.kind !== "event" && request.kind !== "rewind") return;
    if (request.message) this.tick.batch.deleteMessage(request.message);
    if (request.kind === "rewind") return;
    const current = request.kind === "event" && request.generation !== undefined && request.generation === this.instance.record?.generation;
    if (request.kind === "event" && request.workItem && current) this.tick.batch.deleteWorkItem(request.workItem);
    if (request.kind === "event" && request.timer) {
      this.tick.batch.deleteTimer(request.timer); // its key names its due time: it is this timer's record, whatever the generation
      this.effects.timersSettled.push(request.timer);
    }
  }

  private answer(request: InstanceRequest, outcome: Outcome | (() => Outcome)): void {
    if (request.replyTo) this.effects.outcomes.push([request, outcome]);
  }

  private start(request: StartRequest): void {
    const existing = this.instance.record;
    const resend = request.sender !== undefined && existing?.createdBy?.[0] === request.sender.clientId && existing.createdBy[1] === request.sender.seq;
    // A resent start (its answer was lost) is answered as the first time, also once the instance has finished.
    if (resend) return this.answer(request, { kind: "result", value: { instanceId: this.instance.id } });
    if (existing && isActive(existing.status)) {
      if (request.parent) this.actions.tellParent(request.parent, { errorType: ErrorCode.instance_exists, message: `an orchestration with id "${this.instance.id}" is already running` });
      return this.answer(request, { kind: "error", code: ErrorCode.instance_exists, message: `an orchestration with id "${this.instance.id}" is already running (status ${existing.status}); pick another id, or wait until it finishes` });
    }
    this.runCode(); // nothing should be pending for a finished instance, but never mix executions
    if (existing) this.clearHistory(existing);
    const record: InstanceRecord = {
      name: request.name,
      status: "Running",
      input: request.input,
      createdTime: this.now,
      lastUpdatedTime: this.now,
      depth: request.depth,
      // A new instance's executions are numbered from a random start: results still on their way to a purged
      // instance of the same id must not look like this one's.
      generation: existing ? existing.generation + 1 : randomGeneration(),
      historyLength: 0,
      ...(request.parent ? { parent: request.parent } : {}),
      ...(request.sender ? { createdBy: [request.sender.clientId, request.sender.seq] as const } : {}),
    };
    this.instance.record = record;
    this.deps.meter?.started(request.name);
    this.instance.executor = undefined;
    this.instance.openTimers = new Map();
    this.instance.openWork = new Set();
    this.instance.openSubOrchestrations = new Set();
    this.recordChanged = true;
    this.effects.statusChanged = true;
    this.answer(request, { kind: "result", value: { instanceId: this.instance.id } });
    const started: HistoryEvent = {
      type: "ExecutionStarted",
      timestamp: this.now,
      name: request.name,
      ...withInput(request.input),
      ...(request.parent ? { parentInstanceId: request.parent.instanceId, parentTaskId: request.parent.taskId } : {}),
      generation: record.generation,
    };
    const refusal =
      request.depth > this.deps.limits.maxDepth
        ? { errorType: ErrorCode.limit_exceeded, message: `sub-orchestrations nest ${request.depth} deep; the limit is ${this.deps.limits.maxDepth}` }
        : !this.deps.orchestrations.has(request.name)
          ? { errorType: ErrorCode.unknown_orchestration, message: `no orchestration "${request.name}" in this app` }
          : undefined;
    if (refusal === undefined) return void this.pending.push(started);
    this.appendHistory([started, { type: "ExecutionCompleted", timestamp: this.now, status: "Failed", failure: refusal }]);
    this.finish("Failed", { failure: refusal });
  }

  private event(request: EventRequest): void {
    const record = this.instance.record;
    const raised = request.event.type === "EventRaised";
    if (record === undefined) {
      return this.answer(request, { kind: "error", code: ErrorCode.not_found, message: `no orchestration instance "${this.instance.id}"` });
    }
    if (!isActive(record.status)) {
      return this.answer(request, { kind: "error", code: ErrorCode.instance_finished, message: `orchestration instance "${this.instance.id}" has finished (${record.status}); it takes no more events` });
    }
    // A result for an execution that has ended; so is an entity's answer or lock grant (a reserved event name)
    // for an earlier execution: the next one numbers its actions from 0 again.
    const forAnExecution = request.event.type !== "EventRaised" || isReservedEventName(request.event.name);
    if (forAnExecution && request.generation !== record.generation) return;
    if (!this.isOpen(request.event)) return; // already recorded (a duplicate)
    const event = { ...request.event, timestamp: this.now } as HistoryEvent;
    this.closeTask(event);
    if (record.status === "Suspended") {
      if (raised && (record.inbox?.length ?? 0) >= MAX_SUSPENDED_EVENTS) {
        return this.answer(request, { kind: "error", code: ErrorCode.limit_exceeded, message: `orchestration instance "${this.instance.id}" is suspended with ${MAX_SUSPENDED_EVENTS} events waiting; resume it before raising more` });
      }
      (record.inbox ??= []).push(event);
      this.recordChanged = true;
    } else {
      this.pending.push(event);
    }
    this.answer(request, ACK);
  }

  /** False for a completion of a task the execution does not have open (recorded already, or never asked for). */
  private isOpen(event: HistoryEvent): boolean {
    this.ensureIndex();
    if (event.type === "TaskCompleted" || event.type === "TaskFailed") return this.instance.openWork!.has(event.taskScheduledId);
    if (event.type === "TimerFired") return this.instance.openTimers!.has(event.timerId);
    if (event.type === "SubOrchestrationInstanceCompleted" || event.type === "SubOrchestrationInstanceFailed") return this.instance.openSubOrchestrations!.has(event.taskScheduledId);
    return true;
  }

  private closeTask(event: HistoryEvent): void {
    if (event.type === "TaskCompleted" || event.type === "TaskFailed") this.instance.openWork!.delete(event.taskScheduledId);
    else if (event.type === "TimerFired") this.instance.openTimers!.delete(event.timerId);
    else if (event.type === "SubOrchestrationInstanceCompleted" || event.type === "SubOrchestrationInstanceFailed") this.instance.openSubOrchestrations!.delete(event.taskScheduledId);
  }

  private control(request: ControlRequest): void {
    this.runCode();
    const record = this.instance.record;
    if (record === undefined) return this.answer(request, { kind: "error", code: ErrorCode.not_found, message: `no orchestration instance "${this.instance.id}"` });
    if (request.kind === "purge") {
      if (isActive(record.status)) {
        return this.answer(request, { kind: "error", code: ErrorCode.instance_exists, message: `orchestration instance "${this.instance.id}" is still ${record.status}; terminate it before purging` });
      }
      this.clearHistory(record);
      this.tick.batch.deleteInstance(this.instance.id);
      this.instance.record = undefined;
      this.instance.executor = undefined;
      this.recordChanged = false;
      this.effects.statusChanged = true;
      return this.answer(request, { kind: "result", value: { instancesDeleted: 1 } });
    }
    if (!isActive(record.status)) {
      return this.answer(request, { kind: "error", code: ErrorCode.instance_finished, message: `orchestration instance "${this.instance.id}" has finished (${record.status})` });
    }
    const reason = request.reason === undefined ? {} : { reason: request.reason };
    if (request.kind === "terminate") {
      this.appendHistory([{ type: "ExecutionTerminated", timestamp: this.now, ...reason }]);
      this.finish("Terminated", { output: request.reason ?? null });
    } else if (request.kind === "suspend" && record.status !== "Suspended") {
      record.status = "Suspended";
      this.appendHistory([{ type: "ExecutionSuspended", timestamp: this.now, ...reason }]);
      this.effects.statusChanged = this.recordChanged = true;
    } else if (request.kind === "resume" && record.status === "Suspended") {
      record.status = "Running";
      this.appendHistory([{ type: "ExecutionResumed", timestamp: this.now, ...reason }]);
      this.pending.push(...(record.inbox ?? []));
      record.inbox = undefined;
      this.effects.statusChanged = this.recordChanged = true;
    }
    this.answer(request, ACK);
  }

  /** A rewind (instance-rewind.ts): when the instance runs again, its code runs over the ExecutionRewound first. */
  private rewind(request: RewindRequest): void {
    this.runCode();
    const { outcome, rewound } = rewindInstance(this.instance, request, { tick: this.tick, effects: this.effects, actions: this.actions, deps: this.deps });
    if (rewound) {
      this.pending.push(rewound);
      this.recordChanged = true;
      this.deps.meter?.started(this.instance.record!.name); // its failed execution runs again
    }
    this.answer(request, outcome);
  }

  /**
   * The status at this point of the turn, with a page of the history when asked. A history read is
   * the first request of its turn and none of the instance's turns is committing: the store holds
   * exactly the history before it.
   */
  private read(request: InstanceRequest & { kind: "read" }): void {
    const record = this.instance.record;
    if (record === undefined) return this.answer(request, { kind: "result", value: null });
    const status = statusOf(this.instance.id, record);
    if (request.history !== true) return this.answer(request, { kind: "result", value: status });
    const id = this.instance.id;
    const page = readHistoryPage((from, limit) => this.deps.readHistory(id, from, limit), request.historyFrom ?? 0, record.historyLength);
    this.answer(request, { kind: "result", value: { ...status, ...page } });
  }

  /** Events wait for a running instance's next execution (after continue-as-new, or a resume). */
  private hasInbox(): boolean {
    const record = this.instance.record;
    return record !== undefined && record.status === "Running" && (record.inbox?.length ?? 0) > 0;
  }

  /** Runs the code over the events that arrived (the inbox's first: they came before), and records what it asked for. */
  private runCode(): void {
    const record = this.instance.record;
    if (record === undefined || record.status !== "Running") return;
    if (this.hasInbox()) {
      this.pending.unshift(...record.inbox!);
      record.inbox = undefined;
      this.recordChanged = true;
    }
    if (this.pending.length === 0) return;
    const definition = this.deps.orchestrations.get(record.name);
    if (definition === undefined) {
      // Deployed without it while instances ran: they fail, nothing else does.
      this.pending = [];
      const failure = { errorType: ErrorCode.unknown_orchestration, message: `this app no longer defines orchestration "${record.name}"` };
      this.appendHistory([{ type: "ExecutionCompleted", timestamp: this.now, status: "Failed", failure }]);
      return this.finish("Failed", { failure });
    }
    const events: HistoryEvent[] = [{ type: "OrchestratorStarted", timestamp: this.now }, ...this.pending];
    this.pending = [];
    let executor = this.instance.executor;
    let result: ReplayResult;
    if (executor) {
      result = executor.advance(events);
    } else {
      const past = record.historyLength > 0 ? this.deps.readHistory(this.instance.id) : [];
      executor = new ReplayExecutor(this.instance.id, definition);
      result = executor.run(past, events);
    }
    this.instance.executor = executor;
    // The entities it holds (or is acquiring): released when the execution ends, however it ends.
    if (!jsonEqual(record.locks ?? [], result.locks)) {
      record.locks = result.locks.length > 0 ? [...result.locks] : undefined;
      this.recordChanged = true;
    }
    if (!jsonEqual(record.customStatus, result.customStatus)) {
      record.customStatus = result.customStatus;
      this.effects.statusChanged = true;
    }
    const refusal = guardRail(record, events.length, result, this.deps.limits);
    // Past a guard rail the turn's work is not done and not recorded: only the failure is.
    const recorded: HistoryEvent[] =
      refusal === undefined ? [...events, ...result.actions.flatMap((action) => this.actions.act(action))] : events.filter((event) => event.type === "OrchestratorStarted" || event.type === "ExecutionStarted");
    const end = refusal === undefined ? result.end : { status: "Failed" as const, failure: refusal };
    if (end?.status === "ContinuedAsNew") return this.continueAsNew(end.input, end.carryOver);
    if (end) recorded.push(end.status === "Completed" ? { type: "ExecutionCompleted", timestamp: this.now, status: "Completed", result: end.output } : { type: "ExecutionCompleted", timestamp: this.now, status: "Failed", failure: end.failure });
    recorded.push({ type: "OrchestratorCompleted", timestamp: this.now });
    this.appendHistory(recorded);
    if (end?.status === "Completed") this.finish("Completed", { output: end.output });
    else if (end?.status === "Failed") this.finish("Failed", { failure: end.failure, stack: refusal === undefined ? executor.failureStack : undefined });
  }

  /** Ends the execution and starts the next with `input`: a fresh history, run in the next turn. */
  private continueAsNew(input: unknown, carryOver: ReadonlyArray<{ name: string; input?: unknown }>): void {
    const record = this.instance.record!;
    this.actions.releaseHeldLocks();
    this.clearOpenWork();
    this.clearHistory(record);
    record.generation++;
    this.deps.meter?.finished(record.name, "ContinuedAsNew");
    this.deps.meter?.started(record.name);
    record.input = input;
    record.output = undefined;
    record.customStatus = undefined;
    this.instance.executor = undefined;
    this.instance.openTimers = new Map();
    this.instance.openWork = new Set();
    this.instance.openSubOrchestrations = new Set();
    record.inbox = [
      { type: "ExecutionStarted", timestamp: this.now, name: record.name, ...withInput(input), ...(record.parent ? { parentInstanceId: record.parent.instanceId, parentTaskId: record.parent.taskId } : {}), generation: record.generation },
      ...carryOver.map((event): HistoryEvent => ({ type: "EventRaised", timestamp: this.now, name: event.name, ...withInput(event.input) })),
      ...(record.inbox ?? []),
    ];
    this.effects.statusChanged = this.recordChanged = true;
  }

  /** The execution ended: record it, drop its open timers and work items, and tell the parent. */
  private finish(status: "Completed" | "Failed" | "Terminated", result: { output?: unknown; failure?: FailureDetails; stack?: string | undefined }): void {
    const record = this.instance.record!;
    if (result.failure !== undefined) this.effects.failed = { orchestration: record.name, failure: result.failure, ...(result.stack === undefined ? {} : { stack: result.stack }) };
    this.actions.releaseHeldLocks();
    record.status = status;
    this.deps.meter?.finished(record.name, status);
    if (result.output !== undefined) record.output = result.output;
    if (result.failure !== undefined) record.failure = result.failure;
    record.inbox = undefined;
    this.instance.executor = undefined;
    this.clearOpenWork();
    this.effects.statusChanged = this.recordChanged = true;
    if (record.parent === undefined) return;
    if (status === "Completed") this.actions.tellParent(record.parent, undefined, result.output);
    else this.actions.tellParent(record.parent, result.failure ?? { errorType: "Terminated", message: `sub-orchestration "${this.instance.id}" was terminated` });
  }

  /** Deletes the execution's open timers and work items; activities it asked for in this very turn are not run either. */
  private clearOpenWork(): void {
    this.ensureIndex();
    const id = this.instance.id;
    const activities = this.effects.activities;
    for (let i = activities.length - 1; i >= 0; i--) if (activities[i]!.instanceId === id) activities.splice(i, 1);
    for (const [timerId, fireAt] of this.instance.openTimers!) this.tick.batch.deleteTimer({ fireAt, instanceId: id, timerId });
    for (const taskId of this.instance.openWork!) this.tick.batch.deleteWorkItem({ instanceId: id, taskId });
    this.instance.openTimers!.clear();
    this.instance.openWork!.clear();
    this.instance.openSubOrchestrations!.clear();
  }

  private clearHistory(record: InstanceRecord): void {
    for (let seq = 0; seq < record.historyLength; seq++) this.tick.batch.deleteHistoryEvent(this.instance.id, seq);
    record.historyLength = 0;
  }

  private appendHistory(events: readonly HistoryEvent[]): void {
    const record = this.instance.record!;
    this.wroteHistory = true;
    for (const event of events) this.tick.batch.putHistoryEvent(this.instance.id, record.historyLength++, event);
    this.recordChanged = true;
  }

  /** What is open in the execution, read from its history the first time it is needed. */
  private ensureIndex(): void {
    if (this.instance.openTimers !== undefined) return;
    this.instance.indexHistory(this.instance.record ? this.deps.readHistory(this.instance.id) : []);
  }
}

/** A random start for a new instance's execution numbers (below 2^40, so ids and keys stay short). */
function randomGeneration(): number {
  return randomInt(1, 2 ** 40);
}

function withInput(input: unknown): { input?: unknown } {
  return input === undefined ? {} : { input };
}

