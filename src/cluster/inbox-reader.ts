import type { JetStreamManager, NatsConnection, Subscription } from "nats";
import { errorMessage, type Logger } from "../log.js";
import { decodeBundle, type InboxBundle } from "./inbox-bundle.js";
import type { PartitionLogAddress } from "./log-names.js";
import { apiErrorCode } from "./log-stream.js";

/** How often the inbox is read without a wake-up (a wake-up is a plain NATS message: it can be missed). */
const POLL_MS = 1_000;

/**
 * Reads one owned partition's inbox in order, from a given sequence, handing each bundle on. A core
 * NATS subscription to the inbox subject wakes it when something arrives (JetStream passes each
 * stored message on to plain subscribers too); a poll every second covers a missed wake-up. Reads are
 * direct gets by sequence, as the partition log's are (no consumer to lose in a leader change).
 */
export class InboxReader {
  private next: number;
  private reachedEnd = false;
  private reading = false;
  private readAgain = false;
  private stopped = false;
  private readonly subscription: Subscription;
  private readonly poll: NodeJS.Timeout;

  constructor(
    connection: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly address: PartitionLogAddress,
    fromSequence: number,
    private readonly received: (sequence: number, bundle: InboxBundle | undefined) => void,
    private readonly log: Logger,
  ) {
    this.next = fromSequence;
    this.subscription = connection.subscribe(address.subject, { callback: () => void this.read() });
    this.poll = setInterval(() => void this.read(), POLL_MS);
    void this.read();
  }

  /**
   * True once this reader has read its inbox to the end at least once: everything the inbox held when
   * it was made has been handed on (and, from the position on, everything up to the sequence before
   * `position`).
   */
  get caughtUp(): boolean {
    return this.reachedEnd;
  }

  /** The sequence this reader reads next: every message before it has been handed on. */
  get position(): number {
    return this.next;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.poll);
    this.subscription.unsubscribe();
  }

  private async read(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        while (!this.stopped) {
          const message = await this.getMessage(this.next);
          if (this.stopped) break;
          if (message === undefined) {
            this.reachedEnd = true;
            break;
          }
          this.received(message.seq, decodeBundle(message.data));
          this.next = message.seq + 1;
        }
      } while (this.readAgain && !this.stopped);
    } catch (error) {
      this.log.warn("reading a partition inbox failed; trying again", { stream: this.address.stream, error: errorMessage(error) });
    } finally {
      this.reading = false;
    }
  }

  private async getMessage(sequence: number): Promise<{ seq: number; data: Uint8Array } | undefined> {
    try {
      return await this.jsm.streams.getMessage(this.address.stream, { seq: sequence });
    } catch (error) {
      if (apiErrorCode(error)?.code === 404) return undefined; // nothing there yet, or no stream yet
      throw error;
    }
  }
}
