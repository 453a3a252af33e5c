import type { KV } from "nats";
import { partitionLeaseKey } from "./lease-names.js";
import { decodeLease, encodeValue, isPresent, type LeaseValue } from "./lease-values.js";
import { apiErrorCode } from "./log-stream.js";

export interface LeaseHandlers {
  /** The node now holds the lease of `partition` and should open it; it keeps renewing meanwhile. A rejection gives the lease back. */
  acquired(partition: number, epoch: number): Promise<void>;
  /** The node no longer holds the lease (taken over, or not renewed for a lease's length): stop writing the partition now. May come while `acquired` is still running. */
  lost(partition: number): void;
  /** Graceful hand-off: stop writing the partition; once this resolves, the lease is given back for another node to take at once. */
  releasing(partition: number): Promise<void>;
}

export interface HoldingsContext {
  readonly kv: KV;
  readonly node: string;
  readonly leaseMs: number;
  readonly now: () => number;
  readonly handlers: LeaseHandlers;
  warn(message: string, fields: object): void;
  /** A lease opened, or is ready to be given back: worth a round soon. */
  changed(): void;
}

/** opening: acquired() runs; open: it resolved; closing: releasing() runs; closed: to be given back. */
export type LeasePhase = "opening" | "open" | "closing" | "closed";

interface Lease {
  readonly partition: number;
  readonly epoch: number;
  revision: number;
  /** When the last write of this lease that succeeded was sent. */
  renewedAt: number;
  phase: LeasePhase;
}

/**
 * The leases this node holds, and keeping them: renewing each by compare-and-set, noticing when one
 * was not renewed for a lease's length, running `acquired` and `releasing` beside the rounds (never
 * awaited by them, so a slow open does not hold back renewals) and giving leases back.
 */
export class HeldLeases {
  private readonly leases = new Map<number, Lease>();
  /** Partitions whose `acquired` rejected, and when this node may try them again. */
  private readonly retryAt = new Map<number, number>();
  /** After abandon(): no handler is called and nothing changes any more. */
  private silenced = false;

  constructor(private readonly context: HoldingsContext) {}

  get size(): number {
    return this.leases.size;
  }

  phase(partition: number): LeasePhase | undefined {
    return this.leases.get(partition)?.phase;
  }

  /** Partitions this node holds and has not begun to hand off (being opened, or open). */
  holding(): number[] {
    return [...this.leases.values()].filter((lease) => lease.phase === "opening" || lease.phase === "open").map((lease) => lease.partition);
  }

  /** Partitions whose `acquired` resolved and that are not being handed off, ascending. */
  open(): number[] {
    return [...this.leases.values()].filter((lease) => lease.phase === "open").map((lease) => lease.partition).sort((a, b) => a - b);
  }

  /** Not held here, and not recently failed to open here. */
  mayTake(partition: number): boolean {
    return !this.leases.has(partition) && (this.retryAt.get(partition) ?? -Infinity) <= this.context.now();
  }

  silence(): void {
    this.silenced = true;
  }

  /** Records a lease just taken (written at `revision`, sent at `sentAt`) and starts opening it. */
  add(partition: number, epoch: number, revision: number, sentAt: number): void {
    if (this.silenced) return;
    const lease: Lease = { partition, epoch, revision, renewedAt: sentAt, phase: "opening" };
    this.leases.set(partition, lease);
    const current = () => this.leases.get(partition) === lease && !this.silenced;
    Promise.resolve()
      .then(() => this.context.handlers.acquired(partition, epoch))
      .then(
        () => {
          if (!current() || lease.phase !== "opening") return;
          lease.phase = "open";
          this.context.changed();
        },
        (error: unknown) => {
          if (!current()) return;
          this.context.warn("opening a partition failed; giving its lease back", { partition, error: String(error) });
          lease.phase = "closed";
          this.retryAt.set(partition, this.context.now() + this.context.leaseMs);
          this.context.changed();
        },
      );
  }

  /** Starts handing off an open lease: `releasing`, then (next renewal) giving it back. */
  close(partition: number): void {
    const lease = this.leases.get(partition);
    if (!lease || lease.phase !== "open") return;
    lease.phase = "closing";
    const closed = () => {
      if (this.leases.get(partition) !== lease || lease.phase !== "closing" || this.silenced) return;
      lease.phase = "closed";
      this.context.changed();
    };
    Promise.resolve()
      .then(() => this.context.handlers.releasing(partition))
      .then(closed, (error: unknown) => {
        this.context.warn("releasing a partition failed; giving its lease back all the same", { partition, error: String(error) });
        closed();
      });
  }

  /** Renews every lease by compare-and-set, and gives back the closed ones. */
  async renewAll(): Promise<void> {
    this.expireUnrenewed();
    await Promise.all([...this.leases.values()].map((lease) => this.renew(lease)));
  }

  /** Drops every lease not renewed for `leaseMs`, calling `lost` for those not already handed off. */
  expireUnrenewed(): void {
    for (const lease of [...this.leases.values()]) this.expire(lease);
  }

  private async renew(lease: Lease): Promise<void> {
    if (this.silenced || this.expire(lease)) return;
    const { kv, node } = this.context;
    const key = partitionLeaseKey(lease.partition);
    const giveBack = lease.phase === "closed";
    const value: LeaseValue = giveBack ? { node: null, epoch: lease.epoch, open: false } : { node, epoch: lease.epoch, open: lease.phase === "open" };
    const sentAt = this.context.now();
    try {
      const revision = await kv.update(key, encodeValue(value), lease.revision);
      if (this.leases.get(lease.partition) !== lease || this.silenced) return;
      if (giveBack) this.leases.delete(lease.partition);
      else [lease.revision, lease.renewedAt] = [revision, sentAt];
    } catch (error) {
      if (this.leases.get(lease.partition) !== lease || this.silenced) return;
      if (!isWrongRevision(error)) return this.context.warn("could not renew a partition lease", { partition: lease.partition, error: String(error) });
      if (giveBack) this.leases.delete(lease.partition);
      else await this.recheck(lease);
    }
  }

  /** After a refused renewal: adopts the revision if the key still holds this lease (an earlier renewal landed unseen), else the lease is lost. */
  private async recheck(lease: Lease): Promise<void> {
    const entry = await this.context.kv.get(partitionLeaseKey(lease.partition)).catch(() => undefined);
    if (entry === undefined || this.leases.get(lease.partition) !== lease || this.silenced) return;
    const stored = isPresent(entry) ? decodeLease(entry) : undefined;
    if (entry && stored?.node === this.context.node && stored.epoch === lease.epoch) lease.revision = entry.revision;
    else this.lose(lease);
  }

  private expire(lease: Lease): boolean {
    if (this.silenced || this.context.now() - lease.renewedAt < this.context.leaseMs) return false;
    if (lease.phase === "closed") this.leases.delete(lease.partition);
    else this.lose(lease);
    return true;
  }

  private lose(lease: Lease): void {
    this.leases.delete(lease.partition);
    try {
      this.context.handlers.lost(lease.partition);
    } catch (error) {
      this.context.warn("the lost handler threw", { partition: lease.partition, error: String(error) });
    }
  }
}

/** JetStream's "wrong last sequence": the key was written since the revision the write named. */
export function isWrongRevision(error: unknown): boolean {
  return apiErrorCode(error)?.err_code === WRONG_LAST_SEQUENCE;
}

const WRONG_LAST_SEQUENCE = 10071;
