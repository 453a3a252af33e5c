import { existsSync } from "node:fs";
import { join } from "node:path";
import * as df from "durable-functions";
import type { InvocationContext } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { checkStatusPayload } from "../../src/index.js";
import { TokenPolicy } from "../../src/security/index.js";
import * as app from "../fixtures/durable-http-app.js";
import { durableApi } from "./support/durable-http.js";
import { startTestServer } from "./support/test-server.js";

/** Durable Functions' own client with its rpcBaseUrl at `serverUrl` (as durable-http-df-client.test.ts makes it). */
function durableFunctionsClient(serverUrl: string): df.DurableClient {
  const rpcBaseUrl = `${serverUrl}/runtime/webhooks/durabletask/`;
  const clientData = {
    taskHubName: "default",
    creationUrls: { createNewInstancePostUri: `${rpcBaseUrl}orchestrators/{functionName}[/{instanceId}]?taskHub=default`, createAndWaitOnNewInstancePostUri: "" },
    managementUrls: checkStatusPayload(new Request(`${serverUrl}/`), "INSTANCEID", { taskHub: "default" }),
    baseUrl: rpcBaseUrl,
    requiredQueryStringParameters: "",
    rpcBaseUrl,
  };
  const binding = df.input.durableClient();
  const context = { options: { extraInputs: [binding] }, extraInputs: { get: () => clientData } } as unknown as InvocationContext;
  return df.getClient(context);
}

const hubDir = (dataDir: string, name: string) => join(dataDir, "hubs", name);

