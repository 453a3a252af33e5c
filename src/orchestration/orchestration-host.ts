import { EntityError, ErrorCode } from "../../protocol/index.js";
import { errorMessage, type Logger } from "../log.js";
import { COMMIT_FAILED, INSTANCE_TIMER, notLocal, type CommitPipeline, type Outcome, type TickContext, type TickParticipant, type TickRelease } from "../runtime/index.js";
import type { EntityStore, MailboxAddress, MailboxMessage, PageCursor, TimerAddress } from "../storage/index.js";
import { ActivityWorker, type ActivityOutcome, type ActivityWork } from "./activity-worker.js";
import type { ActivityDefinition, OrchestrationDefinition } from "./definitions.js";
import type { HistoryEvent } from "./history-events.js";
import { isActive, type InstanceRecord, type InstanceStatus } from "./instance-record.js";
import type { InstanceMessageBody, InstanceRequest } from "./instance-requests.js";
import { InstanceTurn, type InstanceTurnEffects } from "./instance-turn.js";
import { LoadedInstance } from "./loaded-instance.js";
import { DEFAULT_ORCHESTRATION_LIMITS, type OrchestrationLimits } from "./orchestration-limits.js";
import type { OrchestrationMeter } from "../observability/meters.js";
import { TickExecutionCounts } from "../observability/tick-counts.js";

export interface OrchestrationHostOptions {
  readonly pipeline: CommitPipeline;
  readonly orchestrations: Iterable<OrchestrationDefinition>;
  readonly activities: Iterable<ActivityDefinition>;
  /** Most activities running at once (default 100). */
  readonly maxConcurrentActivities?: number;
  /** How long an activity may run before its task fails with `timeout` and its slot is freed (default: no limit). */
  readonly activityTimeoutMs?: number;
  /** Most instances kept in memory (default 10,000); idle ones beyond it are evicted (their next turn replays history). */
  readonly maxCachedInstances?: number;
  readonly limits?: Partial<OrchestrationLimits>;
  readonly log: Logger;
  /** Where executions and activities are counted and timed (default: nowhere). */
  readonly meter?: OrchestrationMeter;
}

/** A committed change of an instance's status (null: purged). */
export interface InstanceChange {
  readonly instanceId: string;
  readonly status: InstanceStatus | null;
}

type ChangeListener = (changes: readonly InstanceChange[]) => void;

/**
 * Orchestration instances as single-writer actors of the commit pipeline. Each instance has a mailbox;
 * in each tick, every instance with work runs one turn (InstanceTurn), and the turns share the tick's
 * transaction with the entities'. What a turn asks for (activities, timers, messages, answers, status
 * changes) happens only after that transaction is durable.
 */
export class OrchestrationHost implements TickParticipant {
  readonly orchestrations: ReadonlyMap<string, OrchestrationDefinition>;
  readonly activities: ReadonlyMap<string, ActivityDefinition>;
  readonly limits: OrchestrationLimits;
  private readonly pipeline: CommitPipeline;
  private readonly log: Logger;
  private readonly instances = new Map<string, LoadedInstance>();
  private readonly maxCachedInstances: number;
  private ready: LoadedInstance[] = [];
  /** Activity results whose commit was refused, to be recorded after the reset (rather than the activity run again). */
  private readonly refusedResults: InstanceRequest[] = [];
  private readonly worker: ActivityWorker;
  private readonly changeListeners = new Set<ChangeListener>();
  private readonly meter: OrchestrationMeter | undefined;
  /** Partitions whose stored instances were looked through for events waiting in their inbox (see wakeWaiting). */
  private looked = new Set<number>();
  /** Instances in memory at the last reset: their stored inbox is looked at again after it. */
  private wereLoaded: string[] = [];
  /** Cluster mode: sends a request for an instance of a partition another node owns (or that forwarded requests are still on their way to) to its owner; false when it is not forwarded. */
  forward: ((request: InstanceRequest) => boolean) | undefined;

