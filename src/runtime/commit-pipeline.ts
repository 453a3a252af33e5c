import { ErrorCode } from "../../protocol/index.js";
import { createLogger, errorMessage, type Logger } from "../log.js";
import { StoreWriteError, type EntityStore, type MailboxAddress, type MailboxMessage, type TimerAddress, type WriteBatch } from "../storage/index.js";
import type { CommitMeter } from "../observability/meters.js";
import { systemClock, type Clock } from "./clock.js";
import type { Outcome } from "./operation-request.js";
import { TimerService } from "./timer-service.js";

/** Handles a fired durable timer (see CommitPipeline.handleTimers). */
export type TimerHandler = (timer: TimerAddress, value: unknown) => void;
/** The kind of timers stored without one: orchestration timers (`{ generation }`). */
export const INSTANCE_TIMER = "instance";

/** The answer every request of a tick gets when the tick broke (a bug: details are in the log). */
export const COMMIT_FAILED: Outcome = { kind: "error", code: ErrorCode.internal, message: "the server could not write to its store" };

/** The answer to each request of a tick whose commit did not reach the disk. */
export function storeUnavailable(error: unknown): Outcome {
  const what = error instanceof StoreWriteError ? error.message : "the server could not write to its store";
  // Cluster mode: an append that got no answer may have landed in its log.
  const applied = error instanceof StoreWriteError && error.fateUnknown ? "It may or may not have been applied" : "Nothing of this request was applied";
  return { kind: "error", code: ErrorCode.store_unavailable, message: `${what}. ${applied}; reads keep working; try again later` };
}

/** What a participant's turns add to a tick. */
export interface TickContext {
  readonly batch: WriteBatch;
  /** The tick's number (ticks are released in this order). */
  readonly tick: number;
  /** The tick's time on the runtime's clock. */
  readonly nowMs: number;
  /**
   * Appends a message to its target's durable mailbox; it is delivered once this tick is durable.
   * `from` is the sending actor's id (in cluster mode, a message leaving its sender's partition goes
   * through that partition's outbox).
   */
  send(message: MailboxMessage, from: string): void;
  /** Adds to the tick's count of entity operations and orchestration turns (the batch-size metric). */
  counted(work: number): void;
}

/** What to do once a tick's batch is durable, or when it never will be. */
export interface TickRelease {
  /** The batch is durable: answer, publish, start what the turns asked for. */
  release(): void;
  /**
   * The commit failed (or the tick broke): answer each request with `outcome`, and publish nothing.
   * With `readsStand` (a commit the store refused, not a broken tick), a read stands when it reads an
   * actor that no refused tick wrote: its state is what the disk holds. With `landed` (cluster mode),
   * the requests of actors for which it says true were applied all the same (their partition's part
   * is durable): they get their own outcomes.
   */
  fail(outcome: Outcome, readsStand?: boolean, landed?: (id: string) => boolean): void;
}

/**
 * A kind of actor that runs turns in the pipeline's ticks: entities, orchestration instances. All
 * participants' turns of a tick go into one batch, one transaction.
 */
export interface TickParticipant {
  /** True while it has queued work (closing waits until none is left). */
  readonly busy: boolean;
  /**
   * Runs the turns of every actor with work into the tick. If it throws (a bug), it must first have
   * answered what it took with COMMIT_FAILED; the pipeline then stops taking work.
   */
  runTurns(tick: TickContext): TickRelease | undefined;
  /** True for the durable messages this participant's actors receive. */
  accepts(message: MailboxMessage): boolean;
  /** A durable message for one of its actors (after the commit that wrote it, or at start). */
  deliver(address: MailboxAddress, message: MailboxMessage): void;
  /** The process is about to end: drop queued work unanswered (a client resends to the next server). */
  dropQueued(): void;
  /**
   * A commit failed, and every tick in flight has settled: what is in memory may be ahead of the disk.
   * Forget every actor's state (the next turn reads it from the store) and every durable message or
   * fired timer taken from the store (the pipeline hands them out again); keep, and queue again, the
   * requests that exist only in memory (from clients, activity results), which nothing has applied.
   */
  reset(): void;
  /** After a reset, once the mailboxes were read again: take back work kept only in the store (activities). */
  resumeAfterReset?(): void;
}

