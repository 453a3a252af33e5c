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
 * The server-wide bound on connection buffers. Each connection has caps of its own, but many
 * connections under their caps can still add up to more memory than the machine has; past the
 * budget, the connections that hold the most are closed first until the total is back under
 * three quarters of it.
 */
export class MemoryBudget {
  private readonly held = new Map<BufferHolder, number>();
  private total = 0;
  private shedTotal = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly maxBytes: number,
    private readonly log: Logger,
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
    const before = this.held.get(holder);
    if (before === bytes || (before === undefined && bytes === 0)) return;
    if (bytes === 0) this.held.delete(holder);
    else this.held.set(holder, bytes);
    this.total += bytes - (before ?? 0);
    if (this.total > this.maxBytes) this.enforce();
    else if (this.timer === undefined && this.held.size > 0) this.timer = setInterval(this.refresh, REFRESH_MS).unref();
  }

  /** The holder is gone (its connection closed). */
  forget(holder: BufferHolder): void {
    const before = this.held.get(holder);
    if (before === undefined) return;
    this.held.delete(holder);
    this.total -= before;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private readonly refresh = (): void => {
    this.total = 0;
    for (const holder of [...this.held.keys()]) {
      const bytes = holder.heldBytes();
      if (bytes === 0) this.held.delete(holder);
      else this.held.set(holder, bytes);
      this.total += bytes;
    }
    if (this.total > this.maxBytes) this.enforce();
    if (this.held.size === 0) this.close();
  };

  /** Closes the largest holders until the total is under three quarters of the budget. */
  private enforce(): void {
    const target = this.maxBytes * 0.75;
    const largest = [...this.held.keys()].map((holder) => [holder, holder.heldBytes()] as const).sort((a, b) => b[1] - a[1]);
    this.total = largest.reduce((sum, [, bytes]) => sum + bytes, 0);
    let shed = 0;
    for (const [holder, bytes] of largest) {
      if (this.total <= target) break;
      this.held.delete(holder);
      this.total -= bytes;
      shed++;
      this.shedTotal++;
      holder.shed();
    }
    if (shed > 0) this.log.warn("connection buffers over the server's memory budget; closed the largest", { connections: shed, budgetBytes: this.maxBytes, heldBytes: this.total });
  }
}
