import * as df from "durable-functions";
import type { InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkStatusPayload } from "../../src/index.js";
import * as app from "../fixtures/durable-http-app.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/**
 * Durable Functions' own JavaScript client (`durable-functions` on npm), made the way an Azure
 * Functions host makes it (`df.getClient(context)` reading its durable client binding), with its
 * `rpcBaseUrl` pointing at this server's HTTP API.
 */
function durableFunctionsClient(serverUrl: string): df.DurableClient {
  const rpcBaseUrl = `${serverUrl}/runtime/webhooks/durabletask/`;
  const management = checkStatusPayload(new Request(`${serverUrl}/`), "INSTANCEID", { taskHub: "default" });
  const clientData = {
    taskHubName: "default",
    creationUrls: { createNewInstancePostUri: `${rpcBaseUrl}orchestrators/{functionName}[/{instanceId}]?taskHub=default`, createAndWaitOnNewInstancePostUri: "" },
    managementUrls: management,
    baseUrl: rpcBaseUrl,
    requiredQueryStringParameters: "",
    rpcBaseUrl,
  };
  const binding = df.input.durableClient();
  const context = { options: { extraInputs: [binding] }, extraInputs: { get: () => clientData } } as unknown as InvocationContext;
  return df.getClient(context);
}

describe.each(TRANSPORTS)("Durable Functions' own JavaScript client against this server over %s", (transport) => {
  let server: TestServer;
  let client: df.DurableClient;

  beforeAll(async () => {
    server = await startTestServer(transport, { app });
    client = durableFunctionsClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function waitForStatus(instanceId: string, wanted: string): Promise<df.DurableOrchestrationStatus> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const status = await client.getStatus(instanceId);
      if (status.runtimeStatus === wanted) return status;
      if (Date.now() > deadline) throw new Error(`${instanceId} is ${status.runtimeStatus}, not ${wanted}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("startNew and getStatus", async () => {
    const id = await client.startNew("HelloSequence");
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const status = await waitForStatus(id, "Completed");
    expect(status).toMatchObject({ name: "HelloSequence", instanceId: id, output: ["Hello Tokyo!", "Hello Seattle!", "Hello London!"] });
    expect(status.createdTime).toBeInstanceOf(Date);
    const named = await client.startNew("Echo", { instanceId: `df-echo-${transport}`, input: { from: "df" } });
    expect(named).toBe(`df-echo-${transport}`);
    expect((await waitForStatus(named, "Completed")).output).toEqual({ from: "df" });
    await expect(client.getStatus("nobody-here")).rejects.toThrow(/404/);
  });

  it("raiseEvent, and getStatusBy across pages", async () => {
    const from = new Date();
    const id = await client.startNew("ApprovalWorkflow", { input: { timeoutSeconds: 3600 } });
    await waitForStatus(id, "Running");
    await client.raiseEvent(id, "ApprovalEvent", true);
    expect((await waitForStatus(id, "Completed")).output).toEqual({ approved: true });
    await client.raiseEvent(id, "ApprovalEvent", true); // 410 for a finished instance counts as done for this client
    await expect(client.raiseEvent("nobody-here", "ApprovalEvent", true)).rejects.toThrow(/nobody-here/);
    for (let i = 0; i < 120; i++) await client.startNew("Echo", { instanceId: `df-many-${transport}-${i}`, input: i });
    const deadline = Date.now() + 10_000;
    let listed: df.DurableOrchestrationStatus[] = [];
    do {
      listed = await client.getStatusBy({ createdTimeFrom: from, runtimeStatus: [df.OrchestrationRuntimeStatus.Completed] });
    } while (listed.length < 121 && Date.now() < deadline);
    // It follows x-ms-continuation-token over two pages of 100 (instances of the earlier tests were created before `from`).
    expect(listed.length).toBe(121);
    expect(new Set(listed.map((status) => status.instanceId))).toEqual(new Set([id, ...Array.from({ length: 120 }, (_, i) => `df-many-${transport}-${i}`)]));
  });

  it("terminate, suspend, resume and rewind", async () => {
    const id = await client.startNew("ApprovalWorkflow", { input: { timeoutSeconds: 3600 } });
    await waitForStatus(id, "Running");
    await client.suspend(id, "a pause");
    await waitForStatus(id, "Suspended");
    await client.resume(id, "go on");
    await waitForStatus(id, "Running");
    await client.terminate(id, "enough");
    expect((await waitForStatus(id, "Terminated")).output).toBe("enough");
    await client.terminate(id, "again"); // 410: already finished, which this client takes as done
    await expect(client.terminate("nobody-here", "x")).rejects.toThrow(/nobody-here/);
    app.gate.open = false;
    const failing = await client.startNew("GatedSequence");
    await waitForStatus(failing, "Failed");
    app.gate.open = true;
    try {
      await client.rewind(failing, "fixed");
      expect((await waitForStatus(failing, "Completed")).output).toEqual(["Hello Tokyo!", "passed Seattle"]);
    } finally {
      app.gate.open = false;
    }
  });

  it("purgeInstanceHistory", async () => {
    const id = await client.startNew("Echo", { input: "to purge" });
    await waitForStatus(id, "Completed");
    expect(await client.purgeInstanceHistory(id)).toMatchObject({ instancesDeleted: 1 });
    expect(await client.purgeInstanceHistory(id)).toMatchObject({ instancesDeleted: 0 }); // 404
    await expect(client.getStatus(id)).rejects.toThrow(/404/);
  });

  it("signalEntity and readEntityState", async () => {
    const counter = new df.EntityId("Counter", `df-${transport}`);
    const before = await client.readEntityState<number>(counter);
    expect(before.entityExists).toBe(false);
    await client.signalEntity(counter, "add", 4);
    await client.signalEntity(new df.EntityId("counter", `df-${transport}`), "add", 3); // names match without regard to case
    const after = await client.readEntityState<number>(counter);
    expect(after).toMatchObject({ entityExists: true, entityState: 7 });
  });
});