export interface CommitPipelineOptions {
  readonly store: EntityStore;
  readonly log?: Logger;
  readonly clock?: Clock;
  /** Called when a tick breaks (a bug): memory may then be ahead of disk, so the host should stop (default: log). */
  readonly onFatal?: (error: unknown) => void;
  /** Where each tick's commit and flush times and batch size go (default: nowhere). */
  readonly meter?: CommitMeter;
}

/**
 * The one commit pipeline of the runtime. Every tick, each participant runs a turn for each of its
 * actors with work, and all the turns of the tick go into one store transaction (group commit). The
 * output gate: answers, messages, changes and effects of a tick are released only after that tick's
 * transaction is durable, in tick order.
 */
export class CommitPipeline {
  readonly store: EntityStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** The durable timers of every participant (orchestration timers, scheduled signals), armed one at a time. */
  readonly timers: TimerService;
  private readonly timerHandlers = new Map<string, TimerHandler>();
  private readonly participants: TickParticipant[] = [];
  private tickScheduled = false;
  private ticks = 0;
  private gate: Promise<void> = Promise.resolve();
  private failure: unknown;
  private closing = false;
  private aborted = false;
  /** Counts failed commits: a tick built before the last one failed is failed too. */
  private epoch = 0;
  /** Set from a failed commit until memory is reset to the store; ticks wait meanwhile. */
  private recovering: Promise<void> | undefined;
  /** When the last failed commit was logged (they are logged at most once a second). */
  private lastFailureLoggedAt = -Infinity;
  /** Set when the partitions this process owns changed during a recovery: it reloads once more. */
  private reassignedAgain = false;
  /** Set by close(): a recovery then drops queued work instead of handing durable work out again. */
  private draining = false;
  /** How long a recovery waits before handing work out again: doubles while commits keep failing (a disk still full), so retries never spin. */
  private retryDelayMs = FIRST_RETRY_DELAY_MS;

  constructor(private readonly options: CommitPipelineOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? createLogger();
    this.timers = new TimerService(this.store, this.clock, (timer, value) => this.fireTimer(timer, value), this.log);
  }

  /**
   * Who handles a fired durable timer of a kind (the `kind` of its stored value): it must delete the
   * timer in the commit that records the firing, then call `timers.settled`.
   */
  handleTimers(kind: string, handler: TimerHandler): void {
    this.timerHandlers.set(kind, handler);
  }

  private fireTimer(timer: TimerAddress, value: unknown): void {
    const kind = (value as { kind?: unknown } | null)?.kind;
    const handler = this.timerHandlers.get(typeof kind === "string" ? kind : INSTANCE_TIMER);
    if (handler) return handler(timer, value);
    this.log.warn("durable timer kept: nothing in this app handles it", { instanceId: timer.instanceId, timerId: timer.timerId, kind });
  }

  /**
   * Joins the pipeline (before `start`). With `first`, its turns run before the others' in every tick,
   * so that the messages it hands them with `deliver` while running its turns are taken in the same tick.
   */
  join(participant: TickParticipant, options: { readonly first?: boolean } = {}): void {
    if (options.first) this.participants.unshift(participant);
    else this.participants.push(participant);
  }

  /**
   * Hands a mailbox message to the participant whose actors receive it. Called by a participant that
   * runs first (see `join`) for a message that its turn of this tick writes to its target's mailbox:
   * the target takes it in this tick, in the same commit (if that commit fails, the participants are
   * reset and the message, which the store then lacks, is not handed out again).
   */
  deliver(address: MailboxAddress, message: MailboxMessage): void {
    this.route(address, message);
  }

  /** Delivers the durable messages that were not yet applied when the process last stopped. */
  start(): void {
    const recovered = this.deliverMailboxes();
    if (recovered > 0) this.log.info("mailbox messages recovered", { count: recovered });
    this.timers.start();
  }

  private deliverMailboxes(): number {
    let count = 0;
    for (const partition of this.store.localPartitions) {
      for (const [address, message] of this.store.readMailbox(partition)) {
        this.route(address, message);
        count++;
      }
    }
    return count;
  }

  /** True once the pipeline takes no more work (closing, aborted, or failed). */
  get stopped(): boolean {
    return this.closing || this.failure !== undefined;
  }

  /** True after `abort`: new work is dropped unanswered. */
  get isAborted(): boolean {
    return this.aborted;
  }

  /** The commit failure that stopped the pipeline, if one did. */
  get failed(): unknown {
    return this.failure;
  }

