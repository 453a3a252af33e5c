import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as connectNats, type Msg, type NatsConnection } from "nats";
import type { ForwardedRequests } from "../../../src/cluster/forwarded-requests.js";
import { AnswerStream } from "../../../src/cluster/partition-asks.js";
import { startNatsServer, type NatsServers } from "../../support/nats-servers.js";
import { forwardingNode, frame, StandInOwner } from "./stand-in-owner.js";

const PARTITION = 5;
const encoder = new TextEncoder();

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
  let owner: StandInOwner;
  let forwarded: ForwardedRequests;
  let forward: ReturnType<typeof forwardingNode>["forward"];
  const warnings: string[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    node = await connectNats({ servers: nats.urls });
    owner = new StandInOwner(await connectNats({ servers: nats.urls }), PARTITION);
    ({ forwarded, forward } = forwardingNode(node, PARTITION, warnings));
    await owner.listen();
  });

  afterAll(async () => {
    forwarded?.stop();
    await node?.close();
    await owner?.connection.close();
    await nats?.stop();
  });

  const read = { kind: "call", entityId: "Blob/x", op: "read" } as const;
  const publishAll = (frames: Uint8Array[]) => (message: Msg) => {
    for (const data of frames) owner.connection.publish(message.reply!, data);
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
      owner.replies.push(publishAll(frames));
      const outcome = await forward(read);
      expect(outcome).toMatchObject({ kind: "error", code: "store_unavailable" });
      expect((outcome as { message: string }).message).toContain("may or may not have been applied");
      expect(warnings.at(-1)).toBe("a reply to forwarded requests that is not their answers was taken as no answer");
    });
  }

  it("a numbered signal given a broken reply is sent again, and takes the answer of the next try", { timeout: 30_000 }, async () => {
    const before = owner.batches.length;
    owner.replies.push(publishAll([frame("D", ack.slice(0, 10)), frame("E", "}}}\n")]));
    owner.replies.push(publishAll([frame("E", ack)]));
    const outcome = await forward({ kind: "signal", entityId: "Blob/x", op: "append", input: "y", sender: { clientId: "c", seq: 1 } });
    expect(outcome).toEqual({ kind: "ack" });
    expect(owner.batches.length - before).toBe(2);
  });

  it("takes a good answer larger than a NATS message after all of them, on the same connection", { timeout: 30_000 }, async () => {
    const state = "z€".repeat(700_000); // 2.8 MB of JSON: three frames
    owner.replies.push((message) => {
      const stream = new AnswerStream(owner.connection, message.reply!, (error) => expect.unreachable(String(error)));
      stream.write(encoder.encode(`${JSON.stringify({ outcome: { kind: "result", value: state } })}\n`));
      stream.end();
    });
    expect(await forward(read)).toEqual({ kind: "result", value: state });
    expect(node.isClosed()).toBe(false);
    // Every batch named a reply subject under the node's one inbox (no subscription per batch), each its own.
    const inboxes = owner.batches.map((batch) => batch.reply);
    expect(inboxes.every((inbox) => inbox.startsWith("_INBOX."))).toBe(true);
    expect(new Set(inboxes.map((inbox) => inbox.slice(0, inbox.lastIndexOf("."))))).toHaveProperty("size", 1);
    expect(new Set(inboxes).size).toBe(inboxes.length);
  });
});
