import { EntityError, ErrorCode, isEntityError, parseEntityId, type FailurePageWire } from "../../protocol/index.js";
import type { EntityMessage, EntityRecord, EntityStore, MailboxAddress, MailboxMessage, Page, PageCursor, TimerAddress, WriteBatch } from "../storage/index.js";
import { randomInt } from "node:crypto";
import { eventForInstance, LOCK_OP, RELEASE_OP, releasesBefore, type LockHolderCheck } from "./entity-locks.js";
import { COMMIT_FAILED, CommitPipeline, type TickContext, type TickParticipant, type TickRelease } from "./commit-pipeline.js";
import { createLogger, errorMessage, type Logger } from "../log.js";
import type { FailureQuery } from "./dead-letter-book.js";
import type { EntityDefinition } from "./define-entity.js";
import { EntityCache } from "./entity-cache.js";
import { EntityRegistry } from "./entity-registry.js";
import { DEFAULT_MAX_STATE_CHARS, runTurn } from "./entity-turn.js";
import type { FailureLogOptions } from "./failure-log.js";
import { LoadedEntity } from "./loaded-entity.js";
import { OperationFailures } from "./operation-failures.js";
import { SignalMarks } from "./signal-marks.js";
import type { EntityMeter } from "../observability/meters.js";
import { TickOperationCounts } from "../observability/tick-counts.js";
import type { EntityChange, OperationRequest, Outcome } from "./operation-request.js";

export interface EntityRuntimeOptions {
  readonly store: EntityStore;
  readonly entities: Iterable<EntityDefinition>;
  /** The commit pipeline to run in (default: one of its own, over `store`). */
  readonly pipeline?: CommitPipeline;
  /** Most entities kept in memory (default 100,000); idle ones beyond it are evicted. */
  readonly maxCachedEntities?: number;
  /** The most JSON characters an entity's state may take (default 16 MiB); an operation leaving more fails with `state_too_large`. */
  readonly maxStateBytes?: number;
  /** How long a client's signal numbers are remembered per entity for de-duplication (default 24 h). */
  readonly dedupWindowMs?: number;
  /** Failed signals between entities kept per entity type, the newest (default 1,000; 0 keeps none). */
  readonly maxFailuresPerType?: number;
  /** How many failed operations are logged in full per entity type (default 10 per 10 s; the rest are counted). */
  readonly failureLog?: FailureLogOptions;
  readonly log?: Logger;
  /** Called when a commit fails (for a pipeline of its own): memory is then ahead of disk, so the host should stop (default: log). */
  readonly onFatal?: (error: unknown) => void;
  /** Where operations are counted and timed (default: nowhere). */
  readonly meter?: EntityMeter;
}

type ChangeListener = (changes: readonly EntityChange[]) => void;
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
/** Signal marks read (and expired ones queued for deletion) per event-loop turn of a sweep. */
const SWEEP_PAGE_SIZE = 5_000;
/** Quarantined entities remembered (so each is logged once) before the list starts afresh. */
const MAX_QUARANTINE_LOGGED = 10_000;
/** Signal marks one entity keeps in memory past its commits (more are read from the store again). */
const MAX_MARKS_IN_MEMORY = 4_096;

/**
 * The entities of the single-writer runtime. Each entity has a mailbox; every tick of the commit
 * pipeline, each entity with work runs one turn over everything in its mailbox, and all turns of
 * the tick (entities' and orchestrations') go into one store transaction. Answers, signals to other
 * entities and change notifications are released after that transaction is durable.
 */
