import type { Msg, NatsConnection, Subscription } from "nats";
import { guarded } from "./nats-payloads.js";

/**
 * One NATS subscription per partition this node owns, on a subject of each partition where only its
 * owner listens (forwarded requests, partition queries): made and dropped as partitions come and go.
 * What a handler throws goes to `onError`, never into nats.js (a throw there ends the connection's reader).
 */
export class PartitionSubscriptions {
  private readonly subscriptions = new Map<number, Subscription>();
  private stopped = false;

  constructor(
    private readonly connection: NatsConnection,
    private readonly subjectOf: (partition: number) => string,
    private readonly handle: (partition: number, message: Msg) => void,
    private readonly onError: (partition: number, error: unknown) => void,
  ) {}

  /** Listens on the subjects of exactly these partitions (the ones this node owns now). */
  owned(partitions: readonly number[]): void {
    if (this.stopped) return;
    const wanted = new Set(partitions);
    for (const [partition, subscription] of this.subscriptions) {
      if (wanted.has(partition)) continue;
      subscription.unsubscribe();
      this.subscriptions.delete(partition);
    }
    for (const partition of wanted) {
      if (this.subscriptions.has(partition)) continue;
      const onError = (error: unknown) => this.onError(partition, error);
      const callback = guarded((error: Error | null, message: Msg) => (error ? onError(error) : this.handle(partition, message)), onError);
      this.subscriptions.set(partition, this.connection.subscribe(this.subjectOf(partition), { callback }));
    }
  }

  /** True while this node listens on the partition's subject. */
  isServing(partition: number): boolean {
    return this.subscriptions.has(partition);
  }

  stop(): void {
    this.stopped = true;
    for (const subscription of this.subscriptions.values()) subscription.unsubscribe();
    this.subscriptions.clear();
  }
}
