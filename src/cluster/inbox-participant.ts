import type { JetStreamManager, NatsConnection } from "nats";
import type { TickContext, TickParticipant, TickRelease } from "../runtime/index.js";
import type { LmdbStore, MailboxAddress, MailboxMessage } from "../storage/index.js";
import type { Logger } from "../log.js";
import type { InboxBundle } from "./inbox-bundle.js";
import { InboxReader } from "./inbox-reader.js";
import { partitionInboxAddress } from "./log-names.js";
import type { OutboxCourier } from "./outbox-courier.js";

/** The partition value holding how far its inbox was applied. */
export const INBOX_POSITION = "inbox";
/** The partition value holding the highest outbox number applied from partition `from`. */
const appliedFrom = (from: number): string => `from.${from}`;

/**
 * Moves messages between partitions, in the commit pipeline's ticks. Into owned partitions: bundles
 * read from their inboxes are put in the target's mailbox (delivered once the tick is durable), with
 * the inbox position and, per sending partition, the highest outbox number applied, in the same
 * partition's log entry: so each message is applied once, across failovers and resends. Out of owned
 * partitions: outbox messages that their targets' inboxes hold are deleted.
 *
 * After a reset (a failed commit, or a change of the partitions this node owns) it reads every owned
 * inbox again from its stored position and has every owned outbox sent again.
 */
export class InboxParticipant implements TickParticipant {
  /** Bundles to apply: read from an inbox (at `sequence`), or handed over by this node's courier (`done` says how it went). */
  private received: Array<{ partition: number; sequence?: number; bundle: InboxBundle | undefined; done?: (applied: boolean) => void }> = [];
  private delivered: Array<[partition: number, seqs: readonly number[]]> = [];
  private readonly readers = new Map<number, InboxReader>();
  /** Highest outbox number applied per `<partition>:<from>`, as far as this process wrote it. */
  private watermarks = new Map<string, number>();
  /** Per partition, the highest inbox sequence at which this node's courier published to its inbox. */
  private readonly publishedThrough = new Map<number, number>();
  private scheduleTick: () => void = () => undefined;
  private deliverNow: (address: MailboxAddress, message: MailboxMessage) => void = () => undefined;

  constructor(
    private readonly connection: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly store: LmdbStore,
    private readonly courier: OutboxCourier,
    private readonly hub: string,
    private readonly log: Logger,
  ) {}

  /**
   * Joined to a pipeline, as its first participant: ticks are asked for through it, and the messages a
   * tick puts in mailboxes are handed to their targets through `deliver`, to be taken in the same tick.
   */
  attach(scheduleTick: () => void, deliver: (address: MailboxAddress, message: MailboxMessage) => void): void {
    this.scheduleTick = scheduleTick;
    this.deliverNow = deliver;
  }

  get busy(): boolean {
    return this.received.length > 0 || this.delivered.length > 0;
  }

  /**
   * A bundle from one owned partition's outbox to another's: applied in a tick, without NATS; resolves
   * once durable (false: not applied). Undefined when it must go through the partition's inbox instead:
   * the partition is not this node's, or its inbox may still hold messages of the same sender that are
   * not applied yet (published by this node's courier before the partition was this node's, or by the
   * sender's previous owner). Those must be applied first: a receiver drops what is numbered below the
   * highest number it applied from a sender, so a bundle handed over ahead of them would lose them.
   */
  handOver(partition: number, bundle: InboxBundle): Promise<boolean> | undefined {
    if (!this.store.localPartitions.includes(partition)) return undefined;
    // The reader is made at the reset that follows every change of the partitions owned (so after the
    // sender's partition was taken): once it has read to the end, and past this node's own publishes,
    // the inbox holds nothing from the sender that a hand-over could overtake.
    const reader = this.readers.get(partition);
    if (reader === undefined || !reader.caughtUp || reader.position <= (this.publishedThrough.get(partition) ?? 0)) return undefined;
    return new Promise((resolve) => {
      this.received.push({ partition, bundle, done: resolve });
      this.scheduleTick();
    });
  }

