import { describe, expect, it } from "vitest";
import { FairInput } from "../../../src/server/fair-input.js";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("FairInput", () => {
  it("handles a connection's messages at once while it has its share of the turn, in order", () => {
    const input = new FairInput(100);
    const handled: string[] = [];
    const lane = input.lane((message) => handled.push(message));
    lane.offer("a".repeat(40));
    lane.offer("b".repeat(40));
    lane.offer("c".repeat(40)); // the share (100) is used after this one
    expect(handled.map((m) => m[0])).toEqual(["a", "b", "c"]);
    lane.offer("d");
    expect(handled).toHaveLength(3);
    expect(lane.queuedBytes).toBe(1);
  });

  it("serves a flooding connection one share per turn, and a quiet one between its shares", async () => {
    const input = new FairInput(1000);
    const order: string[] = [];
    const flooder = input.lane((message) => order.push(`flood ${message.length}`));
    const quiet = input.lane((message) => order.push(message));
    for (let i = 0; i < 10; i++) flooder.offer("x".repeat(1000)); // ten turns' worth
    expect(order).toEqual(["flood 1000"]);
    await nextTurn();
    quiet.offer("call"); // arrives while the flood waits: handled at once, not after it
    expect(order).toEqual(["flood 1000", "flood 1000", "call"]);
    while (flooder.queuedBytes > 0) await nextTurn();
    expect(order.filter((m) => m.startsWith("flood"))).toHaveLength(10);
  });

  it("keeps a connection's order: a message behind queued ones waits for them", async () => {
    const input = new FairInput(10);
    const handled: string[] = [];
    const lane = input.lane((message) => handled.push(message));
    lane.offer("0123456789");
    lane.offer("second");
    await nextTurn();
    lane.offer("third");
    while (lane.queuedBytes > 0) await nextTurn();
    expect(handled).toEqual(["0123456789", "second", "third"]);
  });

  it("drops what waits when the connection closes", async () => {
    const input = new FairInput(1);
    const handled: string[] = [];
    const lane = input.lane((message) => handled.push(message));
    lane.offer("a");
    lane.offer("b");
    lane.close();
    await nextTurn();
    lane.offer("c");
    expect(handled).toEqual(["a"]);
    expect(lane.queuedBytes).toBe(0);
  });
});
