import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as connectNats, type Msg, type NatsConnection } from "nats";
import type { ForwardedRequests } from "../../../src/cluster/forwarded-requests.js";
import { startNatsServer, type NatsServers } from "../../support/nats-servers.js";
import { forwardingNode, oneAnswer, StandInOwner } from "./stand-in-owner.js";

const PARTITION = 9;

/**
 * The forwarding node's NATS connection breaks and comes back (its server restarted): its one reply
 * subscription is made again, a try whose answer was lost meanwhile ends (nothing waits for ever), a
 * request that may be sent again is, and the requests after it are answered. Also: a partition with no
 * owner (NATS says no responders) is asked again until one listens, and a late reply to a try given
 * up on is not taken for the answer of the next.
 */
describe("forwarded requests: a reconnecting connection, no owner, late replies", () => {
  let nats: NatsServers;
  let node: NatsConnection;
  let owner: StandInOwner;
  let forwarded: ForwardedRequests;
  let forward: ReturnType<typeof forwardingNode>["forward"];

  beforeAll(async () => {
    nats = await startNatsServer();
    const options = { servers: nats.urls, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 100 };
    node = await connectNats(options);
    owner = new StandInOwner(await connectNats(options), PARTITION);
    ({ forwarded, forward } = forwardingNode(node, PARTITION));
  });

  afterAll(async () => {
    forwarded?.stop();
    await node?.close();
    await owner?.connection.close();
    await nats?.stop();
  });

  const signal = (seq: number) => ({ kind: "signal", entityId: "Blob/x", op: "append", input: "y", sender: { clientId: "c", seq } }) as const;

  it("asks a partition with no owner again until one listens, and takes its answer", { timeout: 60_000 }, async () => {
    const sent = node.stats().outMsgs;
    const call = forward({ kind: "call", entityId: "Blob/x", op: "append", input: "z" });
    const numbered = forward(signal(1));
    // No one listens: NATS answers each try at once with no responders, and the node asks again (three tries at least).
    while (node.stats().outMsgs < sent + 3) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(owner.batches).toHaveLength(0);
    // The call goes in a batch of its own, the signal in the next (it waits for the call's answer).
    owner.replies.push((message) => owner.answerAll(message, { kind: "result", value: 1 }));
    owner.replies.push((message) => owner.answerAll(message, { kind: "ack" }));
    await owner.listen();
    expect(await call).toEqual({ kind: "result", value: 1 });
    expect(await numbered).toEqual({ kind: "ack" });
    expect(owner.batches).toHaveLength(2); // each applied once: the tries no one heard were not answered as if they had been
  });

  it("does not take a late reply to a try given up on for the answer of the next", { timeout: 60_000 }, async () => {
    const before = owner.batches.length;
    let first: Msg | undefined;
    owner.replies.push((message) => void (first = message)); // the owner is slow: no answer in time
    owner.replies.push((message) => {
      // Its answer to the first try comes now, late; then the answer to this one.
      first!.respond(oneAnswer({ kind: "error", code: "operation_failed", message: "stale" }));
      owner.answer(message, { kind: "ack" });
    });
    expect(await forward(signal(2))).toEqual({ kind: "ack" });
    expect(owner.batches.length - before).toBe(2);
  });

  it("after the node's NATS connection comes back, a try whose answer was lost ends, is sent again, and is answered", { timeout: 90_000 }, async () => {
    const before = owner.batches.length;
    let lost: Msg | undefined;
    const received = new Promise<void>((resolve) => owner.replies.push((message) => ((lost = message), resolve())));
    const outcome = forward(signal(3));
    await received;
    await nats.restart(0);
    // The owner (reconnected too) answers the first try while the node may still be away: that answer is lost or late.
    owner.replies.push((message) => owner.answer(message, { kind: "ack" }));
    void lost;
    expect(await outcome).toEqual({ kind: "ack" });
    expect(owner.batches.length - before).toBeGreaterThanOrEqual(2);
    // The reply subscription is back: a call (sent once) is answered.
    owner.replies.push((message) => owner.answer(message, { kind: "result", value: 7 }));
    expect(await forward({ kind: "call", entityId: "Blob/x", op: "read" })).toEqual({ kind: "result", value: 7 });
    expect(node.isClosed()).toBe(false);
  });

  it("a try open when the node's NATS connection is closed ends with that, not with a wait for an answer that cannot come", { timeout: 60_000 }, async () => {
    const leaving = await connectNats({ servers: nats.urls });
    const leavingNode = forwardingNode(leaving, PARTITION);
    if (!owner.listening) await owner.listen();
    const received = new Promise<void>((resolve) => owner.replies.push(() => resolve())); // the owner takes the batch, and is slow
    const outcome = leavingNode.forward({ kind: "call", entityId: "Blob/x", op: "read" });
    await received;
    leavingNode.forwarded.stop();
    await leaving.close();
    const answered = await outcome;
    expect(answered).toMatchObject({ kind: "error", code: "store_unavailable" });
    expect((answered as { message: string }).message).toContain("could not be asked");
    expect((answered as { message: string }).message).toContain("may or may not have been applied");
  });
});
