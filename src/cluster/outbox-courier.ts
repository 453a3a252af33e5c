import type { JetStreamClient, JetStreamManager, NatsConnection } from "nats";
import type { LmdbStore, LoggedWrites, MailboxMessage } from "../storage/index.js";
import { errorMessage, type Logger } from "../log.js";
import { encodeBundle, type InboxBundle } from "./inbox-bundle.js";
import { partitionInboxAddress } from "./log-names.js";
import { ensureLogStream, INBOX_DUPLICATE_WINDOW_MS } from "./log-stream.js";

export interface OutboxCourierOptions {
  readonly hub: string;
  /** Replicas of an inbox stream when this creates it. */
  readonly replicas: number;
  readonly log: Logger;
  /** Messages of a partition's outbox that their targets' inboxes now hold: they may be deleted. */
  readonly delivered: (partition: number, outboxSeqs: readonly number[]) => void;
  /** A bundle was published to the inbox of partition `target`, where it is stored at `sequence`. */
  readonly published?: (target: number, sequence: number) => void;
  /**
   * A bundle for a partition this node owns, handed over without NATS: resolves true once the target's
   * mailbox holds it durably, false when that tick failed (the outbox is sent again after the reset).
   * Undefined when the target is not this node's.
   */
  readonly handOver: (target: number, bundle: InboxBundle) => Promise<boolean> | undefined;
}

/** Messages sent in one round per source partition (one inbox message per target partition). */
const MAX_ROUND = 1_000;
const RETRY_DELAY_MS = 250;
/** A publish to a stream whose replicas are still electing a leader gets no answer (not a refusal): tried again soon. */
const PUBLISH_TIMEOUT_MS = 2_000;

/**
 * Carries each owned partition's outbox to the inboxes of the partitions its messages are for, once
 * the commit that wrote them is in the log. Per source partition, one round at a time and in outbox
 * order, so that a receiver sees a sender's messages in order and can drop, by number, any it has;
 * a round publishes one bundle per target partition. A publish that fails is retried until it lands
 * or this node stops owning the partition (its next owner sends the whole outbox again).
 */
export class OutboxCourier {
  private readonly queues = new Map<number, Array<[number, MailboxMessage]>>();
  private readonly sending = new Set<number>();
  private readonly streamsMade = new Set<number>();
  private stopped = false;

  constructor(
    private readonly connection: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly store: LmdbStore,
    private readonly options: OutboxCourierOptions,
  ) {}

  /** A commit was applied: the messages it put in outboxes go out. */
  applied(parts: readonly LoggedWrites[]): void {
    for (const { partition, writes } of parts) {
      let added = false;
      for (const { key, value } of writes) {
        if (key[1] !== "o" || value === undefined) continue;
        this.queueOf(partition).push([key[2] as number, JSON.parse(value) as MailboxMessage]);
        added = true;
      }
      if (added) void this.drain(partition);
    }
  }

  /** The partition was opened (or reopened): its whole outbox goes out again; receivers drop what they have. */
  resend(partition: number): void {
    this.queues.set(partition, this.store.readOutbox(partition));
    void this.drain(partition);
  }

  /** This node no longer owns the partition: what is queued stays in its outbox for the next owner. */
  forget(partition: number): void {
    this.queues.delete(partition);
  }

  stop(): void {
    this.stopped = true;
    this.queues.clear();
  }

  private queueOf(partition: number): Array<[number, MailboxMessage]> {
    let queue = this.queues.get(partition);
    if (queue === undefined) this.queues.set(partition, (queue = []));
    return queue;
  }

  private async drain(partition: number): Promise<void> {
    if (this.sending.has(partition)) return;
    this.sending.add(partition);
    try {
      for (;;) {
        const queue = this.queues.get(partition);
        if (queue === undefined || queue.length === 0 || this.stopped) return;
        const round = queue.splice(0, MAX_ROUND);
        const byTarget = new Map<number, Array<[number, MailboxMessage]>>();
        for (const entry of round) {
          const target = this.store.partitionOf(entry[1].target);
          let messages = byTarget.get(target);
          if (messages === undefined) byTarget.set(target, (messages = []));
          messages.push(entry);
        }
        // Per target: handed over whole when this node owns it (and may hand over), else published in
        // bundles that fit in a NATS message, one after another (in order); targets at once.
        const sendAll = async ([target, messages]: [number, Array<[number, MailboxMessage]>]) => {
          const handedOver = this.options.handOver(target, { from: partition, messages });
          if (handedOver !== undefined) return handedOver;
          for (const bundle of this.bundles(messages)) {
            if (!(await this.publish(partition, target, bundle))) return false;
          }
          return true;
        };
        const sent = await Promise.all([...byTarget].map(sendAll));
        if (!sent.every(Boolean)) {
          // Not all of the round arrived: later rounds must not overtake it (receivers drop what is
          // numbered below what they applied). The reset that follows sends the whole outbox again;
          // when it already has (the queue is a new one), that queue goes on.
          if (this.queues.get(partition) === queue) this.queues.set(partition, []);
          continue;
        }
        this.options.delivered(partition, round.map(([seq]) => seq));
      }
    } finally {
      this.sending.delete(partition);
    }
  }

  /** Messages split into bundles that each fit in one NATS message (a single larger message stays alone, and fails to publish: logged). */
  private bundles(messages: Array<[number, MailboxMessage]>): Array<Array<[number, MailboxMessage]>> {
    const budget = (this.connection.info?.max_payload ?? 1024 * 1024) - 8 * 1024;
    const bundles: Array<Array<[number, MailboxMessage]>> = [];
    let current: Array<[number, MailboxMessage]> = [];
    let bytes = 0;
    for (const entry of messages) {
      const size = Buffer.byteLength(JSON.stringify(entry[1])) + 24;
      if (current.length > 0 && bytes + size > budget) {
        bundles.push(current);
        current = [];
        bytes = 0;
      }
      current.push(entry);
      bytes += size;
    }
    if (current.length > 0) bundles.push(current);
    return bundles;
  }

  /** Publishes one bundle until it lands; false when the partition stopped being this node's first. */
  private async publish(from: number, target: number, messages: Array<[number, MailboxMessage]>): Promise<boolean> {
    const address = partitionInboxAddress(this.options.hub, target);
    const data = encodeBundle({ from, messages });
    const msgID = `${from}:${messages[0]![0]}-${messages.at(-1)![0]}:${target}`;
    let warned = false;
    for (;;) {
      if (this.stopped || !this.queues.has(from)) return false;
      try {
        if (!this.streamsMade.has(target)) {
          await ensureLogStream(this.jsm, address, { replicas: this.options.replicas, duplicateWindowMs: INBOX_DUPLICATE_WINDOW_MS });
          this.streamsMade.add(target);
        }
        const ack = await this.js.publish(address.subject, data, { msgID, timeout: PUBLISH_TIMEOUT_MS });
        this.options.published?.(target, ack.seq);
        return true;
      } catch (error) {
        if (!warned) this.options.log.warn("sending messages to another partition failed; retrying", { from, to: target, error: errorMessage(error) });
        warned = true;
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
  }
}
