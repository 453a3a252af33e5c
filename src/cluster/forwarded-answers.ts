import type { NatsConnection } from "nats";
import type { Outcome } from "../runtime/index.js";
import { isRecord, jsonOf } from "./nats-payloads.js";
import { AnswerStream, FrameReader } from "./partition-asks.js";
import type { ReplyStep } from "./reply-inbox.js";

/** The owner's answer to one forwarded request: the outcome, or word that it does not own the partition (any more). */
export type ForwardAnswer = { readonly outcome: Outcome } | { readonly moved: true };

/**
 * How the owner answers a batch of forwarded requests, in one of two shapes:
 * - one message `{"answers":[…]}`, when it fits in a NATS message: the common case (thousands of small
 *   answers a second), as cheap as a reply can be;
 * - else frames of partition-asks.ts (D… E, on the same reply subject) whose bytes are the answers'
 *   JSON, one a line, in order. The asker tells the shapes apart by the first byte (`{` is no frame's
 *   kind). Frames need nothing of the asker that the one message does not (no second inbox, no second
 *   request), and carry any size: a state or a call's result of many MB, or many answers that together
 *   are. One answer a line lets the asker parse each answer alone, never the batch's whole text.
 */

/** Bytes of a NATS message kept for the protocol's own (its subject, headers). */
const MESSAGE_MARGIN = 1024;
/** The largest answer taken in frames: the longest JSON a JavaScript string can hold (V8's limit, 2^29 − 24 UTF-16 units) could not be made by the owner anyway. */
const MAX_ANSWER_BYTES = 3 * (2 ** 29 - 24);
const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
/** The kinds of partition-asks' frames that an answer's stream is made of (no keepalive, no `moved`: those are per answer, in its JSON). */
const DATA = 0x44; // D
const END = 0x45; // E
/** A frame's kind and stream id. */
const FRAME_HEADER_BYTES = 9;
const NEWLINE_BYTES = new Uint8Array([NEWLINE]);

const encoder = new TextEncoder();

/**
 * The owner's side: answers a batch on the asker's `reply` subject, in one message when the answers fit,
 * else in frames. Never throws (failures go to `onError`).
 */
export function sendAnswers(connection: NatsConnection, reply: string, answers: readonly ForwardAnswer[], onError: (error: unknown) => void): void {
  const room = (connection.info?.max_payload ?? 1024 * 1024) - MESSAGE_MARGIN;
  const whole = oneMessage(answers, room);
  if (whole !== undefined) {
    try {
      connection.publish(reply, whole);
    } catch (error) {
      onError(error);
    }
    return;
  }
  const stream = new AnswerStream(connection, reply, onError);
  try {
    for (const answer of answers) {
      stream.write(encoder.encode(JSON.stringify(answer)));
      stream.write(NEWLINE_BYTES);
    }
  } catch (error) {
    return onError(error); // an answer no string can hold: the stream stays unfinished, and the asker takes that as no answer
  }
  stream.end();
}

/** The answers as one message, or undefined when they do not fit in `room` bytes. */
function oneMessage(answers: readonly ForwardAnswer[], room: number): Uint8Array | undefined {
  let json: string;
  try {
    json = JSON.stringify({ answers });
  } catch {
    return undefined; // longer than a string can be (answers of hundreds of MB): frames take them one at a time
  }
  // A JSON text has at least as many bytes as UTF-16 units: past `room` units, it cannot fit.
  if (json.length > room) return undefined;
  const bytes = encoder.encode(json);
  return bytes.length <= room ? bytes : undefined;
}

/**
 * The asker's side: reads the reply to a batch of `count` requests, message by message. `answers` is
 * set once a complete, well-formed reply is read; a reply that is not one (not JSON, the wrong number
 * of answers, an answer that is not one, a line too long) leaves it undefined: no answer.
 */
export class AnswersReader {
  private readonly frames = new FrameReader();
  private readonly read: ForwardAnswer[] = [];
  /** The bytes of the line being read (copies: a message's bytes belong to the connection's reader). */
  private line: Uint8Array[] = [];
  private lineBytes = 0;
  private bad = false;
  answers: ForwardAnswer[] | undefined;

  constructor(private readonly count: number) {}

  /**
   * Takes one reply message, and says what it was to the reply: `complete` (well-formed or not),
   * `more` (bytes of the followed stream), or `ignored` (not part of the reply: it does not keep the
   * asker waiting longer).
   */
  step(data: Uint8Array): ReplyStep {
    if (!this.frames.following && data[0] === OPEN_BRACE) {
      this.answers = answersOf(jsonOf({ data }), this.count);
      return "complete";
    }
    // Not a frame of an answer's stream (a keepalive or `moved`, which owners never send here, or not a
    // frame): ignored, and it does not choose the stream followed, which would hide the owner's answer.
    // So is an empty data frame (an owner's never is).
    if ((data[0] !== DATA && data[0] !== END) || (data[0] === DATA && data.length <= FRAME_HEADER_BYTES)) return "ignored";
    const frame = this.frames.read(data);
    if (frame.kind !== "chunk") return "ignored";
    this.takeLines(frame.data);
    if (this.bad) return "complete";
    if (!frame.last) return "more";
    if (this.lineBytes === 0 && this.read.length === this.count) this.answers = this.read;
    return "complete";
  }

  private takeLines(chunk: Uint8Array): void {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end >= 0 && !this.bad; end = chunk.indexOf(NEWLINE, start)) {
      this.add(chunk.subarray(start, end));
      this.endLine();
      start = end + 1;
    }
    if (!this.bad && start < chunk.length) this.add(chunk.subarray(start));
  }

  private add(bytes: Uint8Array): void {
    this.lineBytes += bytes.length;
    if (this.lineBytes > MAX_ANSWER_BYTES) this.bad = true;
    else if (bytes.length > 0) this.line.push(bytes.slice());
  }

  private endLine(): void {
    const answer = this.read.length < this.count ? answerOf(jsonOf({ data: joined(this.line, this.lineBytes) })) : undefined;
    this.line = [];
    this.lineBytes = 0;
    if (answer === undefined) this.bad = true;
    else this.read.push(answer);
  }
}

/** The owner's answers to a batch, or undefined when the reply is not that (it is treated as no answer). */
function answersOf(value: unknown, count: number): ForwardAnswer[] | undefined {
  if (!isRecord(value) || !Array.isArray(value.answers) || value.answers.length !== count) return undefined;
  const answers = value.answers.map(answerOf);
  return answers.every((answer) => answer !== undefined) ? (answers as ForwardAnswer[]) : undefined;
}

/** An owner's answer, or undefined when the reply is not one (it is treated as no answer). */
function answerOf(value: unknown): ForwardAnswer | undefined {
  if (!isRecord(value)) return undefined;
  if (value.moved === true) return { moved: true };
  const { outcome } = value;
  if (!isRecord(outcome) || typeof outcome.kind !== "string") return undefined;
  if (outcome.kind === "error" && (typeof outcome.code !== "string" || typeof outcome.message !== "string")) return undefined;
  return { outcome: outcome as Outcome };
}

function joined(pieces: readonly Uint8Array[], length: number): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const whole = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    whole.set(piece, offset);
    offset += piece.length;
  }
  return whole;
}