  constructor(options: OrchestrationHostOptions) {
    this.pipeline = options.pipeline;
    this.log = options.log;
    this.orchestrations = byName(options.orchestrations, "orchestration");
    this.activities = byName(options.activities, "activity");
    this.limits = { ...DEFAULT_ORCHESTRATION_LIMITS, ...options.limits };
    this.maxCachedInstances = options.maxCachedInstances ?? 10_000;
    this.meter = options.meter;
    this.worker = new ActivityWorker({
      activities: this.activities,
      maxConcurrent: options.maxConcurrentActivities ?? 100,
      maxResultBytes: this.limits.maxPayloadBytes,
      ...(options.activityTimeoutMs === undefined ? {} : { maxDurationMs: options.activityTimeoutMs }),
      complete: (work, outcome) => this.activityDone(work, outcome),
      log: this.log,
      ...(options.meter === undefined ? {} : { meter: options.meter }),
    });
    this.pipeline.handleTimers(INSTANCE_TIMER, (timer, value) => this.timerFired(timer, value));
    this.pipeline.join(this);
  }

  /** Runs the activities still scheduled from before a restart (after the pipeline started). */
  start(): void {
    let recovered = 0;
    for (const partition of this.pipeline.store.localPartitions) {
      for (const [, work] of this.pipeline.store.readWorkItems(partition)) {
        this.worker.enqueue(work as ActivityWork);
        recovered++;
      }
    }
    if (recovered > 0) this.log.info("activities scheduled before the restart run again", { count: recovered });
    this.wakeWaiting();
  }

  /** Stops running activities (the pipeline, and its timers, close on their own). */
  stop(): void {
    this.worker.stop();
  }

  /** An error for a start of an orchestration this app does not define; undefined when fine. */
  check(name: string): EntityError | undefined {
    if (this.orchestrations.has(name)) return undefined;
    const known = [...this.orchestrations.keys()].join(", ") || "none";
    return new EntityError(ErrorCode.unknown_orchestration, `no orchestration "${name}" on this server (it has: ${known})`);
  }

  /** Listens to committed status changes, in commit order. Returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Activities running and waiting. */
  get activityLoad(): { running: number; waiting: number } {
    return this.worker.load;
  }

  /** Adds a request to its instance's mailbox. */
  submit(request: InstanceRequest): void {
    if (this.pipeline.isAborted) return;
    if (this.pipeline.stopped) {
      const outcome: Outcome = this.pipeline.failed !== undefined ? COMMIT_FAILED : { kind: "error", code: ErrorCode.shutting_down, message: "the server is shutting down" };
      request.replyTo?.deliver(request.requestId ?? 0, outcome);
      return;
    }
    const { store } = this.pipeline;
    if (this.forward?.(request)) return;
    if (!store.isLocal(request.instanceId)) {
      request.replyTo?.deliver(request.requestId ?? 0, notLocal(request.instanceId, store.partitionOf(request.instanceId)));
      return;
    }
    const instance = this.load(request.instanceId);
    instance.mailbox.push(request);
    this.schedule(instance);
  }

  /**
   * Whether an execution is still going (running or suspended): an entity it locked stays locked
   * for it. A lock held by one that ended (completed, failed, terminated, purged, continued as new)
   * is freed by the entity when anything else waits for it.
   */
  isRunning(holder: { instanceId: string; generation: number }): boolean {
    // Cluster mode: another node runs it, and this node's copy of its partition may be old; the lock stays until released.
    if (!this.pipeline.store.isLocal(holder.instanceId)) return true;
    const record = this.instances.get(holder.instanceId)?.record ?? (this.pipeline.store.readInstance(holder.instanceId) as InstanceRecord | undefined);
    return record !== undefined && isActive(record.status) && record.generation === holder.generation;
  }

  /** The store, for listings of committed instances. */
  get store(): EntityStore {
    return this.pipeline.store;
  }

  get busy(): boolean {
    return this.ready.length > 0;
  }

