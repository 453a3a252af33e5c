/**
 * The replicated log of one partition of one task hub, on a JetStream stream.
 *
 * How it serves as the output gate: in cluster mode, each tick's write batch for a partition
 * (state puts and deletes, signal marks, history appends, outgoing messages, timers) is encoded as
 * one message and appended here. The append resolves once the stream's leader has stored it and a
 * majority of its replicas hold it; only then does the tick count as durable, so only then are acks,
 * call results and live patches released, and the batch applied to the node's local LMDB, which
 * becomes a materialization of the log in log order rather than the source of truth.
 *
 * Fencing: every append names the batch id it follows (`Nats-Expected-Last-Msg-Id`), or on an empty
 * log expects sequence 0. A node that lost the partition to a new owner, which opened the log and
 * continued from its last entry, names a predecessor that is no longer last, and the stream refuses
 * it: the refusal is the stream's, so it holds even for a node paused past its lease that has not
 * noticed yet. The batch id is also the message id, so a retried append is a duplicate, not a copy.
 * Because the predecessor's id is known before its acknowledgement, several ticks can be in flight.
 *
 * Purging: behind a snapshot (partition-snapshots.ts), never beyond its entry, so the last entry,
 * whose id the next append names, always stays.
 */
import type { JetStreamClient, JetStreamManager, NatsConnection } from "nats";
import { LogFencedError, LogTrimmedError, LogUnavailableError } from "./log-errors.js";
import { partitionLogAddress, type PartitionLogAddress } from "./log-names.js";
import { apiErrorCode, ensureLogStream } from "./log-stream.js";

export interface PartitionLogOptions {
  readonly hub: string;
  readonly partition: number;
  /** Replicas of the stream when this creates it (3 on a three-server cluster). Default 1. */
  readonly replicas?: number;
  /** How long a batch id is remembered for de-duplication. Default 2 minutes (JetStream's). */
  readonly duplicateWindowMs?: number;
  /** How long one append keeps retrying (server lost, leader election) before it gives up. Default 30 s. */
  readonly appendTimeoutMs?: number;
}

export interface LogEntry {
  /** The stream sequence: the entry's position, increasing, with gaps only where entries were purged. */
  readonly sequence: number;
  readonly batchId: string;
  readonly data: Uint8Array;
}

export interface AppendAck {
  readonly sequence: number;
  /** The batch was already in the log (a retry): `sequence` is where it was first appended. */
  readonly duplicate: boolean;
}

/** What an append expects the log to end with: the batch it follows, or sequence 0 on an empty log. */
type Predecessor = { readonly lastMsgID: string } | { readonly lastSequence: 0 };

interface PendingAppend {
  readonly expect: Predecessor;
  /** The append of the batch this one follows, while this writer made it. */
  readonly previous: Promise<AppendAck> | undefined;
}

/** JetStream's "wrong last msg ID" and "wrong last sequence": the log does not end where the writer thought. */
const WRONG_LAST_MSG_ID = 10070;
const WRONG_LAST_SEQUENCE = 10071;
const ATTEMPT_TIMEOUT_MS = 2_000;
const RETRY_DELAY_MS = 100;
/** Direct gets in flight while reading the log. */
const READ_AHEAD = 64;
/** Batch ids this writer remembers, so that a retry names the same predecessor as the first try. */
const REMEMBERED_APPENDS = 4_096;

