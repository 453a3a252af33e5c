import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect as connectNats, type Msg, type NatsConnection } from "nats";
import { ForwardedRequests } from "../../../src/cluster/forwarded-requests.js";
import { partitionLogAddress } from "../../../src/cluster/log-names.js";
import type { Logger } from "../../../src/log.js";
import type { EntityRuntime, OperationRequest, Outcome } from "../../../src/runtime/index.js";
import type { LmdbStore } from "../../../src/storage/index.js";
import { startNatsServer, type NatsServers } from "../../support/nats-servers.js";

const PARTITION = 3;
const SUBJECT = partitionLogAddress("default", PARTITION).subject.replace(".log.", ".requests.");
const encoder = new TextEncoder();

/** A frame of partition-asks.ts: kind, a stream id of 8 bytes, payload. */
function frame(kind: "D" | "E" | "K" | "M", payload: string, stream = "rogue001"): Uint8Array {
  const body = encoder.encode(payload);
  const bytes = new Uint8Array(9 + body.length);
  bytes[0] = kind.charCodeAt(0);
  bytes.set(encoder.encode(stream), 1);
  bytes.set(body, 9);
  return bytes;
}

/**
 * Anyone who can read a partition's request subject sees the reply subject of each batch, and can
 * publish there. What a stranger publishes on it must neither hide the owner's answer nor keep the
 * forwarding node waiting for ever: a try ends when the owner is silent for its wait, however many
 * messages nobody asked for arrive meanwhile, and never outlives the batch's deadline.
 */
describe("forwarded requests: a stranger's messages on the reply subject", () => {
  let nats: NatsServers;
  let node: NatsConnection;
  let owner: NatsConnection;
  let stranger: NatsConnection;
  let forwarded: ForwardedRequests;
  const runtime = { forward: undefined, submit: () => undefined } as unknown as EntityRuntime;
  /** What the stand-in owner does with each batch it is sent, in turn (nothing when none is left). */
  const replies: Array<(message: Msg) => void | Promise<void>> = [];
  let batches = 0;
  const spam: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    node = await connectNats({ servers: nats.urls });
    owner = await connectNats({ servers: nats.urls });
    stranger = await connectNats({ servers: nats.urls });
    const store = { isLocal: () => false, partitionOf: () => PARTITION } as unknown as LmdbStore;
    const log: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, fatal: () => undefined, child: () => log };
    forwarded = new ForwardedRequests(node, "default", store, runtime, undefined, log);
    owner.subscribe(SUBJECT, {
      callback: (_error, message) => {
        batches++;
        void replies.shift()?.(message);
      },
    });
    await owner.flush();
  });

  afterEach(() => {
    for (const timer of spam.splice(0)) clearInterval(timer);
  });

  afterAll(async () => {
    forwarded?.stop();
    await node?.close();
    await owner?.close();
    await stranger?.close();
    await nats?.stop();
  });

  const forward = (request: Omit<OperationRequest, "replyTo" | "requestId">) =>
    new Promise<Outcome>((resolve) => {
      expect(runtime.forward!({ ...request, replyTo: { deliver: (_id, outcome) => resolve(outcome) }, requestId: 1 })).toBe(true);
    });
  /** The stranger publishes `messages` on the batch's reply subject again and again, until the test ends. */
  const flood = (messages: Uint8Array[]) => (message: Msg) => {
    const reply = message.reply!;
    spam.push(setInterval(() => messages.forEach((data) => stranger.publish(reply, data)), 100));
  };
  const answers = (outcome: Outcome) => encoder.encode(JSON.stringify({ answers: [{ outcome }] }));

  it("a stranger's keepalive before the owner's answer does not hide the answer", { timeout: 30_000 }, async () => {
    replies.push(async (message) => {
      stranger.publish(message.reply!, frame("K", ""));
      await stranger.flush(); // the stranger's frame is at the node before the owner's answer
      owner.publish(message.reply!, answers({ kind: "result", value: 42 }));
    });
    expect(await forward({ kind: "call", entityId: "Blob/x", op: "read" })).toEqual({ kind: "result", value: 42 });
  });

  it("a stranger's messages do not keep a try open: a numbered signal the owner did not answer is sent again, and answered", { timeout: 60_000 }, async () => {
    const before = batches;
    // The first try: the owner is silent (paused, dead), and a stranger keeps talking on its reply subject.
    replies.push(flood([frame("K", ""), frame("M", ""), frame("D", ""), encoder.encode("garbage")]));
    replies.push((message) => owner.publish(message.reply!, answers({ kind: "ack" })));
    expect(await forward({ kind: "signal", entityId: "Blob/x", op: "append", input: "y", sender: { clientId: "c", seq: 1 } })).toEqual({ kind: "ack" });
    expect(batches - before).toBe(2);
  });

  it("a stranger's stream that never ends does not hold a request past its batch's deadline", { timeout: 90_000 }, async () => {
    // One byte at a time of a line that never ends: each a frame of the stream followed.
    replies.push(flood([frame("D", " ")]));
    const outcome = await forward({ kind: "call", entityId: "Blob/x", op: "read" });
    expect(outcome).toMatchObject({ kind: "error", code: "store_unavailable" });
    expect((outcome as { message: string }).message).toContain("may or may not have been applied");
    // The partition's queue moves on: the next request is sent and answered.
    replies.push((message) => owner.publish(message.reply!, answers({ kind: "ack" })));
    expect(await forward({ kind: "call", entityId: "Blob/y", op: "read" })).toEqual({ kind: "ack" });
    expect(node.isClosed()).toBe(false);
  });
});
