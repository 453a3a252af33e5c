import type { SignalMark } from "../storage/index.js";

/**
 * One entity's de-duplication memory: per client, the last signal number applied and when. A client
 * numbers its signals in order and resends unacknowledged ones in order, so a signal at or below its
 * client's mark, within the window, was applied already. Marks are read from the store on first use,
 * and the ones a turn changes are written with that turn's state. Memory holds a cache of them: the
 * store has them all, so the runtime clears it when it grows (see `clear`).
 */
export class SignalMarks {
  private readonly known = new Map<string, SignalMark | null>();
  private changed: Map<string, SignalMark> | undefined;

  constructor(
    private readonly read: (clientId: string) => SignalMark | undefined,
    private readonly windowMs: number,
  ) {}

  /** True when this client's signal `seq` was applied already (and is still within the window). */
  isDuplicate(clientId: string, seq: number, nowMs: number): boolean {
    let mark = this.known.get(clientId);
    if (mark === undefined) {
      mark = this.read(clientId) ?? null;
      this.known.set(clientId, mark);
    }
    return mark !== null && seq <= mark[0] && nowMs - mark[1] <= this.windowMs;
  }

  record(clientId: string, seq: number, nowMs: number): void {
    const mark: SignalMark = [seq, nowMs];
    this.known.set(clientId, mark);
    (this.changed ??= new Map()).set(clientId, mark);
  }

  /** The marks changed since the last call (to write with the turn). */
  takeChanged(): Map<string, SignalMark> | undefined {
    const changed = this.changed;
    this.changed = undefined;
    return changed;
  }

  /** Clients whose marks are held in memory. */
  get size(): number {
    return this.known.size;
  }

  /** Forgets every mark held in memory; only safe once all of them are on disk (no commit in flight). */
  clear(): void {
    this.known.clear();
  }

  /** The mark held in memory for a client, if any (the sweep must not delete one that is newer on disk soon). */
  inMemory(clientId: string): SignalMark | null | undefined {
    return this.known.get(clientId);
  }
}
