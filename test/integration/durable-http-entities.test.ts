import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../clients/index.js";
import * as app from "../fixtures/durable-http-app.js";
import { durableApi, type DurableApi } from "./support/durable-http.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

describe.each(TRANSPORTS)("Durable Functions' HTTP API for entities over %s", (transport) => {
  let server: TestServer;
  let api: DurableApi;

  beforeAll(async () => {
    server = await startTestServer(transport, { app });
    api = durableApi(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("signals (202 once durable), reads (200 with the state, 404 before it exists) and deletes", async () => {
    expect((await api.get("/entities/Counter/alice")).status).toBe(404);
    const signalled = await api.post("/entities/Counter/alice?op=add", { json: 5 });
    expect(signalled).toMatchObject({ status: 202, text: "" });
    const read = await api.get("/entities/Counter/alice");
    expect(read.status).toBe(200);
    expect(read.headers.get("content-type")).toMatch(/^application\/json/);
    expect(read.text).toBe("5");
    expect((await api.post("/entities/Counter/alice?op=reset")).status).toBe(202); // no body: no input
    expect((await api.get("/entities/Counter/alice")).body).toBe(0);
    expect((await api.delete("/entities/Counter/alice")).status).toBe(202); // signals its delete operation
    expect((await api.get("/entities/Counter/alice")).status).toBe(404);
    // A type without a delete operation has its state deleted all the same.
    expect((await api.post("/entities/Note/n1?op=write", { json: "hello" })).status).toBe(202);
    expect((await api.get("/entities/Note/n1")).body).toBe("hello");
    expect((await api.delete("/entities/Note/n1")).status).toBe(202);
    expect((await api.get("/entities/Note/n1")).status).toBe(404);
  });

  it("matches entity type names without regard to case, as Durable Functions lowercases them", async () => {
    expect((await api.post("/entities/counter/bob?op=add", { json: 2 })).status).toBe(202);
    expect((await api.post("/entities/COUNTER/bob?op=add", { json: 3 })).status).toBe(202);
    expect((await api.get("/entities/cOuNtEr/bob")).body).toBe(5);
    const client = await connect(server.url);
    try {
      expect(await client.get("Counter/bob")).toBe(5); // the same entity the WebSocket client sees
      await client.signal("Counter/bob", "add", 1);
      expect((await api.get("/entities/counter/bob")).body).toBe(6);
    } finally {
      await client.close();
    }
  });

  it("a signal whose operation throws is still 202; an input the schema refuses is 400", async () => {
    expect((await api.post("/entities/Counter/carol?op=add", { json: "not a number" })).status).toBe(202);
    const refused = await api.post("/entities/ShoppingCart/dan?op=addItem", { json: { name: "tea", price: "three" } });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: "bad_request", message: expect.stringMatching(/price/) });
    expect((await api.post("/entities/ShoppingCart/dan?op=addItem", { json: { name: "tea", price: 3 } })).status).toBe(202);
    expect((await api.get("/entities/shoppingcart/dan")).body).toMatchObject({ total: 3 });
  });

  it("answers bad entity requests with JSON errors", async () => {
    const cases: Array<[string, Promise<{ status: number; body: any }>, number, string]> = [
      ["unknown type (signal)", api.post("/entities/Nope/x?op=add", { json: 1 }), 404, "unknown_entity"],
      ["unknown type (read)", api.get("/entities/Nope/x"), 404, "unknown_entity"],
      ["unknown type (list)", api.get("/entities/Nope"), 404, "unknown_entity"],
      ["unknown operation", api.post("/entities/Counter/x?op=fly", { json: 1 }), 400, "unknown_operation"],
      ["no operation", api.post("/entities/Counter/x", { json: 1 }), 400, "bad_request"],
      ["input not JSON", api.post("/entities/Counter/x?op=add", { body: "{", headers: { "content-type": "application/json" } }), 400, "bad_request"],
      ["input of another type", api.post("/entities/Counter/x?op=add", { body: "1", headers: { "content-type": "application/octet-stream" } }), 415, "bad_request"],
      ["a key with a control character", api.get("/entities/Counter/a%00b"), 400, "bad_request"],
      ["wrong method", api.request("PUT", "/entities/Counter/x"), 405, "bad_request"],
      ["bad fetchState", api.get("/entities/Counter?fetchState=yes"), 400, "bad_request"],
      ["bad continuation", api.get("/entities/Counter", { headers: { "x-ms-continuation-token": "bm9wZQ" } }), 400, "bad_request"],
    ];
    for (const [label, answer, status, code] of cases) {
      const { status: got, body } = await answer;
      expect({ label, status: got, body }).toEqual({ label, status, body: { error: code, message: expect.any(String) } });
    }
  });

  it("lists a type's entities with their last operation time, state on request, paged by x-ms-continuation-token", async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 25; i++) expect((await api.post(`/entities/Stats/s${String(i).padStart(2, "0")}?op=record`, { json: i })).status).toBe(202);
    const first = await api.get("/entities/stats?top=10&fetchState=true");
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(10);
    expect(first.body[0]).toEqual({ entityId: { name: "Stats", key: "s00" }, lastOperationTime: expect.stringMatching(/Z$/), state: expect.objectContaining({ count: 1, sum: 0 }) });
    const keys: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const page = await api.get("/entities/Stats?top=10", token === null ? {} : { headers: { "x-ms-continuation-token": token } });
      expect(page.status).toBe(200);
      for (const item of page.body as Array<{ entityId: { key: string }; state?: unknown }>) {
        expect(item).not.toHaveProperty("state");
        keys.push(item.entityId.key);
      }
      token = page.headers.get("x-ms-continuation-token");
      pages++;
    } while (token !== null);
    expect(pages).toBe(3);
    expect(keys).toEqual(Array.from({ length: 25 }, (_, i) => `s${String(i).padStart(2, "0")}`));
    const exact = await api.get("/entities/Stats?top=25");
    expect(exact.headers.get("x-ms-continuation-token")).toBeNull(); // a last page that is full carries no token
    const recent = await api.get(`/entities/Stats?lastOperationTimeFrom=${encodeURIComponent(before)}&top=1000`);
    expect(recent.body).toHaveLength(25);
    const future = await api.get(`/entities/Stats?lastOperationTimeFrom=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.body).toEqual([]);
  });
});