describe("Durable Functions' HTTP API under attack", () => {
  it("never creates a task hub for a request that only reads or acts on what exists, so reads cannot use up --max-hubs", async () => {
    const server = await startTestServer("uws", { app, maxHubs: 3 });
    try {
      const api = durableApi(server.url);
      for (let i = 0; i < 6; i++) {
        const hub = `junk${i}`;
        const status = await api.get(`/instances/some-id?taskHub=${hub}`);
        expect(status.status).toBe(404);
        expect(status.body).toMatchObject({ error: "not_found" });
        expect(await api.get(`/instances?taskHub=${hub}`)).toMatchObject({ status: 200, body: [] }); // nothing there: an empty page
        expect((await api.get(`/entities/Counter/x?taskHub=${hub}`)).status).toBe(404);
        expect((await api.post(`/instances/some-id/terminate?taskHub=${hub}`)).status).toBe(404);
        expect((await api.delete(`/instances/some-id?taskHub=${hub}`)).status).toBe(404);
        expect((await api.delete(`/instances?createdTimeFrom=2020-01-01&taskHub=${hub}`)).status).toBe(404);
        expect(existsSync(hubDir(server.dataDir, hub))).toBe(false);
      }
      // The hubs a deployment uses are still there to be had: a signal creates one, and then it reads.
      expect((await api.post("/entities/Counter/x?op=add&taskHub=green", { json: 2 })).status).toBe(202);
      expect(await api.get("/entities/Counter/x?taskHub=green")).toMatchObject({ status: 200, body: 2 });
      expect((await api.post("/orchestrators/Echo/e1?taskHub=blue&timeout=10", { json: "hi" })).status).toBe(200);
      expect(await api.get("/instances?taskHub=blue")).toMatchObject({ status: 200, body: [{ instanceId: "e1" }] });
    } finally {
      await server.stop();
    }
  });

  it("creates no task hub for a start or a signal the token may not make, nor for an unknown orchestrator or entity type", async () => {
    const VIEWER = "viewer-token-0123456789";
    const access = TokenPolicy.fromTokens({ tokens: { [VIEWER]: { name: "viewer", grants: [{ entities: "Stats/page-views", actions: ["read"] }] } } });
    const server = await startTestServer("uws", { app, access });
    try {
      const api = durableApi(server.url);
      const as = { headers: { authorization: `Bearer ${VIEWER}` } };
      expect((await api.post("/orchestrators/HelloSequence?taskHub=spam1", as)).status).toBe(403);
      expect((await api.post("/entities/Counter/x?op=add&taskHub=spam2", { json: 1, ...as })).status).toBe(403);
      expect((await api.get("/entities/Stats/page-views?taskHub=spam3", as)).status).toBe(404); // allowed, and nothing there
      for (const hub of ["spam1", "spam2", "spam3"]) expect(existsSync(hubDir(server.dataDir, hub))).toBe(false);
    } finally {
      await server.stop();
    }
    const open = await startTestServer("uws", { app });
    try {
      const api = durableApi(open.url);
      expect((await api.post("/orchestrators/NoSuchOrchestrator?taskHub=spam4")).status).toBe(404);
      expect((await api.post("/entities/NoSuchType/x?op=add&taskHub=spam5", { json: 1 })).status).toBe(404);
      for (const hub of ["spam4", "spam5"]) expect(existsSync(hubDir(open.dataDir, hub))).toBe(false);
    } finally {
      await open.stop();
    }
  });

  it("does not let a token that may start one orchestration replace (or probe) an instance of another under the same id", async () => {
    const ADMIN = "admin-token-0123456789";
    const HELLO = "hello-token-0123456789";
    const access = TokenPolicy.fromTokens({
      tokens: {
        [ADMIN]: { name: "admin", grants: [{ orchestrations: "*", actions: ["*"] }] },
        [HELLO]: { name: "hello", grants: [{ orchestrations: "HelloSequence", actions: ["start", "status"] }] },
      },
    });
    const server = await startTestServer("uws", { app, access });
    try {
      const api = durableApi(server.url);
      const admin = { headers: { authorization: `Bearer ${ADMIN}` } };
      const hello = { headers: { authorization: `Bearer ${HELLO}` } };
      expect(await api.post("/orchestrators/Echo/payroll?timeout=10", { json: "the payroll's output", ...admin })).toMatchObject({ status: 200, body: "the payroll's output" });
      const replaced = await api.post("/orchestrators/HelloSequence/payroll", hello);
      expect(replaced.status).toBe(403);
      expect(replaced.body).toMatchObject({ error: "forbidden" });
      expect(await api.get("/instances/payroll", admin)).toMatchObject({ status: 200, body: { name: "Echo", output: "the payroll's output" } });
      // A running instance of another orchestration: 403 too, not a 409 that says it runs.
      expect((await api.post("/orchestrators/ApprovalWorkflow/pending-approval", { json: { timeoutSeconds: 3600 }, ...admin })).status).toBe(202);
      expect((await api.post("/orchestrators/HelloSequence/pending-approval", hello)).status).toBe(403);
      // Its own orchestration's finished instance it may start anew, as Durable Functions does.
      expect((await api.post("/orchestrators/HelloSequence/mine?timeout=10", hello)).status).toBe(200);
      expect((await api.post("/orchestrators/HelloSequence/mine?timeout=10", hello)).status).toBe(200);
      await api.post("/instances/pending-approval/terminate", admin);
    } finally {
      await server.stop();
    }
  });

  it("takes instance ids with a % that is not an escape, as Durable Functions does (its own client sends them raw)", async () => {
    const server = await startTestServer("uws", { app });
    try {
      const client = durableFunctionsClient(server.url);
      for (const id of ["50% off", "100%", "a%zz", "%"]) {
        expect(await client.startNew("Echo", { instanceId: id, input: id })).toBe(id);
        const deadline = Date.now() + 10_000;
        let status = await client.getStatus(id);
        while (status.runtimeStatus !== "Completed" && Date.now() < deadline) status = await client.getStatus(id);
        expect(status).toMatchObject({ instanceId: id, output: id });
      }
      const api = durableApi(server.url);
      expect((await api.get("/instances/100%25")).body).toMatchObject({ instanceId: "100%" }); // the escape still decodes
      expect((await api.get("/instances/x%E2%9C")).status).toBe(400); // escapes that are not UTF-8 are still refused
      expect(await api.post("/orchestrators/Echo/a%2Fb?timeout=10", { json: 1 })).toMatchObject({ status: 200, body: 1 }); // an encoded slash is part of the id
      expect((await api.get("/instances/a%2Fb")).body).toMatchObject({ instanceId: "a/b" });
    } finally {
      await server.stop();
    }
  });
});
