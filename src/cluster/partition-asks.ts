import { randomBytes } from "node:crypto";
import { createInbox, type Msg, type NatsConnection, type Subscription } from "nats";
import { guarded } from "./nats-payloads.js";

/**
 * A question to one partition's owner whose answer may be larger than a NATS message (a listing page
 * with entity states) and may take long (cleaning a partition): asked on the partition's subject, where
 * only its owner listens, and answered on the asker's own inbox as a stream of frames.
 *
 * Each frame is one byte of kind, eight bytes naming the answering stream (several nodes may listen on
 * a subject for a moment while a partition moves; the asker follows the first stream it hears and
 * ignores the others), then the payload:
 * - `D`: a chunk of the answer, more follow;
 * - `E`: the last chunk (possibly empty): the answer is complete;
 * - `K`: still working (sent every second while a long answer is prepared);
 * - `M`: this node does not own the partition (any more): ask again.
 *
 * An asker gives up when its chosen stream (or, before one, any) is silent for `idleMs`: the owner is
 * paused, cut off or overloaded, and the asker says so rather than answer without its part.
 */
const DATA = 0x44; // D
const END = 0x45; // E
const KEEPALIVE = 0x4b; // K
const MOVED = 0x4d; // M
const STREAM_BYTES = 8;
const HEADER_BYTES = 1 + STREAM_BYTES;
/** How often an owner says it is still working on a long answer. */
export const KEEPALIVE_MS = 1_000;
/** Room left in a NATS message for the frame header and the protocol's own bytes. */
const MESSAGE_MARGIN = 1024;

/** What one ask came to. */
export type AskResult =
  | { readonly kind: "answer"; readonly data: Uint8Array }
  /** The node that answered does not own the partition: ask again (it is moving). */
  | { readonly kind: "moved" }
  /** Nobody listens on the partition's subject: it has no owner now (ask again after a moment). */
  | { readonly kind: "no-owner" }
  /** The owner went silent for `idleMs`. */
  | { readonly kind: "timeout" }
  /** The answer passed `maxBytes`. */
  | { readonly kind: "too-large" }
  /** The question could not be sent (the NATS connection is closed or draining). */
  | { readonly kind: "unsent"; readonly reason: string };

export interface AskOptions {
  /** Longest silence of the owner before giving up. */
  readonly idleMs: number;
  /** Largest answer taken (what is received is held in memory until it is complete). */
  readonly maxBytes: number;
  /** After an `M`, how long another node (the partition's new owner) may still start answering. */
  readonly movedGraceMs: number;
}

/** Asks `subject`'s listener; resolves with what came of it, never rejects. */
export function askPartition(connection: NatsConnection, subject: string, payload: Uint8Array, options: AskOptions): Promise<AskResult> {
  return new Promise<AskResult>((resolve) => {
    const chunks: Uint8Array[] = [];
    let received = 0;
    let stream: string | undefined;
    let done = false;
    let idle: NodeJS.Timeout | undefined;
    let moved: NodeJS.Timeout | undefined;
    let subscription: Subscription | undefined;
    const finish = (result: AskResult) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      clearTimeout(moved);
      try {
        subscription?.unsubscribe();
      } catch {
        // the connection closed meanwhile: nothing to unsubscribe from
      }
      resolve(result);
    };
    const waitIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish({ kind: "timeout" }), options.idleMs);
    };
    const frame = (message: Msg) => {
      if (done) return;
      if (message.data.length === 0 && message.headers?.code === 503) return finish({ kind: "no-owner" });
      const data = message.data;
      if (data.length < HEADER_BYTES) return; // not a frame: ignored (the owner's silence decides)
      const kind = data[0];
      const from = Buffer.from(data.subarray(1, HEADER_BYTES)).toString("latin1");
      if (kind === MOVED) {
        if (stream === undefined && moved === undefined) moved = setTimeout(() => finish({ kind: "moved" }), options.movedGraceMs);
        return;
      }
      if (kind !== DATA && kind !== END && kind !== KEEPALIVE) return;
      if (stream === undefined) {
        stream = from;
        clearTimeout(moved);
      }
      if (from !== stream) return; // a second listener of a moving partition: the first one answers
      waitIdle();
      if (kind === KEEPALIVE) return;
      const chunk = data.subarray(HEADER_BYTES);
      received += chunk.length;
      if (received > options.maxBytes) return finish({ kind: "too-large" });
      if (chunk.length > 0) chunks.push(chunk.slice()); // a copy: the message's bytes belong to the connection's reader
      if (kind === END) finish({ kind: "answer", data: concat(chunks, received) });
    };
    try {
      const inbox = createInbox();
      subscription = connection.subscribe(inbox, { callback: guarded((error: Error | null, message: Msg) => (error ? finish({ kind: "unsent", reason: error.message }) : frame(message)), () => undefined) });
      waitIdle();
      connection.publish(subject, payload, { reply: inbox });
    } catch (error) {
      finish({ kind: "unsent", reason: (error as Error).message ?? String(error) });
    }
  });
}

/** The owner's side of one question: its frames, on the asker's inbox. Publishing never throws (a failure is handed to `onError`). */
export class AnswerStream {
  private readonly id = Buffer.from(randomBytes(6).toString("base64url"), "latin1");
  private keepalive: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: NatsConnection,
    private readonly reply: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Says "still working" every second until the answer (or `moved`) is sent. */
  working(): void {
    this.keepalive ??= setInterval(() => this.publish(KEEPALIVE, new Uint8Array(0)), KEEPALIVE_MS);
  }

  moved(): void {
    this.stopKeepalive();
    this.publish(MOVED, new Uint8Array(0));
  }

  /** Sends the answer, in as many frames as NATS's message size requires. */
  answer(data: Uint8Array): void {
    this.stopKeepalive();
    const room = Math.max(1024, (this.connection.info?.max_payload ?? 1024 * 1024) - MESSAGE_MARGIN - HEADER_BYTES);
    let offset = 0;
    while (data.length - offset > room) {
      if (!this.publish(DATA, data.subarray(offset, offset + room))) return;
      offset += room;
    }
    this.publish(END, data.subarray(offset));
  }

  private stopKeepalive(): void {
    clearInterval(this.keepalive);
    this.keepalive = undefined;
  }

  private publish(kind: number, payload: Uint8Array): boolean {
    const frame = new Uint8Array(HEADER_BYTES + payload.length);
    frame[0] = kind;
    frame.set(this.id, 1);
    frame.set(payload, HEADER_BYTES);
    try {
      this.connection.publish(this.reply, frame);
      return true;
    } catch (error) {
      this.stopKeepalive();
      this.onError(error);
      return false;
    }
  }
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const whole = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.length;
  }
  return whole;
}
