import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, type DurableClient, type LiveStateInfo } from "../../clients/index.js";
import type { CartState, ShoppingCart } from "../../src/demo/app.js";
import { RawSocket } from "./support/raw-socket.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

describe.each(TRANSPORTS)("inputs checked by an operation's schema over %s", (transport) => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: DurableClient;
  beforeEach(async () => {
    server = await startTestServer(transport);
    client = await connect(server.url);
  });
  afterEach(async () => {
    await client.close();
    await server.stop();
  });

  it("refuses, through the client, an input the schema rejects with bad_request and zod's message, and applies nothing", async () => {
    await expect(client.call("ShoppingCart/bob", "addItem", "not an object")).rejects.toMatchObject({
      code: "bad_request",
      message: "ShoppingCart/bob addItem: input rejected by the schema: Invalid input: expected object, received string",
    });
    await expect(client.signal("ShoppingCart/bob", "addItem", { name: "", price: -1 })).rejects.toMatchObject({
      code: "bad_request",
      message: expect.stringMatching(/name: Too small: .*; price: Too small: expected number to be >=0/),
    });
    await expect(client.call("Stats/bob", "record", "42")).rejects.toMatchObject({ code: "bad_request", message: expect.stringContaining("expected number") });
    expect(await client.getWithVersion("ShoppingCart/bob")).toEqual({ state: null, version: 0 });
    expect(await client.getWithVersion("Stats/bob")).toEqual({ state: null, version: 0 });

    const cart = client.entity<typeof ShoppingCart>("ShoppingCart/bob");
    const seen: Array<[CartState | null, LiveStateInfo]> = [];
    const live = cart.subscribe((state, info) => void seen.push([state, info]));
    await live.ready;
    expect(await cart.call.addItem({ name: "tea", price: 3.5 })).toBe(3.5);
    await expect(cart.call.addItem({ name: "tea", price: "free" } as never)).rejects.toMatchObject({ code: "bad_request" });
    await expect(cart.signal.addItem({ name: "tea", price: 1, quantity: 0.5 })).rejects.toMatchObject({ code: "bad_request" });
    expect(await cart.call.addItem({ name: "tea", price: 3.5, quantity: 2 })).toBe(10.5);
    const expected: CartState = { items: [{ name: "tea", price: 3.5, quantity: 3 }], total: 10.5 };
    expect(await client.getWithVersion("ShoppingCart/bob")).toEqual({ state: expected, version: 2 });
    // Subscribers see contiguous versions: the refused operations made none.
    await expect.poll(() => seen.length).toBe(3);
    expect(seen.map(([, info]) => info.version)).toEqual([0, 1, 2]);
    expect(seen[2]?.[0]).toEqual(expected);
    await live.close();
  });

  it("refuses, in the client, an input that is not JSON, naming the value; nothing reaches the server", async () => {
    await expect(client.call("ShoppingCart/fn", "addItem", () => ({ name: "tea", price: 1 }))).rejects.toMatchObject({
      code: "bad_request",
      message: "the input cannot be encoded as JSON: input is a function, which JSON cannot carry",
    });
    await expect(client.signal("ShoppingCart/fn", "addItem", { name: "tea", price: Number.NaN })).rejects.toMatchObject({
      code: "bad_request",
      message: expect.stringContaining("input.price is NaN"),
    });
    await expect(client.signal("Counter/fn", "add", { by: new Map() })).rejects.toMatchObject({ message: expect.stringContaining("input.by is a Map") });
    expect(await client.getWithVersion("ShoppingCart/fn")).toEqual({ state: null, version: 0 });
    expect(await client.getWithVersion("Counter/fn")).toEqual({ state: null, version: 0 });
  });

  it("refuses raw call and signal frames whose input the schema rejects, and applies nothing", async () => {
    const peer = await RawSocket.greeted(server.port, "raw-validation");
    peer.send({ type: "call", id: 1, entity: "ShoppingCart/raw", op: "addItem", input: { name: "tea", price: 2 } });
    expect(await peer.waitFor((f) => f.id === 1)).toMatchObject({ type: "result", value: 2 });
    peer.send([
      { type: "call", id: 2, entity: "ShoppingCart/raw", op: "addItem", input: "not an object" },
      { type: "signal", id: 3, entity: "ShoppingCart/raw", op: "addItem", input: { name: "tea", price: "2" } },
      { type: "call", id: 4, entity: "ShoppingCart/raw", op: "removeItem", input: "" },
      { type: "call", id: 5, entity: "ShoppingCart/raw", op: "addItem" },
      { type: "get", id: 6, entity: "ShoppingCart/raw" },
    ]);
    const state = await peer.waitFor((f) => f.type === "state" && f.id === 6);
    expect(state).toMatchObject({ version: 1, state: { items: [{ name: "tea", price: 2, quantity: 1 }], total: 2 } });
    const errors = peer.frames.filter((f) => f.type === "error");
    for (const id of [2, 3, 4, 5]) {
      const error = errors.find((e) => e.id === id || (Array.isArray(e.ids) && e.ids.includes(id)));
      expect(error, `the error for request ${id}`).toMatchObject({ code: "bad_request", message: expect.stringContaining("input rejected by the schema") });
    }
    expect(String(errors.find((e) => e.id === 3 || (Array.isArray(e.ids) && e.ids.includes(3)))?.message)).toContain("price: Invalid input: expected number, received string");
    peer.close();
  });
});
