import { EntityError, ErrorCode, parseEntityId } from "../../protocol/index.js";
import type { EntityStore, MailboxAddress, MailboxMessage, Page, PageCursor, WriteBatch } from "../storage/index.js";
import { createLogger, errorMessage, type Logger } from "../log.js";
import type { EntityDefinition } from "./define-entity.js";
import { EntityCache } from "./entity-cache.js";
import { EntityRegistry } from "./entity-registry.js";
import { runTurn } from "./entity-turn.js";
import { LoadedEntity } from "./loaded-entity.js";
import { SignalMarks } from "./signal-marks.js";
import type { EntityChange, OperationRequest, Outcome } from "./operation-request.js";

export interface EntityRuntimeOptions {
  readonly store: EntityStore;
  readonly entities: Iterable<EntityDefinition>;
  /** Most entities kept in memory (default 100,000); idle ones beyond it are evicted. */
  readonly maxCachedEntities?: number;
  /** How long a client's signal numbers are remembered per entity for de-duplication (default 24 h). */
  readonly dedupWindowMs?: number;
  readonly log?: Logger;
  /** Called when a commit fails: memory is then ahead of disk, so the host should stop (default: log). */
  readonly onFatal?: (error: unknown) => void;
}

type ChangeListener = (changes: readonly EntityChange[]) => void;
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
/** Signal marks read (and expired ones queued for deletion) per event-loop turn of a sweep. */
const SWEEP_PAGE_SIZE = 5_000;
/** Signal marks one entity keeps in memory past its commits (more are read from the store again). */
const MAX_MARKS_IN_MEMORY = 4_096;
const FAILED: Outcome = { kind: "error", code: ErrorCode.internal, message: "the server could not write to its store" };

/**
 * The single-writer runtime. Each entity has a mailbox; every tick, each entity with work runs one
 * turn over everything in its mailbox, and all turns of the tick go into one store transaction
 * (group commit). The output gate: answers, signals to other entities and change notifications of a
 * tick are released only after that tick's transaction is durable, in tick order.
 */
export class EntityRuntime {
  readonly registry: EntityRegistry;
  private readonly store: EntityStore;
  private readonly cache: EntityCache;
  private readonly log: Logger;
  private readonly dedupWindowMs: number;
  private readonly changeListeners = new Set<ChangeListener>();
  private ready: LoadedEntity[] = [];
  /** Deletes of signal marks and failures past the window, done at the start of the next tick's batch. */
  private expired: Array<(batch: WriteBatch) => void> = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private tickScheduled = false;
  /** Ticks built so far; the output gate releases them in this order. */
  private ticks = 0;
  private gate: Promise<void> = Promise.resolve();
  private failed: unknown;
  private closing = false;
  private aborted = false;

  constructor(private readonly options: EntityRuntimeOptions) {
    this.store = options.store;
    this.registry = new EntityRegistry(options.entities);
    this.cache = new EntityCache(options.maxCachedEntities ?? 100_000);
    this.log = options.log ?? createLogger();
    this.dedupWindowMs = options.dedupWindowMs ?? 24 * 60 * 60 * 1000;
  }

  /** Queues the messages that were durable but not yet applied when the process last stopped. */
  start(): void {
    let recovered = 0;
    for (const partition of this.store.localPartitions) {
      for (const [address, message] of this.store.readMailbox(partition)) {
        this.deliverMessage(address, message);
        recovered++;
      }
    }
    if (recovered > 0) this.log.info("mailbox messages recovered", { count: recovered });
    const sweep = () =>
      this.sweepSignalMarks().catch((error: unknown) => this.log.error("sweeping old signal marks failed", { error: errorMessage(error) }));
    void sweep();
    this.sweepTimer = setInterval(sweep, SWEEP_INTERVAL_MS).unref();
  }

  /** Adds an operation to its entity's mailbox. Validate first with `registry.check`. */
  submit(request: OperationRequest): void {
    if (this.aborted) return; // the process is about to end: unanswered, a client resends to the next server
    if (this.closing || this.failed !== undefined) {
      const message = "the server is shutting down";
      request.replyTo?.deliver(request.requestId ?? 0, this.failed !== undefined ? FAILED : { kind: "error", code: ErrorCode.shutting_down, message });
      return;
    }
    const entity = this.load(request.entityId);
    entity.mailbox.push(request);
    if (!entity.scheduled) {
      entity.scheduled = true;
      this.ready.push(entity);
      this.cache.touch(entity);
    }
    this.scheduleTick();
  }

  private scheduleTick(): void {
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    setImmediate(() => this.runTick());
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
      if (this.failed !== undefined || this.closing) return swept;
      const page = read(after);
      for (const entry of page.entries) if (expire(entry)) swept++;
      if (this.expired.length > 0) this.scheduleTick();
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

  /** How many entities are in memory now. */
  get cachedEntities(): number {
    return this.cache.size;
  }

  /** How many clients' signal marks an entity holds in memory (0 when it is not in memory). */
  signalMarksInMemory(entityId: string): number {
    return this.cache.get(entityId)?.marks.size ?? 0;
  }

  /** Stops taking work, finishes what is queued, and waits until all of it is durable. */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    while (this.tickScheduled || this.ready.length > 0) await new Promise((resolve) => setImmediate(resolve));
    this.closing = true;
    await this.gate;
  }