export class EntityRuntime implements TickParticipant {
  readonly registry: EntityRegistry;
  readonly pipeline: CommitPipeline;
  private readonly store: EntityStore;
  private readonly cache: EntityCache;
  private readonly log: Logger;
  private readonly dedupWindowMs: number;
  private readonly maxStateChars: number;
  private readonly meter: EntityMeter | undefined;
  /** Entities whose record could not be read, logged once each. */
  private readonly quarantined = new Set<string>();
  /** Entities that ticks refused by a failed commit wrote, until memory is reset: reads of the others stand. */
  private readonly refusedWrites = new Set<string>();
  /** Client signals a failed commit refused, with the answer they got: a resend must not be acknowledged as applied. */
  private readonly refusedSignals = new RecentAnswers(MAX_REFUSED_SIGNALS_REMEMBERED);
  private readonly changeListeners = new Set<ChangeListener>();
  /** Failed operations: logged, and kept when they were signals from other entities. */
  private readonly operationFailures: OperationFailures;
  private ready: LoadedEntity[] = [];
  /** Deletes of signal marks and failures past the window, done at the start of the next tick's batch. */
  private expired: Array<(batch: WriteBatch) => void> = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private isHolderActive: LockHolderCheck = () => true;
  /** Messages from orchestrations to entity types this app lacks: deleted, and answered with the error, in the next tick. */
  private bounced: Array<[MailboxAddress, EntityMessage, { errorType: string; message: string }]> = [];
  /** Scheduled signals come due for an entity type or operation this app lacks: moved to the mailbox in the next tick. */
  private parked: Array<[TimerAddress, EntityMessage]> = [];
  /**
   * Cluster mode: sends a request for an entity of a partition another node owns to that node (it
   * answers the request's replyTo), or of an owned partition while requests forwarded earlier are
   * still on their way to it (order is kept); false when the request is not forwarded.
   */
  forward: ((request: OperationRequest) => boolean) | undefined;

  constructor(options: EntityRuntimeOptions) {
    this.store = options.store;
    this.log = options.log ?? createLogger();
    this.pipeline = options.pipeline ?? new CommitPipeline({ store: options.store, log: this.log, onFatal: options.onFatal });
    this.registry = new EntityRegistry(options.entities);
    this.cache = new EntityCache(options.maxCachedEntities ?? 100_000);
    this.dedupWindowMs = options.dedupWindowMs ?? 24 * 60 * 60 * 1000;
    this.maxStateChars = options.maxStateBytes ?? DEFAULT_MAX_STATE_CHARS;
    this.meter = options.meter;
    this.operationFailures = new OperationFailures(options.store, this.log, this.pipeline.clock, { maxPerType: options.maxFailuresPerType, log: options.failureLog });
    this.pipeline.join(this);
    this.pipeline.handleTimers(SIGNAL_TIMER, (timer, value) => this.scheduledSignalFired(timer, value));
  }

  /**
   * Starts the pipeline (its durable messages are delivered, entities' and others') and the hourly
   * sweep of old signal marks.
   */
  start(): void {
    this.pipeline.start();
    const sweep = () =>
      this.sweepSignalMarks().catch((error: unknown) => this.log.error("sweeping old signal marks failed", { error: errorMessage(error) }));
    void sweep();
    this.sweepTimer = setInterval(sweep, SWEEP_INTERVAL_MS).unref();
  }

  /**
   * The error to answer a signal or call with when its entity id, type or operation is not served here
   * (counted as rejected); undefined when it may be submitted.
   */
  checkOperation(entityId: string, operation: string): EntityError | undefined {
    const problem = this.registry.check(entityId, operation);
    if (problem) this.meter?.rejected(entityId, operation);
    return problem;
  }

  /** Adds an operation to its entity's mailbox. Validate first with `checkOperation` (or `registry.check` for a read). */
  submit(request: OperationRequest): void {
    if (this.pipeline.isAborted) return; // the process is about to end: unanswered, a client resends to the next server
    if (this.pipeline.stopped) {
      const outcome: Outcome = this.pipeline.failed !== undefined ? COMMIT_FAILED : { kind: "error", code: ErrorCode.shutting_down, message: "the server is shutting down" };
      request.replyTo?.deliver(request.requestId ?? 0, outcome);
      return;
    }
    if (this.forward?.(request)) return;
    if (!this.store.isLocal(request.entityId)) {
      request.replyTo?.deliver(request.requestId ?? 0, notLocal(request.entityId, this.store.partitionOf(request.entityId)));
      return;
    }
    let entity: LoadedEntity;
    try {
      entity = this.load(request.entityId);
    } catch (error) {
      if (!isEntityError(error)) throw error;
      request.replyTo?.deliver(request.requestId ?? 0, { kind: "error", code: error.code, message: error.message });
      return;
    }
    const refused = request.sender && this.refusedSignals.get(signalKey(request.entityId, request.sender));
    entity.mailbox.push(refused ? { ...request, refused } : request);
    if (!entity.scheduled) {
      entity.scheduled = true;
      this.ready.push(entity);
      this.cache.touch(entity);
    }
    this.pipeline.scheduleTick();
  }