  dropQueued(): void {
    for (const instance of this.ready.splice(0)) {
      instance.scheduled = false;
      instance.mailbox = [];
    }
    this.stop();
  }

  /**
   * After a failed commit (see TickParticipant.reset): every instance leaves memory (the next turn
   * replays its history from the store); requests from durable messages and fired timers are dropped,
   * since the pipeline hands those out again; requests from clients and activity results are kept.
   */
  reset(): void {
    const kept: InstanceRequest[] = [];
    for (const instance of this.instances.values()) {
      for (const request of instance.mailbox) if (!fromStore(request)) kept.push(request);
    }
    kept.push(...this.refusedResults.splice(0));
    this.wereLoaded = [...this.instances.keys()];
    this.instances.clear();
    this.ready = [];
    for (const request of kept) this.submit(request);
  }

  /** After a reset: activities whose results a failed commit lost run again (those running, or with a result waiting, do not). */
  resumeAfterReset(): void {
    for (const partition of this.pipeline.store.localPartitions) {
      for (const [, item] of this.pipeline.store.readWorkItems(partition)) {
        const work = item as ActivityWork;
        const answered = this.instances.get(work.instanceId)?.mailbox.some((request) => "workItem" in request && request.workItem?.taskId === work.taskId) ?? false;
        if (!answered && !this.worker.has(work)) this.worker.enqueue(work);
      }
    }
    this.wakeWaiting();
  }

  /** Cluster mode: a partition is no longer this node's (lost or handed over); its instances are looked through again if it comes back. */
  partitionLeft(partition: number): void {
    this.looked.delete(partition);
  }

  /**
   * Schedules the running instances whose record holds events not run yet (the inbox a continue-as-new
   * or a resume leaves: durable, acknowledged, worked through a bounded number of executions per turn,
   * each turn scheduling the next). Memory forgot that next turn when it was reset (a failed commit, a
   * change of the partitions owned) or the process started: nothing else would run them until a new
   * request came for the instance. Looks at the instances that were in memory, and through every
   * stored instance of the partitions not looked through yet (new here, or taken back after a loss).
   */
  private wakeWaiting(): void {
    const { store } = this.pipeline;
    const local = store.localPartitions;
    const waiting = new Set<string>();
    for (const partition of local) {
      if (this.looked.has(partition)) continue;
      let after: PageCursor | undefined;
      do {
        const page = store.readInstances(partition, 1_000, after);
        for (const [instanceId, record] of page.entries) if (hasWaitingEvents(record as InstanceRecord)) waiting.add(instanceId);
        after = page.next;
      } while (after !== undefined);
    }
    this.looked = new Set(local);
    for (const instanceId of this.wereLoaded.splice(0)) {
      if (waiting.has(instanceId) || !store.isLocal(instanceId)) continue;
      if (hasWaitingEvents(this.instances.get(instanceId)?.record ?? (store.readInstance(instanceId) as InstanceRecord | undefined))) waiting.add(instanceId);
    }
    for (const instanceId of waiting) {
      if (!store.isLocal(instanceId)) continue;
      this.schedule(this.load(instanceId)); // its turn, with an empty mailbox, runs the code over the inbox
    }
  }

  accepts(message: MailboxMessage): boolean {
    return message.kind === "instance";
  }

  deliver(address: MailboxAddress, message: MailboxMessage): void {
    if (message.kind !== "instance") return;
    const body = message.event as InstanceMessageBody;
    if (body.type === "start") {
      this.submit({ kind: "start", instanceId: message.target, name: body.name, input: body.input, parent: body.parent, depth: body.depth, message: address });
    } else if (body.type === "rewind") {
      this.submit({ kind: "rewind", instanceId: message.target, reason: body.reason, parent: body.parent, message: address });
    } else {
      this.submit({ kind: "event", instanceId: message.target, event: body.event, generation: body.generation, message: address });
    }
  }

