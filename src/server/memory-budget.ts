import type { Logger } from "../log.js";

/** Something that holds connection buffers: unsent answers and updates, and input not yet handled. */
export interface BufferHolder {
  /** Bytes it holds now. */
  heldBytes(): number;
  /** It is over the budget's share and must let go of its buffers (close its connection). */
  shed(): void;
}

/** How often holders are read again while any holds bytes (their buffers drain without telling). */
const REFRESH_MS = 250;

/**
 * A holder whose bytes have not gone down for this long (nor gone from none to some) is not making
 * progress: its peer is not reading, or not reading enough. Those are closed first. A reader that
 * drains a large answer, however slowly, is seen going down at every refresh.
 */
export const STALLED_MS = 1000;

/** What the budget knows of one holder. */
interface Held {
  bytes: number;
  /** When its bytes last went down, or went from none to some. */
  progressAt: number;
}

/**
 * The server-wide bound on connection buffers. Each connection has caps of its own, but many
 * connections under their caps can still add up to more memory than the machine has; past the
 * budget, connections are closed until the total is back under three quarters of it: first those
 * that have made no progress for `STALLED_MS` (largest first), and only then, if that was not
 * enough, those that have (largest first). So idle connections that each hold a little cannot get
 * a reader closed that holds more for a moment.
 */
export class MemoryBudget {
  private readonly held = new Map<BufferHolder, Held>();
  private total = 0;
  private shedTotal = 0;
  private timer: NodeJS.Timeout | undefined;
  private enforcing = false;

  constructor(
    readonly maxBytes: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bytes held by all connections, as last seen. */
  get totalBytes(): number {
    return this.total;
  }

  /** Connections closed so far for the budget. */
  get shedCount(): number {
    return this.shedTotal;
  }

  /** The holder's bytes may have changed: `bytes` is what it holds now. Cheap; call it after sends. */
  note(holder: BufferHolder, bytes: number): void {
    const entry = this.held.get(holder);
    if (entry === undefined) {
      if (bytes === 0) return;
      this.held.set(holder, { bytes, progressAt: this.now() });
      this.total += bytes;
    } else {
      if (entry.bytes === bytes) return;
      this.total += bytes - entry.bytes;
      if (bytes === 0) this.held.delete(holder);
      else {
        if (bytes < entry.bytes) entry.progressAt = this.now();
        entry.bytes = bytes;
      }
    }
    if (this.total > this.maxBytes) this.enforce();
    else if (this.timer === undefined && this.held.size > 0) this.timer = setInterval(this.refresh, REFRESH_MS).unref();
  }

  /** The holder is gone (its connection closed). */
  forget(holder: BufferHolder): void {
    const entry = this.held.get(holder);
    if (entry === undefined) return;
    this.held.delete(holder);
    this.total -= entry.bytes;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads every holder again; returns the time it read them at. */
  private readAll(): number {
    const now = this.now();
    this.total = 0;
    for (const [holder, entry] of this.held) {
      const bytes = holder.heldBytes();
      if (bytes === 0) {
        this.held.delete(holder); // deleting the current entry does not disturb the iteration
        continue;
      }
      if (bytes < entry.bytes) entry.progressAt = now;
      entry.bytes = bytes;
      this.total += bytes;
    }
    return now;
  }

  private readonly refresh = (): void => {
    this.readAll();
    if (this.total > this.maxBytes) this.enforce();
    if (this.held.size === 0) this.close();
  };

  /**
   * Closes holders until the total is under three quarters of the budget: those that made no progress
   * for `STALLED_MS` first, then the others; the largest first within each.
   */
  private enforce(): void {
    if (this.enforcing) return; // a holder closing may note others; the loop under way handles them
    this.enforcing = true;
    try {
      const now = this.readAll();
      const target = this.maxBytes * 0.75;
      const order = [...this.held].map(([holder, entry]) => ({ holder, bytes: entry.bytes, stalled: now - entry.progressAt >= STALLED_MS }));
      order.sort((a, b) => (a.stalled === b.stalled ? b.bytes - a.bytes : a.stalled ? -1 : 1));
      let stalled = 0;
      let draining = 0;
      for (const { holder, stalled: isStalled } of order) {
        if (this.total <= target) break;
        const entry = this.held.get(holder);
        if (entry === undefined) continue; // gone since (closed, or drained while others were shed)
        this.held.delete(holder);
        this.total -= entry.bytes;
        if (isStalled) stalled++;
        else draining++;
        this.shedTotal++;
        holder.shed();
      }
      if (stalled + draining > 0) {
        this.log.warn("connection buffers over the server's memory budget; closed the stalled ones first, then the largest", {
          connections: stalled + draining,
          stalled,
          draining,
          budgetBytes: this.maxBytes,
          heldBytes: this.total,
        });
      }
    } finally {
      this.enforcing = false;
    }
  }
}