  /**
   * Deletes signal marks and failures older than the de-duplication window (their clients' resends
   * are no longer recognised anyway), in the next ticks' batches, before those ticks' own writes. A
   * mark held newer in memory (its write may still be in flight) is kept. Reads a page at a time and
   * lets the event loop run between pages, so millions of marks never stall the server. Resolves with
   * how many expired; a sweep already running is not started twice.
   */
  async sweepSignalMarks(nowMs = Date.now()): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    try {
      const cutoff = nowMs - this.dedupWindowMs;
      let swept = 0;
      for (const partition of this.store.localPartitions) {
        swept += await this.sweepPages(
          (after) => this.store.readSignalMarks(partition, SWEEP_PAGE_SIZE, after),
          ([entityId, clientId, mark]) => {
            if (mark[1] >= cutoff) return false;
            const held = this.cache.get(entityId)?.marks.inMemory(clientId);
            if (held && held[1] >= cutoff) return false;
            this.expired.push((batch) => batch.deleteSignalMark(entityId, clientId));
            return true;
          },
        );
        swept += await this.sweepPages(
          (after) => this.store.readSignalFailures(partition, SWEEP_PAGE_SIZE, after),
          ([entityId, clientId, seq, failure]) => {
            if (failure[2] >= cutoff) return false;
            this.expired.push((batch) => batch.deleteSignalFailure(entityId, clientId, seq));
            return true;
          },
        );
      }
      return swept;
    } finally {
      this.sweeping = false;
    }
  }

  /** Reads a scan one page per event-loop turn; returns how many entries `expire` took. */
  private async sweepPages<T>(read: (after: PageCursor | undefined) => Page<T>, expire: (entry: T) => boolean): Promise<number> {
    let swept = 0;
    let after: PageCursor | undefined;
    do {
      if (this.pipeline.stopped) return swept;
      const page = read(after);
      for (const entry of page.entries) if (expire(entry)) swept++;
      if (this.expired.length > 0) this.pipeline.scheduleTick();
      after = page.next;
      await new Promise((resolve) => setImmediate(resolve)); // the runtime may be closing when this resumes: checked above
    } while (after !== undefined);
    return swept;
  }

  /** Listens to durable changes (after each commit, in commit order). Returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /**
   * A page of failed signals between entities (committed), newest first, of one entity type or of
   * all: each with its input, its error and its sender. `next` is where the next page starts.
   */
  failures(query: FailureQuery = {}): FailurePageWire {
    return this.operationFailures.list(query);
  }

  /** Operations waiting for a turn: queued for the next tick, or held back while an orchestration has their entity locked. */
  get queuedOperations(): number {
    let queued = 0;
    for (const entity of this.ready) queued += entity.mailbox.length;
    for (const entity of this.cache.values()) queued += entity.waiting.length;
    return queued;
  }

  /** How many entities are in memory now. */
  get cachedEntities(): number {
    return this.cache.size;
  }

  /** How many clients' signal marks an entity holds in memory (0 when it is not in memory). */
  signalMarksInMemory(entityId: string): number {
    return this.cache.get(entityId)?.marks.size ?? 0;
  }

  /** Stops taking work, finishes what is queued, and waits until all of it is durable (the whole pipeline). */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.pipeline.close();
    this.operationFailures.close();
  }

  /** For a fatal error in the host: the pipeline stops at once (see CommitPipeline.abort). */
  async abort(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.pipeline.abort();
    this.operationFailures.close();
  }

  get busy(): boolean {
    return this.ready.length > 0;
  }

  dropQueued(): void {
    for (const entity of this.ready.splice(0)) {
      entity.scheduled = false;
      entity.mailbox = [];
    }
  }

  /**
   * After a failed commit (see TickParticipant.reset): every entity leaves memory (states, locks,
   * signal marks reload from the store); operations from durable messages and fired timers are dropped,
   * since the pipeline hands those out again; operations from clients go back into their mailboxes.
   */
  reset(): void {
    const kept: OperationRequest[] = [];
    for (const entity of this.cache.values()) {
      for (const request of [...entity.waiting, ...entity.mailbox]) {
        if (request.message === undefined && request.timer === undefined) kept.push(request);
      }
    }
    this.cache.clear();
    this.operationFailures.reset();
    this.refusedWrites.clear();
    this.ready = [];
    this.bounced = [];
    this.parked = [];
    this.expired = [];
    for (const request of kept) this.submit(request);
  }

  accepts(message: MailboxMessage): boolean {
    return message.kind === undefined;
  }

  deliver(address: MailboxAddress, message: MailboxMessage): void {
    if (message.kind !== undefined) return;
    // The lock protocol's ops are not the entity's; an orchestration's call to an unknown operation is answered by the turn.
    const checkOp = message.op !== LOCK_OP && message.op !== RELEASE_OP && message.reply === undefined;
    const problem = this.registry.check(message.target, checkOp ? message.op : undefined);
    if (problem) this.meter?.rejected(message.target, message.op);
    if (problem && (message.reply || message.holder)) {
      // From an orchestration, to an entity type this app lacks: its call (or lock) is answered with the error, not left waiting.
      this.bounced.push([address, message, { errorType: problem.code, message: problem.message }]);
      this.pipeline.scheduleTick();
      return;
    }
    if (problem) {
      this.log.warn("mailbox message kept: its entity type or operation is not in this app", { ...address, entityId: message.target, op: message.op });
      return;
    }
    this.submit({ ...requestOf(message), message: address });
  }

  /** Which orchestration executions are running: a lock held by one that is not is freed when someone waits for it. */
  set lockHolderCheck(check: LockHolderCheck) {
    this.isHolderActive = check;
  }

  /** A scheduled signal's timer fired: the signal runs now (the timer goes with its commit). */
  private scheduledSignalFired(timer: TimerAddress, value: unknown): void {
    const message = (value as { message?: EntityMessage } | undefined)?.message;
    if (message === undefined) {
      this.log.warn("scheduled signal kept: its timer holds no message", { ...timer });
      return;
    }
    const { at: _at, ...now } = message;
    if (this.registry.check(message.target, message.op)) {
      // Kept the way a signal from an entity to a type this app lacks is: as a mailbox message (not as a
      // timer held in flight for the life of the process), applied once an app that has it starts.
      this.parked.push([timer, { target: now.target, op: now.op, ...(now.input === undefined ? {} : { input: now.input }), ...(now.source === undefined ? {} : { source: now.source }) }]);
      this.pipeline.scheduleTick();
      return;
    }
    this.submit({ ...requestOf(now), timer });
  }

  private load(id: string): LoadedEntity {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const name = parseEntityId(id)?.name;
    const definition = name === undefined ? undefined : this.registry.definition(name);
    if (definition === undefined) throw new EntityError(ErrorCode.unknown_entity, `no entity type for "${id}"`);
    const marks = new SignalMarks(
      { mark: (clientId) => this.store.readSignalMark(id, clientId), failure: (clientId, seq) => this.store.readSignalFailure(id, clientId, seq) },
      this.dedupWindowMs,
    );
    const entity = new LoadedEntity(id, definition, this.readRecord(id), marks);
    this.cache.touch(entity);
    return entity;
  }

  /**
   * An entity's stored record. One that cannot be decoded (a damaged or foreign value) quarantines that
   * entity: its requests are answered `entity_unavailable` (its mailbox messages stay where they are),
   * it is logged once, and every other entity keeps serving.
   */
  private readRecord(id: string): EntityRecord | undefined {
    let problem: string;
    try {
      const record = this.store.readEntity(id);
      if (record === undefined || (typeof record === "object" && record !== null && Number.isSafeInteger(record.version) && record.version >= 0)) return record;
      problem = "it is not an entity record";
    } catch (error) {
      problem = errorMessage(error);
    }
    if (!this.quarantined.has(id)) {
      if (this.quarantined.size >= MAX_QUARANTINE_LOGGED) this.quarantined.clear();
      this.quarantined.add(id);
      this.log.error("an entity's record cannot be read; the entity is quarantined (the others keep serving)", { entityId: id, problem });
    }
    throw new EntityError(ErrorCode.entity_unavailable, `${id} is unavailable: its stored record cannot be read (${problem}); the other entities are not affected`);
  }

  /** A turn for every entity with work, into the tick's batch; answers and changes are released after the flush. */
  runTurns(tickContext: TickContext): TickRelease | undefined {
    if (this.ready.length === 0 && this.expired.length === 0 && this.bounced.length === 0 && this.parked.length === 0) return undefined;
    const { batch, tick, nowMs } = tickContext;
    for (const [address, message, failure] of this.bounced.splice(0)) {
      batch.deleteMessage(address);
      const to = message.reply ?? message.holder!;
      // A call's answer, a lock request's refusal; a release (to an entity its lock set named) answers nothing.
      const name = message.reply?.event ?? (message.op === LOCK_OP ? message.lock?.grant : undefined);
      if (name !== undefined) tickContext.send(eventForInstance(to, name, { failure }, message.target), message.target);
      for (const release of releasesBefore(message)) tickContext.send(release, message.target);
    }
    const entities = this.ready;
    this.ready = [];
    for (const remove of this.expired.splice(0)) remove(batch);
    const outcomes: Array<[OperationRequest, Outcome]> = [];
    const changes: EntityChange[] = [];
    const firedTimers: TimerAddress[] = [];
    for (const [timer, message] of this.parked.splice(0)) {
      batch.deleteTimer(timer);
      tickContext.send(message, timer.instanceId);
      firedTimers.push(timer);
    }
    const scheduled: number[] = [];
    /** Entities whose record this tick writes: their reads stand or fall with its commit. */
    const written = new Set<string>();
    const counts = this.meter && new TickOperationCounts(this.meter); // counted once the tick is durable
    let current = 0;
    try {
      for (; current < entities.length; current++) {
        const entity = entities[current]!;
        entity.scheduled = false;
        const operations = entity.mailbox;
        entity.mailbox = [];
        const turn = runTurn(entity, operations, this.registry, nowMs, this.isHolderActive, this.maxStateChars, counts?.tallyOf(entity.name));
        for (const outcome of turn.outcomes) outcomes.push(outcome);
        for (const address of turn.consumed) batch.deleteMessage(address);
        for (const timer of turn.firedTimers) batch.deleteTimer(timer);
        for (const timer of turn.firedTimers) firedTimers.push(timer);
        for (const message of turn.outgoing) {
          // A signal for later becomes a timer in its target's partition: written here when the target is
          // this entity, else by the target's own turn when the message reaches it.
          if (message.kind === undefined && message.at !== undefined && message.at > nowMs && message.target === entity.id) scheduled.push(scheduleSignal(batch, message));
          else tickContext.send(message, entity.id);
        }
        for (const version of turn.versions) changes.push({ entityId: entity.id, ...version });
        for (const failure of turn.failures) this.operationFailures.failed(entity.id, entity.name, failure, batch, nowMs);
        if (turn.versions.length > 0 || turn.lockChanged || turn.removed) {
          written.add(entity.id);
          if (!turn.removed) entity.modifiedAt = nowMs;
          const record = entity.toRecord();
          if (record) batch.putEntity(entity.id, record);
          else batch.deleteEntity(entity.id);
        }
        for (const [clientId, mark] of entity.marks.takeChanged(tick) ?? []) batch.putSignalMark(entity.id, clientId, mark);
        for (const [clientId, seq, failure] of entity.marks.takeChangedFailures(tick) ?? []) batch.putSignalFailure(entity.id, clientId, seq, failure);
        entity.pendingCommits++;
      }
    } catch (error) {
      // A bug: every operation this tick took, and those still waiting in its entities, is answered `internal`.
      for (const [request] of outcomes) request.replyTo?.deliver(request.requestId ?? 0, COMMIT_FAILED);
      for (const entity of entities.slice(current)) for (const request of entity.mailbox.splice(0)) request.replyTo?.deliver(request.requestId ?? 0, COMMIT_FAILED);
      throw error;
    }
    tickContext.counted(outcomes.length);
    return {
      release: () => {
        counts?.apply();
        this.release(tick, entities, outcomes, changes);
        for (const fireAt of scheduled) this.pipeline.timers.added(fireAt);
        if (firedTimers.length > 0) this.pipeline.timers.settled(firedTimers);
      },
      fail: (failed, readsStand, landed) => {
        for (const entity of entities) entity.pendingCommits--;
        for (const id of written) if (!landed?.(id)) this.refusedWrites.add(id);
        for (const [request, outcome] of outcomes) {
          const stands = landed?.(request.entityId) === true || (readsStand === true && request.kind === "read" && !this.refusedWrites.has(request.entityId));
          if (!stands && request.sender) this.refusedSignals.remember(signalKey(request.entityId, request.sender), failed);
          request.replyTo?.deliver(request.requestId ?? 0, stands ? outcome : failed);
        }
      },
    };
  }

  /** Cluster mode: durable changes of entities another node owns, relayed from it, for this node's listeners (live state). */
  relayChanges(changes: readonly EntityChange[]): void {
    this.notifyChanges(changes);
  }

  private notifyChanges(changes: readonly EntityChange[]): void {
    for (const listener of this.changeListeners) {
      try {
        listener(changes);
      } catch (error) {
        this.log.error("change listener failed", { error: errorMessage(error) });
      }
    }
  }

  private release(tick: number, entities: LoadedEntity[], outcomes: Array<[OperationRequest, Outcome]>, changes: EntityChange[]): void {
    for (const entity of entities) {
      entity.pendingCommits--;
      entity.marks.committedThrough(tick, MAX_MARKS_IN_MEMORY);
    }
    for (const [request, outcome] of outcomes) request.replyTo?.deliver(request.requestId ?? 0, outcome);
    if (changes.length > 0) this.notifyChanges(changes);
    this.cache.evictIdle();
  }
}