  runTurns(tick: TickContext): TickRelease | undefined {
    if (this.ready.length === 0) return undefined;
    const instances = this.ready;
    this.ready = [];
    const turns: Array<[LoadedInstance, InstanceTurnEffects]> = [];
    const counts = this.meter && new TickExecutionCounts(this.meter); // counted once the tick is durable
    /** Activity results this tick records: kept if its commit is refused (they exist only in memory). */
    const results: InstanceRequest[] = [];
    const deps = { orchestrations: this.orchestrations, limits: this.limits, readHistory: (id: string, from?: number, limit?: number) => this.pipeline.store.readHistory(id, from, limit) as HistoryEvent[], meter: counts };
    let current = 0;
    try {
      for (; current < instances.length; current++) {
        const instance = instances[current]!;
        instance.scheduled = false;
        if (instance.pendingCommits > 0 && this.needsCommittedHistory(instance)) continue; // its release schedules it again
        const requests = instance.mailbox;
        instance.mailbox = [];
        const effects = new InstanceTurn(instance, tick, deps).run(requests);
        if (effects.leftover) instance.mailbox.unshift(...effects.leftover);
        turns.push([instance, effects]);
        for (const request of requests) if ("workItem" in request && request.workItem !== undefined && !effects.leftover?.includes(request)) results.push(request);
        instance.pendingCommits++;
      }
    } catch (error) {
      // A bug: every request this tick took is answered `internal` (the pipeline then stops).
      for (const [, effects] of turns) for (const [request] of effects.outcomes) request.replyTo?.deliver(request.requestId ?? 0, COMMIT_FAILED);
      for (const instance of instances.slice(current)) for (const request of instance.mailbox.splice(0)) request.replyTo?.deliver(request.requestId ?? 0, COMMIT_FAILED);
      throw error;
    }
    if (turns.length === 0) return undefined;
    tick.counted(turns.length);
    return {
      release: () => {
        counts?.apply();
        this.release(turns);
      },
      fail: (outcome, readsStand, landed) => {
        // A refused commit (not a broken tick): its activity results are recorded after the reset (unless their instance's part landed).
        if (readsStand) this.refusedResults.push(...results.filter((result) => !landed?.(result.instanceId)));
        this.fail(turns, outcome, landed);
      },
    };
  }

  /** Its next turn reads the history from the store (a replay, or a history read), so it must wait for its commits. */
  private needsCommittedHistory(instance: LoadedInstance): boolean {
    const first = instance.mailbox[0];
    if ((first?.kind === "read" && first.history === true) || first?.kind === "rewind") return true;
    return instance.executor === undefined && (instance.record?.historyLength ?? 0) > 0;
  }

  private release(turns: Array<[LoadedInstance, InstanceTurnEffects]>): void {
    const changes: InstanceChange[] = [];
    for (const [instance, effects] of turns) {
      instance.pendingCommits--;
      if (instance.pendingCommits === 0 && instance.mailbox.length > 0) this.schedule(instance); // it waited for this commit
      for (const [request, outcome] of effects.outcomes) request.replyTo?.deliver(request.requestId ?? 0, typeof outcome === "function" ? outcome() : outcome);
      if (effects.failed) this.logFailure(instance.id, effects.failed);
      for (const work of effects.activities) this.worker.enqueue(work);
      for (const fireAt of effects.timersAdded) this.pipeline.timers.added(fireAt);
      if (effects.timersSettled.length > 0) this.pipeline.timers.settled(effects.timersSettled);
      if (effects.status !== undefined) changes.push({ instanceId: instance.id, status: effects.status });
      if (effects.again) this.schedule(instance);
    }
    if (changes.length > 0) this.notifyChanges(changes);
    this.evictIdle();
  }

  /** Cluster mode: committed status changes of instances another node owns, relayed from it, for this node's listeners (watches). */
  relayChanges(changes: readonly InstanceChange[]): void {
    this.notifyChanges(changes);
  }

  private notifyChanges(changes: readonly InstanceChange[]): void {
    for (const listener of this.changeListeners) {
      try {
        listener(changes);
      } catch (error) {
        this.log.error("instance change listener failed", { error: errorMessage(error) });
      }
    }
  }

