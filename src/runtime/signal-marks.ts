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
 * a turn records is written with that turn's state. Memory is a cache over the store: once everything
 * recorded is durable the runtime calls `committed`, which lets go of what the store holds.
 */
export class SignalMarks {
  private readonly known = new Map<string, SignalMark | null>();
  private changed: Map<string, SignalMark> | undefined;
  /** Failures recorded and perhaps not yet durable, by `seq client`; the store has the others. */
  private recentFailures: Map<string, SignalFailure> | undefined;
  private changedFailures: Array<[clientId: string, seq: number, failure: SignalFailure]> | undefined;

  constructor(
    private readonly read: SignalMarkReader,
    private readonly windowMs: number,
  ) {}

  /** True when this client's signal `seq` ran already (and is still within the window). */
  isDuplicate(clientId: string, seq: number, nowMs: number): boolean {
    let mark = this.known.get(clientId);
    if (mark === undefined) {
      mark = this.read.mark(clientId) ?? null;
      this.known.set(clientId, mark);
    }
    return mark !== null && seq <= mark[0] && nowMs - mark[1] <= this.windowMs;
  }

  /** How a signal that ran already failed, or undefined when it succeeded. */
  failureOf(clientId: string, seq: number): SignalFailure | undefined {
    return this.recentFailures?.get(failureKey(clientId, seq)) ?? this.read.failure(clientId, seq);
  }

  record(clientId: string, seq: number, nowMs: number): void {
    const mark: SignalMark = [seq, nowMs];
    this.known.set(clientId, mark);
    (this.changed ??= new Map()).set(clientId, mark);
  }

  recordFailure(clientId: string, seq: number, failure: SignalFailure): void {
    (this.recentFailures ??= new Map()).set(failureKey(clientId, seq), failure);
    (this.changedFailures ??= []).push([clientId, seq, failure]);
  }

  /** The marks changed since the last call (to write with the turn). */
  takeChanged(): Map<string, SignalMark> | undefined {
    const changed = this.changed;
    this.changed = undefined;
    return changed;
  }

  /** The failures recorded since the last call (to write with the turn). */
  takeChangedFailures(): Array<[clientId: string, seq: number, failure: SignalFailure]> | undefined {
    const changed = this.changedFailures;
    this.changedFailures = undefined;
    return changed;
  }

  /**
   * Everything recorded so far is durable: failures are read from the store from now on, and marks
   * too when more than `maxMarks` clients' are held (a hot entity signalled by many clients).
   */
  committed(maxMarks: number): void {
    this.recentFailures = undefined;
    if (this.known.size > maxMarks) this.known.clear();
  }

  /** Clients whose marks are held in memory. */
  get size(): number {
    return this.known.size;
  }

  /** The mark held in memory for a client, if any (the sweep must not delete one that is newer on disk soon). */
  inMemory(clientId: string): SignalMark | null | undefined {
    return this.known.get(clientId);
  }
}

function failureKey(clientId: string, seq: number): string {
  return `${seq} ${clientId}`;
}
