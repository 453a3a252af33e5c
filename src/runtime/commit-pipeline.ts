import { ErrorCode } from "../../protocol/index.js";
import { createLogger, errorMessage, type Logger } from "../log.js";
import type { EntityStore, MailboxAddress, MailboxMessage, TimerAddress, WriteBatch } from "../storage/index.js";
import { systemClock, type Clock } from "./clock.js";
import type { Outcome } from "./operation-request.js";
import { TimerService } from "./timer-service.js";

/** Handles a fired durable timer (see CommitPipeline.handleTimers). */
export type TimerHandler = (timer: TimerAddress, value: unknown) => void;
/** The kind of timers stored without one: orchestration timers (`{ generation }`). */
export const INSTANCE_TIMER = "instance";

/** The answer every request of a tick gets when its commit failed. */
export const COMMIT_FAILED: Outcome = { kind: "error", code: ErrorCode.internal, message: "the server could not write to its store" };

/** What a participant's turns add to a tick. */
export interface TickContext {
  readonly batch: WriteBatch;
  /** The tick's number (ticks are released in this order). */
  readonly tick: number;
  /** The tick's time on the runtime's clock. */
  readonly nowMs: number;
  /** Appends a message to its target's durable mailbox; it is delivered once this tick is durable. */
  send(message: MailboxMessage): void;
}

/** What to do once a tick's batch is durable, or when it never will be. */
export interface TickRelease {
  /** The batch is durable: answer, publish, start what the turns asked for. */
  release(): void;
  /** The commit failed: answer `internal` and publish nothing. */
  fail(): void;
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
}

export interface CommitPipelineOptions {
  readonly store: EntityStore;
  readonly log?: Logger;
  readonly clock?: Clock;
  /** Called when a commit fails: memory is then ahead of disk, so the host should stop (default: log). */
  readonly onFatal?: (error: unknown) => void;
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

  /** Joins the pipeline (before `start`). */
  join(participant: TickParticipant): void {
    this.participants.push(participant);
  }

  /** Delivers the durable messages that were not yet applied when the process last stopped. */
  start(): void {
    let recovered = 0;
    for (const partition of this.store.localPartitions) {
      for (const [address, message] of this.store.readMailbox(partition)) {
        this.route(address, message);
        recovered++;
      }
    }
    if (recovered > 0) this.log.info("mailbox messages recovered", { count: recovered });
    this.timers.start();
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
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    setImmediate(this.runTick);
  }

  /** Stops taking work, finishes what is queued, and waits until all of it is durable. */
  async close(): Promise<void> {
    // Releases can queue more work (an instance's next execution): settle until none is left.
    for (;;) {
      while (this.tickScheduled || this.participants.some((participant) => participant.busy)) await new Promise((resolve) => setImmediate(resolve));
      await this.gate;
      if (!this.tickScheduled && !this.participants.some((participant) => participant.busy)) break;
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
    if (this.aborted || this.closing) return; // close() finishes what is queued first; only abort() leaves work behind
    const tick = ++this.ticks;
    const batch = this.store.newBatch();
    const sent: MailboxMessage[] = [];
    const context: TickContext = { batch, tick, nowMs: this.clock.now(), send: (message) => void sent.push(message) };
    const releases: TickRelease[] = [];
    try {
      for (const participant of this.participants) {
        const release = participant.runTurns(context);
        if (release) releases.push(release);
      }
    } catch (error) {
      // A bug, not bad input (operations' errors are caught per operation): memory may now be ahead of
      // disk, so the runtime stops taking work, and every request of this tick is answered `internal`.
      this.gate = this.gate.then(() => this.fail(error, releases));
      return;
    }
    const deliveries = sent.map((message): [MailboxAddress, MailboxMessage] => [batch.appendMessage(message), message]);
    const durable = batch.size > 0 ? this.store.commit(batch) : undefined;
    // Handled when the gate reaches it; until then an early failure must not count as unhandled.
    durable?.catch(() => {});
    this.gate = this.gate
      .then(() => durable)
      .then(
        () => (this.failure === undefined ? this.release(releases, deliveries) : this.fail(this.failure, releases)),
        (error: unknown) => this.fail(error, releases),
      );
  };

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
   * A commit failed (or a tick broke): this tick and every later one, built on memory that is ahead
   * of the disk, are answered `internal` and publish nothing; the host is told once, and should stop.
   */
  private fail(error: unknown, releases: TickRelease[]): void {
    const first = this.failure === undefined;
    this.failure ??= error;
    for (const release of releases) release.fail();
    if (!first) return;
    this.log.error("commit failed; taking no more work", { error: errorMessage(error) });
    (this.options.onFatal ?? (() => undefined))(error);
  }
}
