import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as connectNats, type Msg, type NatsConnection } from "nats";
import { ForwardedRequests } from "../../../src/cluster/forwarded-requests.js";
import { partitionLogAddress } from "../../../src/cluster/log-names.js";
import { AnswerStream } from "../../../src/cluster/partition-asks.js";
import type { Logger } from "../../../src/log.js";
import type { EntityRuntime, OperationRequest, Outcome } from "../../../src/runtime/index.js";
import type { LmdbStore } from "../../../src/storage/index.js";
import { startNatsServer, type NatsServers } from "../../support/nats-servers.js";

const PARTITION = 5;
const SUBJECT = partitionLogAddress("default", PARTITION).subject.replace(".log.", ".requests.");
const encoder = new TextEncoder();

/** A frame of partition-asks.ts: kind, a stream id of 8 bytes, payload. */
function frame(kind: "D" | "E", payload: string, stream = "rogue001"): Uint8Array {
  const body = encoder.encode(payload);
  const bytes = new Uint8Array(9 + body.length);
  bytes[0] = kind.charCodeAt(0);
  bytes.set(encoder.encode(stream), 1);
  bytes.set(body, 9);
  return bytes;
}

/**
 * Whatever comes back on a forwarding node's inbox is input: a reply in frames that is not a batch's
 * answers (a broken line, the wrong number of answers, frames cut short) is no answer, as a reply that
 * never came: a request that may not be sent twice is answered `store_unavailable` ("may or may not have
 * been applied"), one that may is sent again. The node never throws on it, and takes good answers after.
 * Here the partition's "owner" is a plain NATS client that replies what each case says.
 */
describe("forwarded requests: replies in frames that are not answers", () => {
  let nats: NatsServers;
  let node: NatsConnection;
  let owner: NatsConnection;
  let forwarded: ForwardedRequests;
  const runtime = { forward: undefined, submit: () => undefined } as unknown as EntityRuntime;
  const warnings: string[] = [];
  /** What the stand-in owner does with each batch it is sent, in turn. */
  const replies: Array<(message: Msg) => void> = [];
  const batches: unknown[] = [];
  /** The reply subject of each batch. */
  const inboxes: string[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    node = await connectNats({ servers: nats.urls });
    owner = await connectNats({ servers: nats.urls });
    const store = { isLocal: () => false, partitionOf: () => PARTITION } as unknown as LmdbStore;
    const log: Logger = { debug: () => undefined, info: () => undefined, warn: (message) => void warnings.push(message), error: () => undefined, fatal: () => undefined, child: () => log };
    forwarded = new ForwardedRequests(node, "default", store, runtime, undefined, log);
    owner.subscribe(SUBJECT, {
      callback: (_error, message) => {
        batches.push(message.json());
        inboxes.push(message.reply ?? "");
        replies.shift()?.(message);
      },
    });
    await owner.flush();
  });

  afterAll(async () => {
    forwarded?.stop();
    await node?.close();
    await owner?.close();
    await nats?.stop();
  });

  /** Forwards one request and resolves with its outcome. */
  const forward = (request: Omit<OperationRequest, "replyTo" | "requestId">) =>
    new Promise<Outcome>((resolve) => {
      expect(runtime.forward!({ ...request, replyTo: { deliver: (_id, outcome) => resolve(outcome) }, requestId: 1 })).toBe(true);
    });
  const read = { kind: "call", entityId: "Blob/x", op: "read" } as const;
  const publishAll = (frames: Uint8Array[]) => (message: Msg) => {
    for (const data of frames) owner.publish(message.reply!, data);
  };
  const ack = `${JSON.stringify({ outcome: { kind: "ack" } })}\n`;

  const cases: Array<[string, Uint8Array[]]> = [
    ["a line that is not JSON", [frame("E", "{not an answer\n")]],
    ["a line that is JSON but not an answer", [frame("E", `${JSON.stringify({ outcome: { kind: 7 } })}\n`)]],
    ["more answers than requests", [frame("D", ack), frame("E", ack)]],
    ["a last line without its end", [frame("E", JSON.stringify({ outcome: { kind: "ack" } }))]],
    ["no answers at all", [frame("E", "")]],
  ];
  for (const [what, frames] of cases) {
    it(`a reply in frames with ${what} is no answer: a call is answered store_unavailable`, { timeout: 30_000 }, async () => {
      replies.push(publishAll(frames));
      const outcome = await forward(read);
      expect(outcome).toMatchObject({ kind: "error", code: "store_unavailable" });
      expect((outcome as { message: string }).message).toContain("may or may not have been applied");
      expect(warnings.at(-1)).toBe("a reply to forwarded requests that is not their answers was taken as no answer");
    });
  }

  it("a numbered signal given a broken reply is sent again, and takes the answer of the next try", { timeout: 30_000 }, async () => {
    const before = batches.length;
    replies.push(publishAll([frame("D", ack.slice(0, 10)), frame("E", "}}}\n")]));
    replies.push(publishAll([frame("E", ack)]));
    const outcome = await forward({ kind: "signal", entityId: "Blob/x", op: "append", input: "y", sender: { clientId: "c", seq: 1 } });
    expect(outcome).toEqual({ kind: "ack" });
    expect(batches.length - before).toBe(2);
  });

  it("takes a good answer larger than a NATS message after all of them, on the same connection", { timeout: 30_000 }, async () => {
    const state = "z€".repeat(700_000); // 2.8 MB of JSON: three frames
    replies.push((message) => {
      const stream = new AnswerStream(owner, message.reply!, (error) => expect.unreachable(String(error)));
      stream.write(encoder.encode(`${JSON.stringify({ outcome: { kind: "result", value: state } })}\n`));
      stream.end();
    });
    expect(await forward(read)).toEqual({ kind: "result", value: state });
    expect(node.isClosed()).toBe(false);
    // Every batch named a reply subject under the node's one inbox (no subscription per batch), each its own.
    expect(inboxes.every((inbox) => inbox.startsWith("_INBOX."))).toBe(true);
    expect(new Set(inboxes.map((inbox) => inbox.slice(0, inbox.lastIndexOf("."))))).toHaveProperty("size", 1);
    expect(new Set(inboxes).size).toBe(inboxes.length);
  });
});
