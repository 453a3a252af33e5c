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
    const reader = new FrameReader();
    const chunks: Uint8Array[] = [];
    let received = 0;
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
      const read = reader.read(message.data);
      if (read.kind === "ignored") return; // not a frame, or another listener's (the owner's silence decides)
      if (read.kind === "moved") {
        moved ??= setTimeout(() => finish({ kind: "moved" }), options.movedGraceMs);
        return;
      }
      clearTimeout(moved);
      waitIdle();
      if (read.kind === "keepalive") return;
      received += read.data.length;
      if (received > options.maxBytes) return finish({ kind: "too-large" });
      if (read.data.length > 0) chunks.push(read.data.slice()); // a copy: the message's bytes belong to the connection's reader
      if (read.last) finish({ kind: "answer", data: concat(chunks, received) });
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

/** What one message on an asker's inbox is to the answer it waits for. */
export type FrameRead =
  /** A chunk of the answer (a view of the message's bytes), the last one when `last`. */
  | { readonly kind: "chunk"; readonly data: Uint8Array; readonly last: boolean }
  | { readonly kind: "keepalive" }
  /** The first node to speak says it does not own the partition. */
  | { readonly kind: "moved" }
  /** Not a frame, or a frame of a stream other than the one followed. */
  | { readonly kind: "ignored" };

/** The asker's side of one answer's frames: follows the first stream it hears (see above) and reads its frames. */
export class FrameReader {
  private stream: string | undefined;

  /** True once a stream has spoken (other than to say `moved`): its frames are the answer. */
  get following(): boolean {
    return this.stream !== undefined;
  }

  read(data: Uint8Array): FrameRead {
    if (data.length < HEADER_BYTES) return IGNORED;
    const kind = data[0];
    const from = Buffer.from(data.subarray(1, HEADER_BYTES)).toString("latin1");
    if (kind === MOVED) return this.stream === undefined ? { kind: "moved" } : IGNORED;
    if (kind !== DATA && kind !== END && kind !== KEEPALIVE) return IGNORED;
    this.stream ??= from;
    if (from !== this.stream) return IGNORED; // a second listener of a moving partition: the first one answers
    if (kind === KEEPALIVE) return { kind: "keepalive" };
    return { kind: "chunk", data: data.subarray(HEADER_BYTES), last: kind === END };
  }
}

const IGNORED: FrameRead = { kind: "ignored" };

/**
 * The owner's side of one question: its frames, on the asker's inbox. Publishing never throws (a
 * failure is handed to `onError`, once, and what follows is not sent).
 */
export class AnswerStream {
  private readonly id = Buffer.from(randomBytes(6).toString("base64url"), "latin1");
  private keepalive: NodeJS.Timeout | undefined;
  /** The next data frame, header and payload, filled by write() up to `filled` bytes; sent once full and more follows, or by end(). */
  private pending: Uint8Array | undefined;
  private filled = 0;
  private failed = false;

  constructor(
    private readonly connection: NatsConnection,
    private readonly reply: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Says "still working" every second until the answer (or `moved`) is sent. */
  working(): void {
    this.keepalive ??= setInterval(() => this.publish(KEEPALIVE, new Uint8Array(HEADER_BYTES)), KEEPALIVE_MS);
  }

  moved(): void {
    this.stopKeepalive();
    this.publish(MOVED, new Uint8Array(HEADER_BYTES));
  }

  /** Sends the answer, in as many frames as NATS's message size requires. */
  answer(data: Uint8Array): void {
    this.write(data);
    this.end();
  }

  /**
   * Adds the next bytes of the answer: an answer made of parts (each answer of a batch) is sent without
   * being joined into one buffer first. Frames are filled to NATS's message size, across parts.
   */
  write(data: Uint8Array): void {
    this.stopKeepalive();
    let offset = 0;
    while (offset < data.length && !this.failed) {
      if (this.pending !== undefined && this.filled === this.pending.length) this.flush(DATA);
      if (this.pending === undefined) {
        const room = Math.max(1024, (this.connection.info?.max_payload ?? 1024 * 1024) - MESSAGE_MARGIN - HEADER_BYTES);
        this.pending = new Uint8Array(HEADER_BYTES + room);
        this.filled = HEADER_BYTES;
      }
      const take = Math.min(data.length - offset, this.pending.length - this.filled);
      this.pending.set(data.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
    }
  }

  /** Sends what write() left, as the answer's last frame. */
  end(): void {
    this.stopKeepalive();
    this.flush(END);
  }

  private flush(kind: number): void {
    const frame = this.pending?.subarray(0, this.filled) ?? new Uint8Array(HEADER_BYTES);
    this.pending = undefined;
    this.publish(kind, frame);
  }

  private stopKeepalive(): void {
    clearInterval(this.keepalive);
    this.keepalive = undefined;
  }

  /** Publishes `frame` (its first HEADER_BYTES left for the header, written here). */
  private publish(kind: number, frame: Uint8Array): void {
    if (this.failed) return;
    frame[0] = kind;
    frame.set(this.id, 1);
    try {
      this.connection.publish(this.reply, frame);
    } catch (error) {
      this.failed = true;
      this.stopKeepalive();
      this.onError(error);
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
