import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../clients/index.js";
import { RawSocket } from "./support/raw-socket.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

describe.each(TRANSPORTS)("requests on one connection, over %s", (transport) => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer(transport);
  });
  afterAll(async () => {
    await server.stop();
  });

  it("a get sees exactly the operations sent before it, never a signal sent after it", async () => {
    const peer = await RawSocket.greeted(server.port, "order");
    peer.send([
      { type: "get", id: 1, entity: "Counter/fresh" },
      { type: "signal", id: 2, entity: "Counter/fresh", op: "add", input: 5 },
    ]);
    expect(await peer.waitFor((f) => f.id === 1)).toMatchObject({ type: "state", state: null, version: 0 });
    await peer.waitFor((f) => f.type === "ack" && (f.ids as number[]).includes(2));
    peer.send([
      { type: "call", id: 3, entity: "Counter/fresh", op: "get" },
      { type: "get", id: 4, entity: "Counter/fresh" },
      { type: "signal", id: 5, entity: "Counter/fresh", op: "add", input: 100 },
      { type: "get", id: 6, entity: "Counter/fresh" },
    ]);
    expect(await peer.waitFor((f) => f.id === 3)).toMatchObject({ type: "result", value: 5 });
    expect(await peer.waitFor((f) => f.id === 4)).toMatchObject({ type: "state", state: 5, version: 1 });
    expect(await peer.waitFor((f) => f.id === 6)).toMatchObject({ type: "state", state: 105, version: 2 });
    peer.close();
  });

  it("refuses a signal whose id is not above the connection's previous signal; it is not acknowledged or applied", async () => {
    const peer = await RawSocket.greeted(server.port, "numbering");
    peer.send([
      { type: "signal", id: 10, entity: "Counter/numbered", op: "add", input: 1 },
      { type: "signal", id: 4, entity: "Counter/numbered", op: "add", input: 1000 },
      { type: "signal", id: Number.MAX_SAFE_INTEGER, entity: "Counter/numbered", op: "add", input: 10 },
      { type: "signal", id: 11, entity: "Counter/numbered", op: "add", input: 1000 },
      { type: "call", id: 12, entity: "Counter/numbered", op: "get" },
    ]);
    expect(await peer.waitFor((f) => f.id === 12)).toMatchObject({ type: "result", value: 11 });
    const acked = peer.frames.filter((f) => f.type === "ack").flatMap((f) => f.ids as number[]);
    expect(acked.sort((a, b) => a - b)).toEqual([10, Number.MAX_SAFE_INTEGER]);
    const refusals = peer.frames.filter((f) => f.type === "error").flatMap((f) => (f.ids as number[] | undefined) ?? [f.id as number]);
    expect(refusals.sort((a, b) => a - b)).toEqual([4, 11]);
    peer.close();
  });

  it("refuses entity and client ids that are not well-formed Unicode (they would share storage keys)", async () => {
    const peer = await RawSocket.greeted(server.port, "unicode");
    const long = `Counter/${"k".repeat(70)}`;
    peer.send([
      { type: "signal", id: 1, entity: `${long}\ud83d`, op: "add", input: 5 },
      { type: "signal", id: 2, entity: `${long}\ud806`, op: "add", input: 7 },
      { type: "get", id: 3, entity: "Counter/a\u0000b" },
    ]);
    const refusal = await peer.waitFor((f) => f.type === "error");
    expect(refusal).toMatchObject({ code: "bad_request", ids: [1, 2, 3] });
    expect(String(refusal.message)).toMatch(/well-formed Unicode/);
    const lone = await RawSocket.open(server.port);
    lone.send({ type: "hello", version: 1, clientId: "app-\ud800" });
    expect(await lone.waitFor((f) => f.type === "error")).toMatchObject({ code: "bad_request" });
    lone.close();
    peer.close();
  });

  it("a client given one error for several requests fails each of them", async () => {
    const client = await connect(server.url);
    const calls = await Promise.allSettled(Array.from({ length: 5 }, () => client.call("Counter/x", "fly")));
    expect(calls.map((c) => c.status === "rejected" && (c.reason as { code?: string }).code)).toEqual(Array(5).fill("unknown_operation"));
    await client.close();
  });
});
