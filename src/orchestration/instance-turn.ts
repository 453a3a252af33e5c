import { ErrorCode } from "../../protocol/index.js";
import { jsonEqual, type Outcome, type TickContext } from "../runtime/index.js";
import type { TimerAddress } from "../storage/index.js";
import type { OrchestratorAction } from "./actions.js";
import type { ActivityWork } from "./activity-worker.js";
import type { OrchestrationDefinition } from "./definitions.js";
import type { FailureDetails, HistoryEvent } from "./history-events.js";
import { isActive, statusOf, type InstanceRecord } from "./instance-record.js";
import type { ControlRequest, EventRequest, InstanceMessageBody, InstanceRequest, StartRequest } from "./instance-requests.js";
import type { LoadedInstance } from "./loaded-instance.js";
import type { OrchestrationLimits } from "./orchestration-limits.js";
import { ReplayExecutor, type ReplayResult } from "./replay-executor.js";

/** What an instance turn needs besides the instance. */
export interface InstanceTurnDeps {
  readonly orchestrations: ReadonlyMap<string, OrchestrationDefinition>;
  readonly limits: OrchestrationLimits;
  /** The committed history of an instance's current execution. */
  readonly readHistory: (instanceId: string) => HistoryEvent[];
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
}

const ACK: Outcome = { kind: "ack" };
/** Executions one turn may run (each continue-as-new starts one); the rest wait for the next turn. */
const MAX_EXECUTIONS_PER_TURN = 1_000;

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
  private recordChanged = false;

  constructor(
    private readonly instance: LoadedInstance,
    private readonly tick: TickContext,
    private readonly deps: InstanceTurnDeps,
  ) {}

  run(requests: readonly InstanceRequest[]): InstanceTurnEffects {
    for (const request of requests) {
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
    return this.effects;
  }

  private get now(): number {
    return this.tick.nowMs;
  }

  /** Deletes what made a durable request, in this turn's batch (a stale result's work item belongs to a newer task: kept). */
  private consume(request: InstanceRequest): void {
    if (request.kind !== "start" && request.kind !== "event") return;
    if (request.message) this.tick.batch.deleteMessage(request.message);
    const current = request.kind === "event" && request.generation !== undefined && request.generation === this.instance.record?.generation;
    if (request.kind === "event" && request.workItem && current) this.tick.batch.deleteWorkItem(request.workItem);
    if (request.kind === "event" && request.timer) {
      if (current) this.tick.batch.deleteTimer(request.timer);
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
      if (request.parent) this.tellParent(request.parent, { errorType: ErrorCode.instance_exists, message: `an orchestration with id "${this.instance.id}" is already running` });
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
      generation: existing ? existing.generation + 1 : 0,
      historyLength: 0,
      ...(request.parent ? { parent: request.parent } : {}),
      ...(request.sender ? { createdBy: [request.sender.clientId, request.sender.seq] as const } : {}),
    };
    this.instance.record = record;
    this.instance.executor = undefined;
    this.instance.openTimers = new Map();
    this.instance.openWork = new Set();
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
    if (!raised && request.generation !== record.generation) return; // a result for an execution that has ended
    if (!this.isOpen(request.event)) return; // already recorded (a duplicate)
    const event = { ...request.event, timestamp: this.now } as HistoryEvent;
    this.closeTask(event);
    if (record.status === "Suspended") {
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
    return true;
  }

  private closeTask(event: HistoryEvent): void {
    if (event.type === "TaskCompleted" || event.type === "TaskFailed") this.instance.openWork!.delete(event.taskScheduledId);
    else if (event.type === "TimerFired") this.instance.openTimers!.delete(event.timerId);
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

  /**
   * The status at this point of the turn; with the history, read once the turn is durable (earlier
   * turns' events may still be on their way to the store now), up to this point.
   */
  private read(request: InstanceRequest & { kind: "read" }): void {
    const record = this.instance.record;
    if (record === undefined) return this.answer(request, { kind: "result", value: null });
    const status = statusOf(this.instance.id, record);
    if (request.history !== true) return this.answer(request, { kind: "result", value: status });
    const length = record.historyLength;
    const id = this.instance.id;
    this.answer(request, () => ({ kind: "result", value: { ...status, history: this.deps.readHistory(id).slice(0, length) } }));
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
    const definition = this.deps.orchestrations.get(record.name)!;
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
    if (!jsonEqual(record.customStatus, result.customStatus)) {
      record.customStatus = result.customStatus;
      this.effects.statusChanged = true;
    }
    const limits = this.deps.limits;
    const projected = record.historyLength + events.length + result.actions.length + 2; // each action records at most one event
    const refusal =
      result.end === undefined && result.openTasks > limits.maxOpenTasks
        ? `the orchestration has ${result.openTasks} tasks open; the limit is ${limits.maxOpenTasks}`
        : result.end === undefined && projected > limits.maxHistoryEvents
          ? `the history would hold ${projected} events; the limit is ${limits.maxHistoryEvents} (an eternal orchestration should call continueAsNew)`
          : undefined;
    // Past a guard rail the turn's work is not done and not recorded: only the failure is.
    const recorded: HistoryEvent[] = refusal === undefined ? [...events, ...result.actions.flatMap((action) => this.act(action))] : [events[0]!];
    let end = refusal === undefined ? result.end : { status: "Failed" as const, failure: { errorType: ErrorCode.limit_exceeded, message: refusal } };
    if (end?.status === "Completed" && tooLarge(end.output, limits.maxPayloadBytes)) {
      end = { status: "Failed", failure: { errorType: ErrorCode.payload_too_large, message: `the output is larger than ${limits.maxPayloadBytes} bytes of JSON` } };
    }
    if (end?.status === "ContinuedAsNew") return this.continueAsNew(end.input, end.carryOver);
    if (end) recorded.push(end.status === "Completed" ? { type: "ExecutionCompleted", timestamp: this.now, status: "Completed", result: end.output } : { type: "ExecutionCompleted", timestamp: this.now, status: "Failed", failure: end.failure });
    recorded.push({ type: "OrchestratorCompleted", timestamp: this.now });
    this.appendHistory(recorded);
    if (end?.status === "Completed") this.finish("Completed", { output: end.output });
    else if (end?.status === "Failed") this.finish("Failed", { failure: end.failure });
  }

  /** One action: its history event, and what it writes and sends; returns the event to record. */
  private act(action: OrchestratorAction): HistoryEvent[] {
    const id = this.instance.id;
    const record = this.instance.record!;
    const timestamp = this.now;
    switch (action.type) {
      case "ScheduleTask": {
        const work: ActivityWork = { instanceId: id, taskId: action.id, generation: record.generation, name: action.name, input: action.input };
        this.tick.batch.putWorkItem({ instanceId: id, taskId: action.id }, work);
        this.instance.openWork!.add(action.id);
        this.effects.activities.push(work);
        return [{ type: "TaskScheduled", timestamp, eventId: action.id, name: action.name, ...withInput(action.input) }];
      }
      case "CreateTimer": {
        this.tick.batch.putTimer({ fireAt: action.fireAt, instanceId: id, timerId: action.id }, { generation: record.generation });
        this.instance.openTimers!.set(action.id, action.fireAt);
        this.effects.timersAdded.push(action.fireAt);
        return [{ type: "TimerCreated", timestamp, eventId: action.id, fireAt: action.fireAt }];
      }
      case "CancelTimer": {
        const fireAt = this.instance.openTimers!.get(action.id);
        if (fireAt !== undefined) this.tick.batch.deleteTimer({ fireAt, instanceId: id, timerId: action.id });
        this.instance.openTimers!.delete(action.id);
        return [];
      }
      case "CreateSubOrchestration": {
        const body: InstanceMessageBody = { type: "start", name: action.name, ...withInput(action.input), parent: { instanceId: id, taskId: action.id, generation: record.generation }, depth: record.depth + 1 };
        this.tick.send({ kind: "instance", target: action.instanceId, event: body, source: id });
        return [{ type: "SubOrchestrationInstanceCreated", timestamp, eventId: action.id, name: action.name, instanceId: action.instanceId, ...withInput(action.input) }];
      }
      case "SendEvent": {
        const body: InstanceMessageBody = { type: "event", event: { type: "EventRaised", timestamp, name: action.name, ...withInput(action.input) } };
        this.tick.send({ kind: "instance", target: action.instanceId, event: body, source: id });
        return [{ type: "EventSent", timestamp, eventId: action.id, instanceId: action.instanceId, name: action.name, ...withInput(action.input) }];
      }
    }
  }

  /** Ends the execution and starts the next with `input`: a fresh history, run in the next turn. */
  private continueAsNew(input: unknown, carryOver: ReadonlyArray<{ name: string; input?: unknown }>): void {
    const record = this.instance.record!;
    this.clearOpenWork();
    this.clearHistory(record);
    record.generation++;
    record.input = input;
    record.output = undefined;
    record.customStatus = undefined;
    this.instance.executor = undefined;
    this.instance.openTimers = new Map();
    this.instance.openWork = new Set();
    record.inbox = [
      { type: "ExecutionStarted", timestamp: this.now, name: record.name, ...withInput(input), ...(record.parent ? { parentInstanceId: record.parent.instanceId, parentTaskId: record.parent.taskId } : {}), generation: record.generation },
      ...carryOver.map((event): HistoryEvent => ({ type: "EventRaised", timestamp: this.now, name: event.name, ...withInput(event.input) })),
      ...(record.inbox ?? []),
    ];
    this.effects.statusChanged = this.recordChanged = true;
  }

  /** The execution ended: record it, drop its open timers and work items, and tell the parent. */
  private finish(status: "Completed" | "Failed" | "Terminated", result: { output?: unknown; failure?: FailureDetails }): void {
    const record = this.instance.record!;
    record.status = status;
    if (result.output !== undefined) record.output = result.output;
    if (result.failure !== undefined) record.failure = result.failure;
    record.inbox = undefined;
    this.instance.executor = undefined;
    this.clearOpenWork();
    this.effects.statusChanged = this.recordChanged = true;
    if (record.parent === undefined) return;
    if (status === "Completed") this.tellParent(record.parent, undefined, result.output);
    else this.tellParent(record.parent, result.failure ?? { errorType: "Terminated", message: `sub-orchestration "${this.instance.id}" was terminated` });
  }

  private tellParent(parent: { instanceId: string; taskId: number; generation: number }, failure: FailureDetails | undefined, output?: unknown): void {
    const event: HistoryEvent =
      failure === undefined
        ? { type: "SubOrchestrationInstanceCompleted", timestamp: this.now, taskScheduledId: parent.taskId, ...(output === undefined ? {} : { result: output }) }
        : { type: "SubOrchestrationInstanceFailed", timestamp: this.now, taskScheduledId: parent.taskId, failure };
    const body: InstanceMessageBody = { type: "event", event, generation: parent.generation };
    this.tick.send({ kind: "instance", target: parent.instanceId, event: body, source: this.instance.id });
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
  }

  private clearHistory(record: InstanceRecord): void {
    for (let seq = 0; seq < record.historyLength; seq++) this.tick.batch.deleteHistoryEvent(this.instance.id, seq);
    record.historyLength = 0;
  }

  private appendHistory(events: readonly HistoryEvent[]): void {
    const record = this.instance.record!;
    for (const event of events) this.tick.batch.putHistoryEvent(this.instance.id, record.historyLength++, event);
    this.recordChanged = true;
  }

  /** What is open in the execution, read from its history the first time it is needed. */
  private ensureIndex(): void {
    if (this.instance.openTimers !== undefined) return;
    this.instance.indexHistory(this.instance.record ? this.deps.readHistory(this.instance.id) : []);
  }
}

function withInput(input: unknown): { input?: unknown } {
  return input === undefined ? {} : { input };
}

function tooLarge(value: unknown, maxBytes: number): boolean {
  if (value === undefined) return false;
  return (JSON.stringify(value)?.length ?? 0) > maxBytes;
}