export class PartitionLog {
  private expectNext: Predecessor;
  private lastAppend: Promise<AppendAck> | undefined;
  private readonly appends = new Map<string, PendingAppend>();
  /** Set once the chain broke: every later append is refused with it. */
  private broken: LogFencedError | LogUnavailableError | undefined;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly address: PartitionLogAddress,
    readonly partition: number,
    private readonly appendTimeoutMs: number,
    end: LogEntry | undefined,
  ) {
    this.expectNext = end ? { lastMsgID: end.batchId } : { lastSequence: 0 };
  }

  /**
   * Opens the partition's log as its writer, creating the stream if missing; appends continue from
   * the entry the log ends with now. Take the partition's lease first: opening is what fences the
   * previous owner out.
   */
  static async open(connection: NatsConnection, options: PartitionLogOptions): Promise<PartitionLog> {
    const address = partitionLogAddress(options.hub, options.partition);
    const jsm = await connection.jetstreamManager();
    await ensureLogStream(jsm, address, { replicas: options.replicas ?? 1, duplicateWindowMs: options.duplicateWindowMs ?? 120_000 });
    const end = await readLastEntry(jsm, address);
    return new PartitionLog(connection.jetstream(), jsm, address, options.partition, options.appendTimeoutMs ?? 30_000, end);
  }

  /**
   * Appends one batch after the last one this writer appended; resolves once the stream's replicas
   * hold it. Call it again without waiting to keep several in flight: they land in call order. The
   * same `batchId` again is a retry: it resolves with the first append's sequence, `duplicate` set.
   * Rejects with LogFencedError when another writer appended meanwhile (nothing of this batch is in
   * the log), or LogUnavailableError when the stream did not answer in time.
   */
  append(batch: Uint8Array, batchId: string): Promise<AppendAck> {
    if (this.broken) return Promise.reject(this.broken);
    const retried = this.appends.get(batchId);
    if (retried) return this.publish(batch, batchId, retried);
    const pending: PendingAppend = { expect: this.expectNext, previous: this.lastAppend };
    this.remember(batchId, pending);
    this.expectNext = { lastMsgID: batchId };
    const append = this.publish(batch, batchId, pending);
    this.lastAppend = append;
    // A caller that drops an append still sees the next one fail; this one must not be unhandled.
    append.catch(() => undefined);
    return append;
  }

  /** True once an append was fenced or got no answer: reopen the log to go on writing. */
  get isBroken(): boolean {
    return this.broken !== undefined;
  }

  /** The entry at `sequence`, undefined when there is none (never written, or purged). */
  async entryAt(sequence: number): Promise<LogEntry | undefined> {
    try {
      const message = await this.jsm.streams.getMessage(this.address.stream, { seq: sequence });
      return { sequence: message.seq, batchId: message.header.get("Nats-Msg-Id") ?? "", data: message.data };
    } catch (error) {
      if (apiErrorCode(error)?.code === 404) return undefined;
      throw error;
    }
  }

  /** The entry the log ends with now, as any node sees it (undefined when it is empty). */
  lastEntry(): Promise<LogEntry | undefined> {
    return readLastEntry(this.jsm, this.address);
  }

  /**
   * The entries from `fromSequence` to the end of the log as it was when reading began, in order.
   * Throws LogTrimmedError when an entry in that range is gone (purged behind a snapshot meanwhile).
   */
  async *read(fromSequence = 1): AsyncGenerator<LogEntry> {
    const end = (await this.jsm.streams.info(this.address.stream)).state.last_seq;
    // Direct gets, each a plain request the stream's current leader answers: unlike a consumer, nothing
    // to create or delete, so a read right after a leader change does not hang on a consumer that the
    // old leader held. READ_AHEAD of them in flight at once, yielded in order.
    const get = (sequence: number) => {
      const got = this.entryAt(sequence).then((entry) => entry ?? new LogTrimmedError(this.partition, sequence));
      got.catch(() => undefined); // abandoned when an earlier one fails or the reader stops: never unhandled
      return got;
    };
    const ahead: Array<Promise<LogEntry | LogTrimmedError>> = [];
    let next = Math.max(1, fromSequence);
    for (;;) {
      while (ahead.length < READ_AHEAD && next <= end) ahead.push(get(next++));
      const entry = await ahead.shift();
      if (entry === undefined) return;
      if (entry instanceof LogTrimmedError) {
        await Promise.allSettled(ahead);
        throw entry;
      }
      yield entry;
    }
  }

  /** Removes the entries before `sequence` (a snapshot covers them); the entry at `sequence` and after stay. */
  async purgeBefore(sequence: number): Promise<void> {
    await this.jsm.streams.purge(this.address.stream, { seq: sequence });
  }

  private async publish(batch: Uint8Array, batchId: string, pending: PendingAppend): Promise<AppendAck> {
    const deadline = Date.now() + this.appendTimeoutMs;
    let waitedForPrevious = false;
    for (;;) {
      try {
        const timeout = Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now()));
        const ack = await this.js.publish(this.address.subject, batch, { msgID: batchId, expect: pending.expect, timeout });
        return { sequence: ack.seq, duplicate: ack.duplicate };
      } catch (error) {
        const api = apiErrorCode(error);
        if (api?.err_code === WRONG_LAST_MSG_ID || api?.err_code === WRONG_LAST_SEQUENCE) {
          // The predecessor may still be on its way (its first try got lost and is being retried):
          // only after it settles does a refusal mean that another writer got in between.
          if (pending.previous && !waitedForPrevious) {
            waitedForPrevious = true;
            await pending.previous.catch(() => undefined);
            if (this.broken) throw this.broken;
            continue;
          }
          throw this.breakChain(new LogFencedError(this.partition, batchId, lastIdNamedIn(api.description)));
        }
        if (api && api.code < 500) throw this.breakChain(new LogUnavailableError(this.partition, batchId, error));
        if (Date.now() >= deadline) throw this.breakChain(new LogUnavailableError(this.partition, batchId, error));
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
  }

  private breakChain(error: LogFencedError | LogUnavailableError): LogFencedError | LogUnavailableError {
    this.broken ??= error;
    return error;
  }

  private remember(batchId: string, pending: PendingAppend): void {
    this.appends.set(batchId, pending);
    if (this.appends.size > REMEMBERED_APPENDS) this.appends.delete(this.appends.keys().next().value!);
  }
}

async function readLastEntry(jsm: JetStreamManager, address: PartitionLogAddress): Promise<LogEntry | undefined> {
  try {
    const message = await jsm.streams.getMessage(address.stream, { last_by_subj: address.subject });
    return { sequence: message.seq, batchId: message.header.get("Nats-Msg-Id"), data: message.data };
  } catch (error) {
    if (apiErrorCode(error)?.code === 404) return undefined;
    throw error;
  }
}

/** "wrong last msg ID: b-7" names the id the log ends with. */
function lastIdNamedIn(description: string): string | undefined {
  const match = /wrong last msg id: (.+)$/i.exec(description);
  return match?.[1];
}
