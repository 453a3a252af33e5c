import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { request as httpRequest, Agent } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../clients/index.js";
import * as app from "../fixtures/durable-http-app.js";
import { durableApi, type DurableApi } from "./support/durable-http.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

const LINK_KEYS = ["id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri"];

/** Runs a command line, resolving with its stdout. */
function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(file, args, (error, stdout) => (error ? reject(error) : resolve(stdout))));
}

describe.each(TRANSPORTS)("Durable Functions' HTTP API for orchestrations over %s", (transport) => {
  let server: TestServer;
  let api: DurableApi;

  beforeAll(async () => {
    server = await startTestServer(transport, { app });
    api = durableApi(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("runs the asynchronous HTTP pattern: start HelloSequence, poll Location until 200, read the output", async () => {
    const started = await api.post("/orchestrators/HelloSequence");
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.keys(started.body)).toEqual(LINK_KEYS);
    const instance = `${api.base}/instances/${id}`;
    expect(started.body).toEqual({
      id,
      statusQueryGetUri: `${instance}?taskHub=default`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?taskHub=default`,
      terminatePostUri: `${instance}/terminate?reason={text}&taskHub=default`,
      purgeHistoryDeleteUri: `${instance}?taskHub=default`,
      restartPostUri: `${instance}/restart?taskHub=default`,
      suspendPostUri: `${instance}/suspend?reason={text}&taskHub=default`,
      resumePostUri: `${instance}/resume?reason={text}&taskHub=default`,
    });
    expect(started.headers.get("location")).toBe(started.body.statusQueryGetUri);
    expect(started.headers.get("retry-after")).toBe("10");
    const done = await api.pollUntilDone(started.headers.get("location")!);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ name: "HelloSequence", instanceId: id, runtimeStatus: "Completed", input: null, customStatus: null, output: ["Hello Tokyo!", "Hello Seattle!", "Hello London!"] });
    expect(done.body.createdTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(done.body.lastUpdatedTime).toMatch(/Z$/);
    expect(done.body).not.toHaveProperty("historyEvents");
  });

  it("answers 202 with Location and Retry-After: 5 while an instance runs", async () => {
    const started = await api.post("/orchestrators/ApprovalWorkflow", { json: { timeoutSeconds: 3600 } });
    const status = await api.get(started.body.statusQueryGetUri);
    expect(status.status).toBe(202);
    expect(status.headers.get("location")).toBe(started.body.statusQueryGetUri);
    expect(status.headers.get("retry-after")).toBe("5");
    expect(status.body).toMatchObject({ runtimeStatus: "Running", input: { timeoutSeconds: 3600 }, output: null });
    expect((await api.post(`/instances/${started.body.id}/terminate`)).status).toBe(202);
  });

  it.skipIf(!existsSync("/usr/bin/curl"))("takes the seed's curl line for ApprovalEvent against ApprovalWorkflow", async () => {
    const started = await api.post("/orchestrators/ApprovalWorkflow", { json: { timeoutSeconds: 3600 } });
    const instanceId = started.body.id as string;
    // The seed's line, with the port of this server: curl -d "true" http://localhost:7071/runtime/webhooks/durabletask/instances/{instanceId}/raiseEvent/ApprovalEvent -H "Content-Type: application/json"
    const url = `http://localhost:${server.port}/runtime/webhooks/durabletask/instances/${instanceId}/raiseEvent/ApprovalEvent`;
    const code = await run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-d", "true", url, "-H", "Content-Type: application/json"]);
    expect(code).toBe("202");
    const done = await api.pollUntilDone(started.body.statusQueryGetUri);
    expect(done.body).toMatchObject({ runtimeStatus: "Completed", output: { approved: true } });
  });

  it("with ?timeout= answers 200 with the output directly; with too short a wait, the 202", async () => {
    const quick = await api.post("/orchestrators/HelloSequence?timeout=10&pollingInterval=1");
    expect(quick.status).toBe(200);
    expect(quick.body).toEqual(["Hello Tokyo!", "Hello Seattle!", "Hello London!"]);
    const slow = await api.post("/orchestrators/ApprovalWorkflow?timeout=0.2&pollingInterval=0.1", { json: { timeoutSeconds: 3600 } });
    expect(slow.status).toBe(202);
    expect(Object.keys(slow.body)).toEqual(LINK_KEYS);
    await api.post(`/instances/${slow.body.id}/terminate`);
    const failing = await api.post("/orchestrators/GatedSequence?timeout=10");
    expect(failing.status).toBe(200);
    expect(failing.body).toMatchObject({ runtimeStatus: "Failed", output: expect.stringContaining("the gate is closed") });
    const failing500 = await api.post("/orchestrators/GatedSequence?timeout=10&returnInternalServerErrorOnFailure=true");
    expect(failing500.status).toBe(500);
    expect(failing500.body.runtimeStatus).toBe("Failed");
    expect((await api.post("/orchestrators/HelloSequence?timeout=1&pollingInterval=2")).status).toBe(400);
  });

  it("starts with the instance id given, and refuses it (409) while that instance runs", async () => {
    const id = `approval-${transport}`;
    const first = await api.post(`/orchestrators/ApprovalWorkflow/${id}`, { json: { timeoutSeconds: 3600 } });
    expect(first.status).toBe(202);
    expect(first.body.id).toBe(id);
    const again = await api.post(`/orchestrators/ApprovalWorkflow/${id}`, { json: null });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: "instance_exists", message: expect.stringContaining(id) });
    await api.post(`/instances/${id}/terminate?reason=done`);
    expect((await api.post(`/orchestrators/ApprovalWorkflow/${id}?timeout=0.1`)).status).toBe(202); // a finished instance's id starts it anew
    await api.post(`/instances/${id}/terminate`);
  });

  it("terminates (the reason is the output), then answers 410 to what a finished instance cannot take", async () => {
    const started = await api.post("/orchestrators/ApprovalWorkflow", { json: { timeoutSeconds: 3600 } });
    const id = started.body.id as string;
    const terminated = await api.post(`/instances/${id}/terminate?reason=${encodeURIComponent("no longer needed")}`);
    expect(terminated).toMatchObject({ status: 202, text: "" });
    const status = await api.get(`/instances/${id}`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ runtimeStatus: "Terminated", output: "no longer needed" });
    expect((await api.post(`/instances/${id}/terminate`)).status).toBe(410);
    expect((await api.post(`/instances/${id}/suspend`)).status).toBe(410);
    expect((await api.post(`/instances/${id}/resume`)).status).toBe(410);
    const raised = await api.post(`/instances/${id}/raiseEvent/ApprovalEvent`, { json: true });
    expect(raised.status).toBe(410);
    expect(raised.body.error).toBe("instance_finished");
  });

  it("suspends (events wait) and resumes", async () => {
    const started = await api.post("/orchestrators/ApprovalWorkflow", { json: { timeoutSeconds: 3600 } });
    const id = started.body.id as string;
    expect((await api.post(`/instances/${id}/suspend?reason=lunch`)).status).toBe(202);
    const suspended = await api.get(`/instances/${id}`);
    expect(suspended.status).toBe(202);
    expect(suspended.body.runtimeStatus).toBe("Suspended");
    expect((await api.post(`/instances/${id}/raiseEvent/ApprovalEvent`, { json: "ok" })).status).toBe(202);
    expect((await api.get(`/instances/${id}`)).body.runtimeStatus).toBe("Suspended");
    expect((await api.post(`/instances/${id}/resume?reason=back`)).status).toBe(202);
    const done = await api.pollUntilDone(started.body.statusQueryGetUri);
    expect(done.body).toMatchObject({ runtimeStatus: "Completed", output: { approved: "ok" } });
    const history = await api.get(`/instances/${id}?showHistory=true`);
    const types = (history.body.historyEvents as Array<{ EventType: string }>).map((row) => row.EventType);
    expect(types).toEqual(expect.arrayContaining(["ExecutionSuspended", "ExecutionResumed", "EventRaised"]));
  });

  it("rewinds a Failed instance: it runs again from its failed activity", async () => {
    app.gate.open = false;
    const started = await api.post("/orchestrators/GatedSequence");
    const id = started.body.id as string;
    const failed = await api.pollUntilDone(started.body.statusQueryGetUri);
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ runtimeStatus: "Failed", output: expect.stringContaining("the gate is closed for Seattle"), failureDetails: { errorType: expect.any(String) } });
    expect((await api.get(`/instances/${id}?returnInternalServerErrorOnFailure=true`)).status).toBe(500);
    const running = await api.post("/orchestrators/ApprovalWorkflow", { json: { timeoutSeconds: 3600 } });
    const refused = await api.post(`/instances/${running.body.id}/rewind?reason=nothing%20failed`);
    expect(refused.status).toBe(410);
    expect(refused.body.error).toBe("invalid_state");
    await api.post(`/instances/${running.body.id}/terminate`);
    app.gate.open = true;
    try {
      expect((await api.post(`/instances/${id}/rewind?reason=${encodeURIComponent("gate fixed")}`)).status).toBe(202);
      const done = await api.pollUntilDone(started.body.statusQueryGetUri);
      expect(done.body).toMatchObject({ runtimeStatus: "Completed", output: ["Hello Tokyo!", "passed Seattle"] });
      const rows = (await api.get(`/instances/${id}?showHistory=true`)).body.historyEvents as Array<{ EventType: string; FunctionName?: string }>;
      expect(rows.filter((row) => row.EventType === "TaskCompleted").map((row) => row.FunctionName)).toEqual(["SayHello", "Gate"]);
    } finally {
      app.gate.open = false;
    }
    expect((await api.post("/instances/nobody-here/rewind")).status).toBe(404);
  });

  it("restarts: under a new id by default (answered like a start), under its own id once finished", async () => {
    const first = await api.post(`/orchestrators/Echo/echo-${transport}?timeout=10`, { json: { n: 1 } });
    expect(first).toMatchObject({ status: 200, body: { n: 1 } });
    const restarted = await api.post(`/instances/echo-${transport}/restart`);
    expect(restarted.status).toBe(202);
    expect(restarted.headers.get("location")).toBe(restarted.body.statusQueryGetUri);
    expect(restarted.body.id).not.toBe(`echo-${transport}`);
    const done = await api.pollUntilDone(restarted.body.statusQueryGetUri);
    expect(done.body).toMatchObject({ name: "Echo", input: { n: 1 }, output: { n: 1 } });
    const same = await api.post(`/instances/echo-${transport}/restart?restartWithNewInstanceId=false&timeout=10`);
    expect(same).toMatchObject({ status: 200, body: { n: 1 } });
    const running = await api.post("/orchestrators/ApprovalWorkflow", { json: { timeoutSeconds: 3600 } });
    expect((await api.post(`/instances/${running.body.id}/restart?restartWithNewInstanceId=false`)).status).toBe(409);
    await api.post(`/instances/${running.body.id}/terminate`);
    expect((await api.post("/instances/nobody-here/restart")).status).toBe(404);
  });

  it("purges one instance (200, then 404; 409 while it runs) and in bulk (400 without createdTimeFrom, 404 when nothing matched)", async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const done = await api.post(`/orchestrators/Echo/purge-me-${transport}?timeout=10`, { json: 1 });
    expect(done.status).toBe(200);
    expect(await api.delete(`/instances/purge-me-${transport}`)).toMatchObject({ status: 200, body: { instancesDeleted: 1 } });
    expect((await api.delete(`/instances/purge-me-${transport}`)).status).toBe(404);
    expect((await api.get(`/instances/purge-me-${transport}`)).status).toBe(404);
    const running = await api.post("/orchestrators/ApprovalWorkflow", { json: { timeoutSeconds: 3600 } });
    expect((await api.delete(`/instances/${running.body.id}`)).status).toBe(409);

    const missing = await api.delete("/instances");
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/createdTimeFrom/);
    for (let i = 0; i < 5; i++) expect((await api.post(`/orchestrators/Echo/bulk-${transport}-${i}?timeout=10`, { json: i })).status).toBe(200);
    const purged = await api.delete(`/instances?createdTimeFrom=${encodeURIComponent(from)}&runtimeStatus=Completed`);
    expect(purged.status).toBe(200);
    expect(purged.body.instancesDeleted).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < 5; i++) expect((await api.get(`/instances/bulk-${transport}-${i}`)).status).toBe(404);
    expect((await api.get(`/instances/${running.body.id}`)).status).toBe(202); // a running one is never purged
    expect((await api.delete(`/instances?createdTimeFrom=${encodeURIComponent(from)}&runtimeStatus=Completed`)).status).toBe(404);
    await api.post(`/instances/${running.body.id}/terminate`);
  });

  it("shows history as Durable Functions does, and input only when asked", async () => {
    const done = await api.post("/orchestrators/HelloSequence?timeout=10", { json: { who: "me" } });
    expect(done.status).toBe(200);
    const list = await api.get("/instances?runtimeStatus=Completed&top=1000");
    const id = (list.body as Array<{ instanceId: string; input: unknown; name: string }>).find((status) => status.name === "HelloSequence" && (status.input as { who?: string } | null)?.who === "me")!.instanceId;
    const status = await api.get(`/instances/${id}?showHistory=true`);
    const rows = status.body.historyEvents as Array<Record<string, unknown>>;
    expect(rows.map((row) => row.EventType)).toEqual(["ExecutionStarted", "TaskCompleted", "TaskCompleted", "TaskCompleted", "ExecutionCompleted"]);
    expect(rows[0]).toMatchObject({ FunctionName: "HelloSequence", Timestamp: expect.stringMatching(/Z$/) });
    expect(rows[1]).toMatchObject({ FunctionName: "SayHello", ScheduledTime: expect.stringMatching(/Z$/), Timestamp: expect.stringMatching(/Z$/) });
    expect(rows[1]).not.toHaveProperty("Result");
    expect(rows[4]).toMatchObject({ OrchestrationStatus: "Completed" });
    const withOutput = await api.get(`/instances/${id}?showHistory=true&showHistoryOutput=true&showInput=false`);
    expect(withOutput.body.input).toBeNull();
    const outputs = (withOutput.body.historyEvents as Array<Record<string, unknown>>).map((row) => row.Result);
    expect(outputs).toEqual([undefined, "Hello Tokyo!", "Hello Seattle!", "Hello London!", ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]]);
  });

  it("answers bad requests with JSON errors and the right status, never 500 and never a stack trace", async () => {
    const cases: Array<[string, Promise<{ status: number; body: any; text: string }>, number, string]> = [
      ["unknown instance", api.get("/instances/nobody-here"), 404, "not_found"],
      ["unknown orchestrator", api.post("/orchestrators/NoSuchThing"), 404, "unknown_orchestration"],
      ["unknown path", api.get("/nowhere/at/all"), 404, "not_found"],
      ["wrong method", api.request("PUT", "/instances/x"), 405, "bad_request"],
      ["body not JSON", api.post("/orchestrators/HelloSequence", { body: "{oops", headers: { "content-type": "application/json" } }), 400, "bad_request"],
      ["a form, not JSON", api.post("/orchestrators/HelloSequence", { body: "a=1", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415, "bad_request"],
      ["event data not JSON", api.post("/instances/x/raiseEvent/Go", { body: "nope", headers: { "content-type": "application/json" } }), 400, "bad_request"],
      ["raise to unknown instance", api.post("/instances/nobody-here/raiseEvent/Go", { json: 1 }), 404, "not_found"],
      ["reserved event name", api.post("/instances/x/raiseEvent/@lock", { json: 1 }), 400, "bad_request"],
      ["terminate unknown", api.post("/instances/nobody-here/terminate"), 404, "not_found"],
      ["bad boolean", api.get("/instances/x?showHistory=maybe"), 400, "bad_request"],
      ["bad top", api.get("/instances?top=abc"), 400, "bad_request"],
      ["bad status filter", api.get("/instances?runtimeStatus=Sleeping"), 400, "bad_request"],
      ["bad date", api.get("/instances?createdTimeFrom=yesterday"), 400, "bad_request"],
      ["bad timeout", api.post("/orchestrators/HelloSequence?timeout=-1"), 400, "bad_request"],
      ["bad task hub name", api.get("/instances?taskHub=no"), 400, "bad_request"],
      ["bad continuation", api.get("/instances", { headers: { "x-ms-continuation-token": "garbage" } }), 400, "bad_request"],
      ["broken percent-encoding", api.get("/instances/%E0%A4%A"), 400, "bad_request"],
      ["control character in an id", api.get("/instances/a%01b"), 400, "bad_request"],
      ["body over 1 MiB", api.post("/orchestrators/HelloSequence", { body: JSON.stringify("x".repeat(1024 * 1024 + 10)), headers: { "content-type": "application/json" } }), 413, "payload_too_large"],
    ];
    for (const [label, answer, status, code] of cases) {
      const { status: got, body, text } = await answer;
      expect({ label, status: got }).toEqual({ label, status });
      expect({ label, body }).toEqual({ label, body: { error: code, message: expect.any(String) } });
      expect(text).not.toMatch(/\n\s+at /); // no stack
    }
  });

  it("serves instances to the WebSocket client whichever way they were started", async () => {
    const client = await connect(server.url);
    try {
      const viaHttp = await api.post("/orchestrators/HelloSequence?timeout=10");
      expect(viaHttp.status).toBe(200);
      const started = (await api.get("/instances?runtimeStatus=Completed&top=1000")).body as Array<{ instanceId: string }>;
      const status = await client.status(started[0]!.instanceId);
      expect(status).toMatchObject({ runtimeStatus: "Completed" });
      const viaClient = await client.start("HelloSequence");
      await client.waitForCompletion(viaClient, { timeoutMs: 10_000 });
      const seen = await api.get(`/instances/${viaClient}`);
      expect(seen).toMatchObject({ status: 200, body: { instanceId: viaClient, output: ["Hello Tokyo!", "Hello Seattle!", "Hello London!"] } });
      const approval = await api.post("/orchestrators/ApprovalWorkflow", { json: { timeoutSeconds: 3600 } });
      await client.raiseEvent(approval.body.id, "ApprovalEvent", "from the client");
      expect((await api.pollUntilDone(approval.body.statusQueryGetUri)).body.output).toEqual({ approved: "from the client" });
    } finally {
      await client.close();
    }
  });

  it("answers over one kept-alive connection", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const reused: boolean[] = [];
      for (let i = 0; i < 4; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = httpRequest(`${api.base}/orchestrators/HelloSequence?timeout=10`, { method: "POST", agent }, (res) => {
            reused.push(req.reusedSocket);
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          });
          req.on("error", reject);
          req.end();
        });
        expect(status).toBe(200);
      }
      expect(reused).toEqual([false, true, true, true]);
    } finally {
      agent.destroy();
    }
  });
});