  /**
   * For a fatal error in the host, which is about to end the process: stops taking work at once. New
   * requests, and those queued but not yet run, are dropped unanswered (nothing of them was applied;
   * a client resends its signals to the next server, and its calls fail as disconnected); no further
   * tick runs. Resolves once the commits in flight have settled and their answers are released.
   */
  async abort(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.aborted = this.closing = true;
    for (const entity of this.ready.splice(0)) {
      entity.scheduled = false;
      entity.mailbox = [];
    }
    await this.gate.catch(() => {}); // a broken gate has already been reported; it has settled all the same
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
    const entity = new LoadedEntity(id, definition, this.store.readEntity(id), marks);
    this.cache.touch(entity);
    return entity;
  }

  private deliverMessage(address: MailboxAddress, message: MailboxMessage): void {
    const problem = this.registry.check(message.target, message.op);
    if (problem) {
      this.log.warn("mailbox message kept: its entity type or operation is not in this app", { ...address, target: message.target, op: message.op });
      return;
    }
    this.submit({ kind: "signal", entityId: message.target, op: message.op, input: message.input, message: address });
  }

  private runTick(): void {
    this.tickScheduled = false;
    if (this.closing) return; // only after abort(): close() sets closing once no tick is scheduled
    const entities = this.ready;
    this.ready = [];
    const taken: OperationRequest[][] = [];
    try {
      this.commitTurns(entities, taken);
    } catch (error) {
      // A bug, not bad input (operations' errors are caught per operation): memory may now be ahead of
      // disk, so the runtime stops taking work, and every operation of this tick is answered `internal`.
      const operations = [...taken, ...entities.map((entity) => entity.mailbox.splice(0))].flat();
      this.gate = this.gate.then(() => this.fail(error, [], operations.map((request): [OperationRequest, Outcome] => [request, FAILED])));
    }
  }

  /** One tick: a turn for every entity with work, all written in one batch, released after the flush. */
  private commitTurns(entities: LoadedEntity[], taken: OperationRequest[][]): void {
    const nowMs = Date.now();
    const tick = ++this.ticks;
    const batch = this.store.newBatch();
    for (const remove of this.expired.splice(0)) remove(batch);
    const outcomes: Array<[OperationRequest, Outcome]> = [];
    const deliveries: Array<[MailboxAddress, MailboxMessage]> = [];
    const changes: EntityChange[] = [];

    for (const entity of entities) {
      entity.scheduled = false;
      const operations = entity.mailbox;
      entity.mailbox = [];
      taken.push(operations);
      const turn = runTurn(entity, operations, this.registry, nowMs);
      for (const outcome of turn.outcomes) outcomes.push(outcome);
      for (const address of turn.consumed) batch.deleteMessage(address);
      for (const message of turn.outgoing) deliveries.push([batch.appendMessage(message), message]);
      for (const version of turn.versions) changes.push({ entityId: entity.id, ...version });
      if (turn.versions.length > 0) {
        const record = entity.toRecord();
        if (record) batch.putEntity(entity.id, record);
        else batch.deleteEntity(entity.id);
      }
      for (const [clientId, mark] of entity.marks.takeChanged(tick) ?? []) batch.putSignalMark(entity.id, clientId, mark);
      for (const [clientId, seq, failure] of entity.marks.takeChangedFailures(tick) ?? []) batch.putSignalFailure(entity.id, clientId, seq, failure);
      entity.pendingCommits++;
    }

    const durable = batch.size > 0 ? this.store.commit(batch) : undefined;
    // Handled when the gate reaches it; until then an early failure must not count as unhandled.
    durable?.catch(() => {});
    this.gate = this.gate
      .then(() => durable)
      .then(
        () => (this.failed === undefined ? this.release(tick, entities, outcomes, deliveries, changes) : this.fail(this.failed, entities, outcomes)),
        (error: unknown) => this.fail(error, entities, outcomes),
      );
  }

  private release(
    tick: number,
    entities: LoadedEntity[],
    outcomes: Array<[OperationRequest, Outcome]>,
    deliveries: Array<[MailboxAddress, MailboxMessage]>,
    changes: EntityChange[],
  ): void {
    for (const entity of entities) {
      entity.pendingCommits--;
      entity.marks.committedThrough(tick, MAX_MARKS_IN_MEMORY);
    }
    for (const [request, outcome] of outcomes) request.replyTo?.deliver(request.requestId ?? 0, outcome);
    if (changes.length > 0) {
      for (const listener of this.changeListeners) {
        try {
          listener(changes);
        } catch (error) {
          this.log.error("change listener failed", { error: errorMessage(error) });
        }
      }
    }
    for (const [address, message] of deliveries) this.deliverMessage(address, message);
    this.cache.evictIdle();
  }

  /**
   * A commit failed (or a tick broke): this tick and every later one, built on memory that is ahead
   * of the disk, are answered `internal` and publish nothing; the host is told once, and should stop.
   */
  private fail(error: unknown, entities: LoadedEntity[], outcomes: Array<[OperationRequest, Outcome]>): void {
    const first = this.failed === undefined;
    this.failed ??= error;
    for (const entity of entities) entity.pendingCommits--;
    for (const [request] of outcomes) request.replyTo?.deliver(request.requestId ?? 0, FAILED);
    if (!first) return;
    this.log.error("commit failed; taking no more work", { error: errorMessage(error) });
    (this.options.onFatal ?? (() => undefined))(error);
  }
}
