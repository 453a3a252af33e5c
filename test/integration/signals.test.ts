import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../clients/index.js";
import type { Counter } from "../../src/demo/app.js";
import { RawSocket } from "./support/raw-socket.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

describe.each(TRANSPORTS)("signals, calls and gets over %s", (transport) => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer(transport);
  });
  afterAll(async () => {
    await server.stop();
  });

  it("4 clients x 2,500 signals across 100 counters give exact totals", async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => connect(server.url)));
    const expected = new Array<number>(100).fill(0);
    await Promise.all(
      clients.map(async (client, c) => {
        const acks: Array<Promise<void>> = [];
        for (let i = 0; i < 2500; i++) {
          const counter = (i * 7 + c) % 100;
          const amount = 1 + ((i + c) % 5);
          expected[counter]! += amount;
          acks.push(client.signal(`Counter/total-${counter}`, "add", amount));
        }
        await Promise.all(acks);
      }),
    );
    const reader = clients[0]!;
    const totals = await Promise.all(expected.map((_, i) => reader.get<number>(`Counter/total-${i}`)));
    expect(totals).toEqual(expected);
    await Promise.all(clients.map((client) => client.close()));
  });

  it("answers a failed signal resent on a new connection with its failure, not an ack", async () => {
    const first = await RawSocket.greeted(server.port, "resender");
    first.send({ type: "signal", id: 1, entity: "Counter/resent", op: "add", input: "x" });
    const failure = await first.waitFor((frame) => frame.id === 1);
    expect(failure).toMatchObject({ type: "error", code: "operation_failed" });
    first.close(); // as if its answer had been lost with the connection
    const second = await RawSocket.greeted(server.port, "resender");
    second.send({ type: "signal", id: 1, entity: "Counter/resent", op: "add", input: "x" });
    expect(await second.waitFor((frame) => frame.id === 1)).toEqual(failure);
    second.close();
  });

  it("runs signals from one sender to one entity in the order sent", async () => {
    const client = await connect(server.url);
    const sends: Array<Promise<void>> = [];
    for (let i = 1; i <= 500; i++) sends.push(client.signal("Counter/ordered", i % 2 === 0 ? "add" : "reset", i));
    await Promise.all(sends);
    // the last operation is add 500 after reset 499: only an in-order run ends at 500
    expect(await client.call("Counter/ordered", "get")).toBe(500);
    await client.close();
  });

  it("answers calls with the result, gets with the stored state, and failed operations with operation_failed", async () => {
    const client = await connect(server.url);
    const counter = client.entity<typeof Counter>("Counter/typed");
    expect(await counter.call.add(5)).toBe(5);
    await counter.signal.add(2);
    expect(await counter.call.get()).toBe(7);
    expect(await client.getWithVersion("Counter/typed")).toEqual({ state: 7, version: 2 });
    await expect(client.call("Counter/typed", "add", "x")).rejects.toMatchObject({ code: "operation_failed" });
    expect(await client.get("Counter/typed")).toBe(7);
    expect(await client.get("Counter/never-touched")).toBeNull();
    await counter.call.delete();
    expect(await client.get("Counter/typed")).toBeNull();
    expect(await counter.call.add(1)).toBe(1);

    expect(await client.call("CounterFn/f", "add", 4)).toBe(4);
    expect(await client.call("CounterFn/f", "get")).toBe(4);
    await expect(client.call("CounterFn/f", "fly")).rejects.toMatchObject({ code: "operation_failed" });

    for (const value of [3, 9, 6]) await client.signal("Stats/s", "record", value);
    expect(await client.get("Stats/s")).toEqual({ count: 3, sum: 18, min: 3, max: 9, mean: 6 });
    await expect(client.signal("Nope/x", "add", 1)).rejects.toMatchObject({ code: "unknown_entity" });
    await expect(client.signal("Counter/x", "fly")).rejects.toMatchObject({ code: "unknown_operation" });
    await client.close();
  });
});
