import { describe, expect, it } from "vitest";
import { TokenPolicy } from "../../src/security/index.js";
import * as app from "../fixtures/durable-http-app.js";
import { durableApi } from "./support/durable-http.js";
import { startTestServer } from "./support/test-server.js";

const WRITER = "writer-token-0123456789";
const READER = "reader-token-0123456789";

describe("Durable Functions' HTTP API with access control", () => {
  it("needs a token (401), and answers 403 for what the token's grants do not cover", async () => {
    const access = TokenPolicy.fromTokens({
      tokens: {
        [WRITER]: { name: "writer", grants: [{ entities: "Counter/*", actions: ["signal"] }, { orchestrations: "Hello*", actions: ["start", "status"] }] },
        [READER]: { name: "reader", grants: [{ entities: "*", actions: ["read"] }, { orchestrations: "*", actions: ["status"] }] },
      },
    });
    const server = await startTestServer("uws", { app, access });
    try {
      const api = durableApi(server.url);
      const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
      const anonymous = await api.post("/entities/Counter/a?op=add", { json: 1 });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ error: "unauthorized" });
      expect((await api.post("/entities/Counter/a?op=add", { json: 1, ...as(WRITER) })).status).toBe(202);
      expect(await api.get("/entities/Counter/a", as(READER))).toMatchObject({ status: 200, body: 1 });
      const readByWriter = await api.get("/entities/Counter/a", as(WRITER));
      expect(readByWriter.status).toBe(403);
      expect(readByWriter.body).toEqual({ error: "forbidden", message: expect.stringMatching(/writer may not read Counter\/a/) });
      expect((await api.post("/entities/Counter/a?op=add", { json: 1, ...as(READER) })).status).toBe(403);
      expect((await api.get("/entities/Counter", as(READER))).status).toBe(200);

      const started = await api.post("/orchestrators/HelloSequence?timeout=10", as(WRITER));
      expect(started.status).toBe(200);
      expect((await api.post("/orchestrators/ApprovalWorkflow", as(WRITER))).status).toBe(403);
      const list = await api.get("/instances", as(READER));
      expect(list.status).toBe(200);
      const id = (list.body as Array<{ instanceId: string }>)[0]!.instanceId;
      expect((await api.get(`/instances/${id}`, as(WRITER))).status).toBe(200);
      const purgeByReader = await api.delete(`/instances/${id}`, as(READER));
      expect(purgeByReader.status).toBe(403); // purging is managing
      expect(purgeByReader.body).toEqual({ error: "forbidden", message: `reader may not manage instance ${id}` }); // the instance, never its orchestration's name
      expect((await api.get("/instances", as(WRITER))).status).toBe(403); // listing every orchestration
      expect((await api.get("/instances/nobody-here", as(WRITER))).status).toBe(403); // only a grant on * learns it does not exist
      expect((await api.get("/instances/nobody-here", as(READER))).status).toBe(404);

      // A token in the query (a link a browser opened) is not copied into the links the answer gives.
      const byQuery = await api.post(`/orchestrators/HelloSequence?token=${WRITER}&x=1`);
      expect(byQuery.status).toBe(202);
      expect(byQuery.headers.get("location")).not.toContain(WRITER);
      expect(JSON.stringify(byQuery.body)).not.toContain(WRITER);
      // Errors below the prefix keep Durable Functions' shape, a URL over the limit's too.
      const long = await api.get(`/instances/x?pad=${"p".repeat(9000)}`, as(READER));
      expect(long).toMatchObject({ status: 414, body: { error: "bad_request" } });
    } finally {
      await server.stop();
    }
  });
});
