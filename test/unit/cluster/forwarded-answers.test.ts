import { describe, expect, it } from "vitest";
import type { NatsConnection } from "nats";
import { AnswersReader, sendAnswers, type ForwardAnswer } from "../../../src/cluster/forwarded-answers.js";

/**
 * The wire of a batch's answers, owner to asker: one message when the answers fit in a NATS message,
 * frames of one-answer lines when they do not; and the asker's reading of a reply that is not what it
 * should be (no answer, never a throw).
 */

/** A connection that keeps what is published, with a NATS message size of `maxPayload`. */
function recording(maxPayload: number): { connection: NatsConnection; sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const connection = { info: { max_payload: maxPayload }, publish: (_subject: string, data: Uint8Array) => void sent.push(data.slice()) };
  return { connection: connection as unknown as NatsConnection, sent };
}

/** True once the reader takes the reply as complete (well-formed or not). */
const complete = (reader: AnswersReader, message: Uint8Array): boolean => reader.step(message) === "complete";

/** Feeds messages to a reader until it says the reply is complete; how many it took. */
function feed(reader: AnswersReader, messages: readonly Uint8Array[]): number {
  for (const [index, message] of messages.entries()) if (complete(reader, message)) return index + 1;
  return -1;
}

const encoder = new TextEncoder();
/** A frame of partition-asks.ts: kind, a stream id of 8 bytes, payload. */
function frame(kind: "D" | "E" | "K" | "M", payload: string | Uint8Array, stream = "stream01"): Uint8Array {
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  const bytes = new Uint8Array(9 + body.length);
  bytes[0] = kind.charCodeAt(0);
  bytes.set(encoder.encode(stream), 1);
  bytes.set(body, 9);
  return bytes;
}

const state = (text: string): ForwardAnswer => ({ outcome: { kind: "state", entityId: "Blob/x", state: text, version: 3 } });
const ACK: ForwardAnswer = { outcome: { kind: "ack" } };

describe("answers to forwarded requests on the wire", () => {
  it("go in one message when they fit, as before", () => {
    const { connection, sent } = recording(64 * 1024);
    const answers: ForwardAnswer[] = [ACK, { moved: true }, state("small")];
    sendAnswers(connection, "_INBOX.a.1", answers, (error) => expect.unreachable(String(error)));
    expect(sent).toHaveLength(1);
    expect(JSON.parse(new TextDecoder().decode(sent[0]))).toEqual({ answers });
    const reader = new AnswersReader(3);
    expect(feed(reader, sent)).toBe(1);
    expect(reader.answers).toEqual(answers);
  });

  it("go in frames when one of them is larger than a message, and come back whole, characters cut anywhere", () => {
    const { connection, sent } = recording(4096);
    const large = "é€\n😀x".repeat(3_000); // 2-, 3- and 4-byte characters and an escaped line break: frame edges fall inside them
    const answers: ForwardAnswer[] = [ACK, state(large), { moved: true }, state("small")];
    sendAnswers(connection, "_INBOX.a.1", answers, (error) => expect.unreachable(String(error)));
    expect(sent.length).toBeGreaterThan(5);
    for (const message of sent) expect(message.length).toBeLessThanOrEqual(4096);
    const reader = new AnswersReader(4);
    expect(feed(reader, sent)).toBe(sent.length);
    expect(reader.answers).toEqual(answers);
  });

  it("go in frames when many small ones together are larger than a message", () => {
    const { connection, sent } = recording(4096);
    const answers = Array.from({ length: 500 }, (_, i) => state(`entity state ${i}`));
    sendAnswers(connection, "_INBOX.a.1", answers, (error) => expect.unreachable(String(error)));
    expect(sent.length).toBeGreaterThan(1);
    const reader = new AnswersReader(500);
    expect(feed(reader, sent)).toBe(sent.length);
    expect(reader.answers).toEqual(answers);
  });

  const line = (answer: unknown) => `${JSON.stringify(answer)}\n`;
  const bad: Array<[string, Uint8Array[], number]> = [
    ["one message that is not JSON", [encoder.encode("{not json")], 1],
    ["one message with fewer answers than requests", [encoder.encode(JSON.stringify({ answers: [ACK] }))], 2],
    ["one message whose answer is not one", [encoder.encode(JSON.stringify({ answers: [{ outcome: { kind: "error", code: 5 } }] }))], 1],
    ["frames whose line is not JSON", [frame("E", "{nope\n")], 1],
    ["frames whose line is JSON but not an answer", [frame("E", line({ outcome: 5 }))], 1],
    ["frames with more answers than requests", [frame("E", line(ACK) + line(ACK))], 1],
    ["frames with fewer answers than requests", [frame("E", line(ACK))], 2],
    ["frames whose last line is not ended", [frame("D", line(ACK)), frame("E", JSON.stringify(ACK))], 2],
    ["frames with an empty line", [frame("E", `\n${line(ACK)}`)], 1],
    ["frames whose bytes are not UTF-8", [frame("E", new Uint8Array([0xff, 0xfe, 0x0a]))], 1],
  ];
  for (const [what, messages, count] of bad) {
    it(`are no answer when the reply is ${what}`, () => {
      const reader = new AnswersReader(count);
      expect(feed(reader, messages)).toBe(messages.length);
      expect(reader.answers).toBeUndefined();
    });
  }

  it("follow the first stream that speaks, and wait past what is not a frame of it", () => {
    const reader = new AnswersReader(1);
    // Not a frame, still working, moved, too short: none of them ends the reply (the asker's wait does).
    expect(feed(reader, [encoder.encode("garbage"), frame("K", ""), frame("M", ""), new Uint8Array([0x44, 1])])).toBe(-1);
    expect(complete(reader, frame("D", JSON.stringify(ACK).slice(0, 5)))).toBe(false);
    // Another listener's frames (a partition moving) are not part of the answer; nor a whole message once frames have begun.
    expect(complete(reader, frame("E", line({ moved: true }), "stream02"))).toBe(false);
    expect(complete(reader, encoder.encode(JSON.stringify({ answers: [{ moved: true }] })))).toBe(false);
    expect(complete(reader, frame("E", `${JSON.stringify(ACK).slice(5)}\n`))).toBe(true);
    expect(reader.answers).toEqual([ACK]);
  });
});