  /** A participant has work: a tick runs soon (once per event-loop turn at most). */
  scheduleTick(): void {
    if (this.tickScheduled || this.recovering) return; // recovery schedules one when it is done
    this.tickScheduled = true;
    setImmediate(this.runTick);
  }

  /** Stops taking work, finishes what is queued, and waits until all of it is durable. */
  async close(): Promise<void> {
    this.draining = true;
    // Releases can queue more work (an instance's next execution): settle until none is left.
    for (;;) {
      while (this.recovering || this.tickScheduled || this.participants.some((participant) => participant.busy)) {
        await (this.recovering ?? new Promise((resolve) => setImmediate(resolve)));
      }
      await this.gate;
      if (!this.recovering && !this.tickScheduled && !this.participants.some((participant) => participant.busy)) break;
    }
    this.closing = true;
    this.timers.stop();
  }

  /**
   * For a fatal error in the host, which is about to end the process: stops taking work at once;
   * queued work is dropped unanswered (nothing of it was applied); no further tick runs. Resolves once
   * the commits in flight have settled and their answers are released.
   */
  async abort(): Promise<void> {
    this.aborted = this.closing = true;
    this.timers.stop();
    for (const participant of this.participants) participant.dropQueued();
    await this.gate.catch(() => {}); // a broken gate has already been reported; it has settled all the same
  }

  private route(address: MailboxAddress, message: MailboxMessage): void {
    const participant = this.participants.find((candidate) => candidate.accepts(message));
    if (participant) participant.deliver(address, message);
    else this.log.warn("mailbox message kept: nothing in this app receives it", { ...address, target: message.target });
  }

  private readonly runTick = (): void => {
    this.tickScheduled = false;
    if (this.aborted || this.closing || this.recovering) return; // close() finishes what is queued first; only abort() leaves work behind
    const tick = ++this.ticks;
    const epoch = this.epoch;
    const batch = this.store.newBatch();
    const sent: Array<[MailboxMessage, string]> = [];
    let work = 0;
    const context: TickContext = { batch, tick, nowMs: this.clock.now(), send: (message, from) => void sent.push([message, from]), counted: (count) => void (work += count) };
    const releases: TickRelease[] = [];
    try {
      for (const participant of this.participants) {
        const release = participant.runTurns(context);
        if (release) releases.push(release);
      }
    } catch (error) {
      // A bug, not bad input (operations' errors are caught per operation): memory may now be ahead of
      // disk, so the runtime stops taking work, and every request of this tick is answered `internal`.
      this.gate = this.gate.then(() => this.break(error, releases));
      return;
    }
    const deliveries: Array<[MailboxAddress, MailboxMessage]> = [];
    for (const [message, from] of sent) {
      const address = batch.appendMessage(message, from);
      if (!address.outbox) deliveries.push([address, message]); // an outbox's messages are the cluster's to deliver
    }
    const durable = batch.size > 0 ? this.commit(batch, work) : undefined;
    // Handled when the gate reaches it; until then an early failure must not count as unhandled.
    durable?.catch(() => {});
    this.gate = this.gate
      .then(() => durable)
      .then(
        () => {
          if (this.failure !== undefined) return this.break(this.failure, releases);
          // Built on memory that held a failed commit's writes, with nothing to write (say a read): not released.
          // (A tick that did write and whose commit resolved is durable: with one store that cannot follow a
          // failed commit, but with a log per partition, as in a cluster, it can, and its answers stand.)
          if (epoch !== this.epoch && !durable) return failAll(releases, storeUnavailable(undefined), true);
          if (durable) this.retryDelayMs = FIRST_RETRY_DELAY_MS; // the disk takes writes again
          this.release(releases, deliveries);
        },
        (error: unknown) => this.commitFailed(error, epoch, releases),
      );
  };

  /** Hands the batch to the store, timing its commit and its flush (or counting its failure) when there is a meter. */
  private commit(batch: WriteBatch, work: number): Promise<void> {
    const meter = this.options.meter;
    if (meter === undefined) return this.store.commit(batch);
    const asked = performance.now();
    const durable = this.store.commit(batch, () => meter.committed((performance.now() - asked) / 1000));
    durable.then(
      () => {
        meter.flushed((performance.now() - asked) / 1000);
        meter.batch(work);
      },
      () => meter.commitFailed(),
    );
    return durable;
  }

