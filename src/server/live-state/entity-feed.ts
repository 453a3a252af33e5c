import type { ConnectionSession } from "../connection-session.js";

/** A change as it goes on the wire, encoded once for every subscriber. */
export type EncodedMessage = string | Uint8Array;

/** Where one subscriber stands: waiting for its first snapshot, caught up to a version, or stalled. */
export interface Subscriber {
  readonly session: ConnectionSession;
  /** Last version this subscriber was sent (or will be sent by a pending snapshot). */
  version: number;
  /** The first snapshot has not been sent yet; changes are held back until it is. */
  awaitingSnapshot: boolean;
  /** The connection was not draining; it gets a fresh snapshot when it does. */
  stalled: boolean;
  /** The subscribe request waiting for the snapshot read, if any (answered with `ack` if replaced or cancelled first). */
  pendingRequest?: number;
  /** The subscribe request whose snapshot waits for the connection to drain, if any. */
  deferredRequest?: number;
  /** A catch-up delivery for this subscriber waits in its connection's queue (one at most). */
  queued?: boolean;
}

/** One entity's live state: its subscribers, its last durable state and a bounded ring of encoded changes. */
export class EntityFeed {
  readonly subscribers = new Map<ConnectionSession, Subscriber>();
  /** Last durable state and version seen, once known (from a read or a change). */
  state: unknown = null;
  version = -1;
  /** Encoded changes by version, oldest first, at most `ringSize` of them and `ringBytes` in all. */
  private readonly ring: Array<{ version: number; message: EncodedMessage }> = [];
  private ringBytesHeld = 0;
  /** When the feed lost its last subscriber (it is kept a while for resubscribes), or undefined. */
  idleSince: number | undefined;

  constructor(
    readonly entityId: string,
    private readonly ringSize: number,
    private readonly ringBytes = 1024 * 1024,
  ) {}

  get known(): boolean {
    return this.version >= 0;
  }

  /** Records a durable change; returns false when it is older than what the feed already has. */
  record(version: number, state: unknown, message: EncodedMessage): boolean {
    if (version <= this.version) return false;
    if (this.ring.length > 0 && this.ring[this.ring.length - 1]!.version !== version - 1) this.clearRing();
    this.ring.push({ version, message });
    this.ringBytesHeld += message.length;
    while (this.ring.length > this.ringSize || (this.ringBytesHeld > this.ringBytes && this.ring.length > 0)) {
      this.ringBytesHeld -= this.ring.shift()!.message.length;
    }
    this.state = state;
    this.version = version;
    return true;
  }

  /** Learns the state from a read, when the feed has nothing newer. */
  learn(version: number, state: unknown): void {
    if (version <= this.version) return;
    this.clearRing();
    this.state = state;
    this.version = version;
  }

  /** The encoded changes after `fromVersion` up to now, or undefined when the ring no longer has them all. */
  changesSince(fromVersion: number): EncodedMessage[] | undefined {
    if (!this.known || fromVersion > this.version) return undefined;
    if (fromVersion === this.version) return [];
    const first = this.ring[0];
    if (first === undefined || first.version > fromVersion + 1) return undefined;
    return this.ring.filter((entry) => entry.version > fromVersion).map((entry) => entry.message);
  }

  private clearRing(): void {
    this.ring.length = 0;
    this.ringBytesHeld = 0;
  }
}