/** How many refused client signals are remembered (the newest), for resends that come after a later signal applied. */
const MAX_REFUSED_SIGNALS_REMEMBERED = 10_000;

function signalKey(entityId: string, sender: { readonly clientId: string; readonly seq: number }): string {
  return `${entityId}\n${sender.clientId}\n${sender.seq}`;
}

/** Answers by key, the newest `capacity` of them (the oldest are forgotten first). */
class RecentAnswers {
  private readonly answers = new Map<string, Outcome>();

  constructor(private readonly capacity: number) {}

  get(key: string): Outcome | undefined {
    return this.answers.get(key);
  }

  remember(key: string, answer: Outcome): void {
    this.answers.delete(key);
    this.answers.set(key, answer);
    if (this.answers.size > this.capacity) this.answers.delete(this.answers.keys().next().value!);
  }
}

/** The answer to a request for an actor of a partition that this node does not own (cluster mode). */
export function notLocal(id: string, partition: number): Outcome {
  return { kind: "error", code: ErrorCode.store_unavailable, message: `${id} is in partition ${partition}, which this node does not own now (it is moving between nodes of the cluster); nothing was applied; try again` };
}

/** The kind of durable timer a scheduled signal is. */
export const SIGNAL_TIMER = "signal";

/** The operation request a durable entity message makes. */
function requestOf(message: EntityMessage): OperationRequest {
  return {
    kind: message.reply ? "call" : "signal",
    entityId: message.target,
    op: message.op,
    ...(message.input === undefined ? {} : { input: message.input }),
    ...(message.source === undefined ? {} : { source: message.source }),
    ...(message.reply ? { reply: message.reply } : {}),
    ...(message.holder ? { holder: message.holder } : {}),
    ...(message.lock ? { lock: message.lock } : {}),
    ...(message.at === undefined ? {} : { at: message.at }),
  };
}

/**
 * Writes a scheduled signal as a durable timer in the target's partition (keyed by a random id, so
 * any number can share a due time); returns when it is due.
 */
export function scheduleSignal(batch: WriteBatch, message: EntityMessage): number {
  const fireAt = Math.ceil(message.at!);
  batch.putTimer({ fireAt, instanceId: message.target, timerId: randomInt(1, 2 ** 47) }, { kind: SIGNAL_TIMER, message });
  return fireAt;
}