  private release(releases: TickRelease[], deliveries: Array<[MailboxAddress, MailboxMessage]>): void {
    for (const release of releases) {
      try {
        release.release();
      } catch (error) {
        this.log.error("releasing a commit's effects failed", { error: errorMessage(error) });
      }
    }
    for (const [address, message] of deliveries) this.route(address, message);
  }

  /**
   * A tick broke (a bug): this tick and every later one, built on memory that may be ahead of the
   * disk, are answered `internal` and publish nothing; the host is told once, and should stop.
   */
  private break(error: unknown, releases: TickRelease[]): void {
    const first = this.failure === undefined;
    this.failure ??= error;
    failAll(releases, COMMIT_FAILED);
    if (!first) return;
    this.log.error("a tick failed; taking no more work", { error: errorMessage(error) });
    (this.options.onFatal ?? (() => undefined))(error);
  }

  /**
   * A commit did not reach the disk (a full disk, a map that cannot grow). Its requests, and those of
   * every tick built after it (the store refuses their commits too), are answered `store_unavailable`;
   * nothing acknowledged is touched. Then memory is reset to what is on disk, and work goes on: reads
   * are answered, and writes succeed again once there is room.
   */
  private commitFailed(error: unknown, epoch: number, releases: TickRelease[]): void {
    const first = epoch === this.epoch && this.failure === undefined && this.recovering === undefined;
    const partitions = error instanceof StoreWriteError ? error.landed : undefined;
    const landed = partitions && partitions.size > 0 ? (id: string) => partitions.has(this.store.partitionOf(id)) : undefined;
    failAll(releases, storeUnavailable(error), true, landed);
    if (this.recovering !== undefined && epoch === this.epoch && this.failure === undefined) {
      this.reassignedAgain = true; // a recovery (a change of owned partitions) is under way: it resyncs once more
      this.epoch++;
      return;
    }
    if (!first) return; // this failure's recovery is under way (or the pipeline broke)
    this.epoch++;
    const now = Date.now();
    if (now - this.lastFailureLoggedAt >= 1000) {
      this.lastFailureLoggedAt = now;
      this.log.error("a commit failed; its requests were refused, and memory is reset to the store", { error: errorMessage(error) });
    }
    this.recovering = this.recover();
  }

  /**
   * Cluster mode: the partitions this process owns changed (the store's `localPartitions` already
   * says so). Like the recovery from a failed commit, without the failure: once the ticks in flight
   * have settled, every participant reloads from the store, and the durable work of the partitions
   * owned now is handed out. Resolves once that is done.
   */
  reassigned(): Promise<void> {
    if (this.aborted || this.closing) return Promise.resolve();
    if (this.recovering) this.reassignedAgain = true;
    else this.recovering = this.recover(false);
    return this.recovering;
  }

  /**
   * Once every commit in flight has settled, and (after a failure) a delay that grows while commits
   * keep failing: participants forget what the disk lacks, and durable work is handed out again.
   */
  private async recover(afterFailure = true): Promise<void> {
    let settled: Promise<void>;
    do {
      settled = this.gate;
      await settled.catch(() => {});
    } while (settled !== this.gate);
    if (afterFailure) {
      await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs));
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, MAX_RETRY_DELAY_MS);
    }
    if (this.aborted) {
      this.recovering = undefined;
      return;
    }
    if (this.draining) {
      // Closing while the disk refuses writes: what is queued stays unapplied (durable work is in the
      // store for the next start; clients resend what was not acknowledged), so that close() can end.
      for (const participant of this.participants) participant.dropQueued();
      this.recovering = undefined;
      return;
    }
    try {
      do {
        this.reassignedAgain = false;
        await this.store.resync();
      } while (this.reassignedAgain);
      for (const participant of this.participants) participant.reset();
      this.timers.reset();
      this.deliverMailboxes();
      for (const participant of this.participants) participant.resumeAfterReset?.();
    } catch (error) {
      this.recovering = undefined;
      this.break(error, []);
      return;
    }
    this.recovering = undefined;
    if (!this.closing && this.participants.some((participant) => participant.busy)) this.scheduleTick();
  }
}

const FIRST_RETRY_DELAY_MS = 10;
const MAX_RETRY_DELAY_MS = 1000;

function failAll(releases: readonly TickRelease[], outcome: Outcome, readsStand = false, landed?: (id: string) => boolean): void {
  for (const release of releases) release.fail(outcome, readsStand, landed);
}