  /** An execution failed (its code threw, a task's failure went unhandled, a guard rail stopped it): one line, once durable. */
  private logFailure(instanceId: string, failed: NonNullable<InstanceTurnEffects["failed"]>): void {
    const { failure, stack } = failed;
    this.log.warn("orchestration failed", {
      instanceId,
      orchestration: failed.orchestration,
      errorType: failure.errorType,
      error: failure.message,
      ...(failure.taskName === undefined ? {} : { taskName: failure.taskName }),
      ...(stack === undefined ? {} : { stack }),
    });
  }

  private fail(turns: Array<[LoadedInstance, InstanceTurnEffects]>, outcome: Outcome, landed?: (id: string) => boolean): void {
    for (const [instance, effects] of turns) {
      instance.pendingCommits--;
      const applied = landed?.(instance.id) === true; // cluster mode: its partition's part is durable
      for (const [request, own] of effects.outcomes) request.replyTo?.deliver(request.requestId ?? 0, applied ? (typeof own === "function" ? own() : own) : outcome);
    }
  }

  private schedule(instance: LoadedInstance): void {
    if (!instance.scheduled) {
      instance.scheduled = true;
      this.ready.push(instance);
      this.touch(instance);
    }
    this.pipeline.scheduleTick();
  }

  private activityDone(work: ActivityWork, outcome: ActivityOutcome): void {
    const event: HistoryEvent = outcome.ok
      ? { type: "TaskCompleted", timestamp: 0, taskScheduledId: work.taskId, ...(outcome.result === undefined ? {} : { result: outcome.result }) }
      : { type: "TaskFailed", timestamp: 0, taskScheduledId: work.taskId, failure: outcome.failure };
    this.submit({ kind: "event", instanceId: work.instanceId, event, generation: work.generation, workItem: { instanceId: work.instanceId, taskId: work.taskId } });
  }

  private timerFired(timer: TimerAddress, value: unknown): void {
    const generation = (value as { generation?: number } | undefined)?.generation;
    this.submit({ kind: "event", instanceId: timer.instanceId, event: { type: "TimerFired", timestamp: 0, timerId: timer.timerId, fireAt: timer.fireAt }, generation, timer });
  }

  private load(instanceId: string): LoadedInstance {
    const cached = this.instances.get(instanceId);
    if (cached) return cached;
    const instance = new LoadedInstance(instanceId, this.pipeline.store.readInstance(instanceId) as InstanceRecord | undefined);
    this.touch(instance);
    return instance;
  }

  private touch(instance: LoadedInstance): void {
    this.instances.delete(instance.id);
    this.instances.set(instance.id, instance);
  }

  /** Idle instances beyond the cache's size leave memory, oldest first; their next turn replays their history. */
  private evictIdle(): void {
    let excess = this.instances.size - this.maxCachedInstances;
    if (excess <= 0) return;
    for (const instance of this.instances.values()) {
      if (excess <= 0) break;
      if (!instance.idle) continue;
      this.instances.delete(instance.id);
      excess--;
    }
  }
}

/** A running instance with events in its record's inbox, waiting for its next turn. */
function hasWaitingEvents(record: InstanceRecord | undefined): boolean {
  return record !== undefined && record.status === "Running" && (record.inbox?.length ?? 0) > 0;
}

/** True for a request the pipeline hands out again after a reset: from a durable message or a fired timer. */
function fromStore(request: InstanceRequest): boolean {
  return ("message" in request && request.message !== undefined) || ("timer" in request && request.timer !== undefined);
}

function byName<D extends { name: string }>(definitions: Iterable<D>, kind: string): Map<string, D> {
  const map = new Map<string, D>();
  for (const definition of definitions) {
    if (map.has(definition.name)) throw new Error(`${kind} "${definition.name}" is defined twice`);
    map.set(definition.name, definition);
  }
  return map;
}
