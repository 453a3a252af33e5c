import type { SignalFailure, SignalMark } from "../storage/index.js";

/** How one entity reads its clients' marks and failures from the store. */
export interface SignalMarkReader {
  mark(clientId: string): SignalMark | undefined;
  failure(clientId: string, seq: number): SignalFailure | undefined;
}

/**
 * One entity's de-duplication memory: per client, the last signal number applied and when, and the
 * signals that failed. A client numbers its signals in order and resends unanswered ones in order, so
 * a signal at or below its client's mark, within the window, ran already: its resend is answered as
 * it was the first time (an ack, or the failure). Marks are read from the store on first use, and what
 * a turn records is written with that turn's state. Memory is a cache over the store: each entry
 * remembers the tick whose commit carries it, and once that commit is durable (`committedThrough`)
 * the entry may go, since the store has it.
 */
export class SignalMarks {
  /** Per client: its mark (null: none stored) and the tick that writes it (0: read from the store). */
  private readonly known = new Map<string, { mark: SignalMark | null; tick: number }>();
  private changed: Map<string, SignalMark> | undefined;
  /** Failures recorded and perhaps not yet durable, by `seq client`, with the tick that writes them. */
  private recentFailures: Map<string, { failure: SignalFailure; tick: number }> | undefined;
  private changedFailures: Array<[clientId: string, seq: number, failure: SignalFailure]> | undefined;

  constructor(
    private readonly read: SignalMarkReader,
    private readonly windowMs: number,
  ) {}

  /** True when this client's signal `seq` ran already (and is still within the window). */
  isDuplicate(clientId: string, seq: number, nowMs: number): boolean {
    let entry = this.known.get(clientId);
    if (entry === undefined) {
      entry = { mark: this.read.mark(clientId) ?? null, tick: 0 };
      this.known.set(clientId, entry);
    }
    const mark = entry.mark;
    return mark !== null && seq <= mark[0] && nowMs - mark[1] <= this.windowMs;
  }

  /** How a signal that ran already failed, or undefined when it succeeded. */
  failureOf(clientId: string, seq: number): SignalFailure | undefined {
    return this.recentFailures?.get(failureKey(clientId, seq))?.failure ?? this.read.failure(clientId, seq);
  }

  record(clientId: string, seq: number, nowMs: number): void {
    const mark: SignalMark = [seq, nowMs];
    this.known.set(clientId, { mark, tick: NOT_YET_WRITTEN });
    (this.changed ??= new Map()).set(clientId, mark);
  }

  recordFailure(clientId: string, seq: number, failure: SignalFailure): void {
    (this.recentFailures ??= new Map()).set(failureKey(clientId, seq), { failure, tick: NOT_YET_WRITTEN });
    (this.changedFailures ??= []).push([clientId, seq, failure]);
  }

  /** The marks changed since the last call, to be written by tick `tick`. */
  takeChanged(tick: number): Map<string, SignalMark> | undefined {
    const changed = this.changed;
    this.changed = undefined;
    for (const clientId of changed?.keys() ?? []) this.known.get(clientId)!.tick = tick;
    return changed;
  }

  /** The failures recorded since the last call, to be written by tick `tick`. */
  takeChangedFailures(tick: number): Array<[clientId: string, seq: number, failure: SignalFailure]> | undefined {
    const changed = this.changedFailures;
    this.changedFailures = undefined;
    for (const [clientId, seq] of changed ?? []) this.recentFailures!.get(failureKey(clientId, seq))!.tick = tick;
    return changed;
  }

  /**
   * Every tick up to `tick` is durable: its failures are read from the store from now on, and its
   * marks too when more than `maxMarks` clients' are held (a hot entity signalled by many clients).
   */
  committedThrough(tick: number, maxMarks: number): void {
    if (this.recentFailures !== undefined) {
      for (const [key, entry] of this.recentFailures) if (entry.tick <= tick) this.recentFailures.delete(key);
      if (this.recentFailures.size === 0) this.recentFailures = undefined;
    }
    if (this.known.size <= maxMarks) return;
    for (const [clientId, entry] of this.known) if (entry.tick <= tick) this.known.delete(clientId);
  }

  /** Clients whose marks are held in memory. */
  get size(): number {
    return this.known.size;
  }

  /** The mark held in memory for a client, if any (the sweep must not delete one that is newer on disk soon). */
  inMemory(clientId: string): SignalMark | null | undefined {
    return this.known.get(clientId)?.mark;
  }
}

/** The tick of an entry recorded by the turn being run (stamped when the tick takes it). */
const NOT_YET_WRITTEN = Number.POSITIVE_INFINITY;

function failureKey(clientId: string, seq: number): string {
  return `${seq} ${clientId}`;
}
