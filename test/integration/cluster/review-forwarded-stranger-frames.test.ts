import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect as connectNats, type Msg, type NatsConnection } from "nats";
import type { ForwardedRequests } from "../../../src/cluster/forwarded-requests.js";
import { startNatsServer, type NatsServers } from "../../support/nats-servers.js";
import { forwardingNode, frame, StandInOwner } from "./stand-in-owner.js";

const PARTITION = 3;
const encoder = new TextEncoder();

/**
 * Anyone who can read a partition's request subject sees the reply subject of each batch, and can
 * publish there. What a stranger publishes on it must neither hide the owner's answer nor keep the
 * forwarding node waiting for ever: a try ends when the owner is silent for its wait, however many
 * messages nobody asked for arrive meanwhile, and never outlives the batch's deadline.
 */
describe("forwarded requests: a stranger's messages on the reply subject", () => {
  let nats: NatsServers;
  let node: NatsConnection;
  let owner: StandInOwner;
  let stranger: NatsConnection;
  let forwarded: ForwardedRequests;
  let forward: ReturnType<typeof forwardingNode>["forward"];
  const spam: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    node = await connectNats({ servers: nats.urls });
    owner = new StandInOwner(await connectNats({ servers: nats.urls }), PARTITION);
    stranger = await connectNats({ servers: nats.urls });
    ({ forwarded, forward } = forwardingNode(node, PARTITION));
    await owner.listen();
  });

  afterEach(() => {
    for (const timer of spam.splice(0)) clearInterval(timer);
  });

  afterAll(async () => {
    forwarded?.stop();
    await node?.close();
    await owner?.connection.close();
    await stranger?.close();
    await nats?.stop();
  });

  /** The stranger publishes `messages` on the batch's reply subject again and again, until the test ends. */
  const flood = (messages: Uint8Array[]) => (message: Msg) => {
    const reply = message.reply!;
    spam.push(setInterval(() => messages.forEach((data) => stranger.publish(reply, data)), 100));
  };

  it("a stranger's keepalive before the owner's answer does not hide the answer", { timeout: 30_000 }, async () => {
    owner.replies.push(async (message) => {
      stranger.publish(message.reply!, frame("K", ""));
      await stranger.flush(); // the stranger's frame is at the node before the owner's answer
      owner.answer(message, { kind: "result", value: 42 });
    });
    expect(await forward({ kind: "call", entityId: "Blob/x", op: "read" })).toEqual({ kind: "result", value: 42 });
  });

  it("a stranger's messages do not keep a try open: a numbered signal the owner did not answer is sent again, and answered", { timeout: 60_000 }, async () => {
    const before = owner.batches.length;
    // The first try: the owner is silent (paused, dead), and a stranger keeps talking on its reply subject.
    owner.replies.push(flood([frame("K", ""), frame("M", ""), frame("D", ""), encoder.encode("garbage")]));
    owner.replies.push((message) => owner.answer(message, { kind: "ack" }));
    expect(await forward({ kind: "signal", entityId: "Blob/x", op: "append", input: "y", sender: { clientId: "c", seq: 1 } })).toEqual({ kind: "ack" });
    expect(owner.batches.length - before).toBe(2);
  });

  it("a stranger's stream that never ends does not hold a request past its batch's deadline", { timeout: 90_000 }, async () => {
    // One byte at a time of a line that never ends: each a frame of the stream followed.
    owner.replies.push(flood([frame("D", " ")]));
    const outcome = await forward({ kind: "call", entityId: "Blob/x", op: "read" });
    expect(outcome).toMatchObject({ kind: "error", code: "store_unavailable" });
    expect((outcome as { message: string }).message).toContain("may or may not have been applied");
    // The partition's queue moves on: the next request is sent and answered.
    owner.replies.push((message) => owner.answer(message, { kind: "ack" }));
    expect(await forward({ kind: "call", entityId: "Blob/y", op: "read" })).toEqual({ kind: "ack" });
    expect(node.isClosed()).toBe(false);
  });
});