  /** This node's courier published to the inbox of `partition`, where it is stored at `sequence`. */
  published(partition: number, sequence: number): void {
    if (sequence > (this.publishedThrough.get(partition) ?? 0)) this.publishedThrough.set(partition, sequence);
  }

  /** The courier delivered these outbox messages of `partition`. */
  outboxDelivered(partition: number, seqs: readonly number[]): void {
    this.delivered.push([partition, seqs]);
    this.scheduleTick();
  }

  runTurns(tick: TickContext): TickRelease | undefined {
    if (!this.busy) return undefined;
    const owned = new Set(this.store.localPartitions);
    for (const [partition, seqs] of this.delivered.splice(0)) {
      if (!owned.has(partition)) continue; // its next owner sends it again; receivers drop it
      for (const seq of seqs) tick.batch.deleteMessage({ partition, seq, outbox: true });
    }
    let applied = 0;
    const handedOver: Array<(applied: boolean) => void> = [];
    const accepted: Array<[MailboxAddress, MailboxMessage]> = [];
    for (const { partition, sequence, bundle, done } of this.received.splice(0)) {
      if (!owned.has(partition)) {
        done?.(false);
        continue;
      }
      if (done) handedOver.push(done);
      if (sequence !== undefined) tick.batch.putPartitionValue(partition, INBOX_POSITION, sequence);
      if (bundle === undefined || bundle.from === partition || bundle.from >= this.store.partitionCount) {
        this.log.warn("an inbox message that is not a bundle of messages from another partition was skipped", { partition, sequence });
        continue;
      }
      const key = `${partition}:${bundle.from}`;
      let watermark = this.watermarks.get(key) ?? Number(this.store.readPartitionValue(partition, appliedFrom(bundle.from)) ?? 0);
      for (const [outboxSeq, message] of bundle.messages) {
        if (outboxSeq <= watermark) continue; // sent again: applied already
        if (this.store.partitionOf(message.target) !== partition) {
          this.log.warn("an inbox message for another partition was skipped", { partition, sequence, target: message.target });
          continue;
        }
        accepted.push([tick.batch.appendMessage(message as MailboxMessage, message.target), message as MailboxMessage]);
        watermark = outboxSeq;
        applied++;
      }
      this.watermarks.set(key, watermark);
      tick.batch.putPartitionValue(partition, appliedFrom(bundle.from), watermark);
    }
    tick.counted(applied);
    // Taken by their targets in this same tick (this participant runs first), not one commit later: each
    // message's acceptance (mailbox, watermark) and its turn are in one entry of its partition's log.
    // The message is durable in its sender's log already; if this commit fails, it is sent again.
    for (const [address, message] of accepted) this.deliverNow(address, message);
    return {
      release: () => handedOver.forEach((done) => done(true)),
      // (Reads stand, and nothing here is a read: a landed partition's part is in its log, and the courier's round is sent again anyway.)
      fail: () => handedOver.forEach((done) => done(false)),
    };
  }

  accepts(): boolean {
    return false;
  }

  deliver(_address: MailboxAddress, _message: MailboxMessage): void {}

  dropQueued(): void {
    for (const { done } of this.received.splice(0)) done?.(false);
    this.delivered = [];
  }

  /** Reads every owned inbox again from its stored position; sends every owned outbox again. */
  reset(): void {
    this.dropQueued();
    this.watermarks = new Map();
    const owned = new Set(this.store.localPartitions);
    for (const [partition, reader] of this.readers) {
      reader.stop();
      this.readers.delete(partition);
      if (!owned.has(partition)) this.courier.forget(partition);
    }
    for (const partition of owned) {
      const from = Number(this.store.readPartitionValue(partition, INBOX_POSITION) ?? 0) + 1;
      const onReceived = (sequence: number, bundle: InboxBundle | undefined) => {
        this.received.push({ partition, sequence, bundle });
        this.scheduleTick();
      };
      this.readers.set(partition, new InboxReader(this.connection, this.jsm, partitionInboxAddress(this.hub, partition), from, onReceived, this.log));
      this.courier.resend(partition);
    }
  }

  /** Stops reading inboxes (the node is leaving). */
  stop(): void {
    for (const reader of this.readers.values()) reader.stop();
    this.readers.clear();
  }
}
