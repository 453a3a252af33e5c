import { afterEach, describe, expect, it } from "vitest";
import { connect, type DurableClient, type InstanceStatus, type WebSocketLike } from "../../clients/index.js";
import { openWebSocket } from "../../clients/web-socket.js";
import * as app from "../fixtures/orchestration-app.js";
import { Approval, Greetings, Sleeper } from "../fixtures/orchestration-app.js";
import { createLogger } from "../../src/log.js";
import { TcpProxy } from "./support/tcp-proxy.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";
import { until } from "./support/until.js";

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/** A real WebSocket whose incoming messages can be dropped, as if the server's answers were lost. */
class DeafSocket implements WebSocketLike {
  deaf = false;
  onopen: WebSocketLike["onopen"] = null;
  onmessage: WebSocketLike["onmessage"] = null;
  onclose: WebSocketLike["onclose"] = null;
  onerror: WebSocketLike["onerror"] = null;

  constructor(private readonly inner: WebSocketLike) {
    inner.onopen = (event) => this.onopen?.(event);
    inner.onmessage = (event) => this.deaf || this.onmessage?.(event);
    inner.onclose = (event) => this.onclose?.(event);
    inner.onerror = (event) => this.onerror?.(event);
  }

  get readyState(): number {
    return this.inner.readyState;
  }

  send(data: string): void {
    this.inner.send(data);
  }

  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }
}

const WAIT = { timeoutMs: 20_000 };

/** Reads until `accept` holds (another client's view of what a deaf client's requests did). */
async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(TRANSPORTS)("orchestrations through the client, against a real server over %s", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function server(): Promise<TestServer> {
    const started = await startTestServer(transport, { app, log: createLogger("error") }); // Doomed's activity failure logs a warning
    cleanups.push(() => started.stop());
    return started;
  }

  async function client(url: string, options: Parameters<typeof connect>[1] = {}): Promise<DurableClient> {
    const connected = await connect(url, { onError: () => {}, ...options });
    cleanups.push(() => connected.close());
    return connected;
  }

  /** A client whose sockets can be made deaf (answers dropped), and the sockets it opened. */
  async function deafClient(url: string): Promise<{ client: DurableClient; sockets: DeafSocket[] }> {
    const sockets: DeafSocket[] = [];
    const webSocket = async (target: string) => {
      const socket = new DeafSocket(await openWebSocket(target));
      sockets.push(socket);
      return socket;
    };
    return { client: await client(url, { webSocket, disconnectTimeoutMs: 30_000 }), sockets };
  }

  it("starts by definition and by name, waits for the output, and reads the status and the history", async () => {
    const { url } = await server();
    const c = await client(url);
    const id = await c.start(Greetings, ["Tokyo", "Seattle"]);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const done = await c.waitForCompletion<typeof Greetings>(id, WAIT);
    expect(done).toMatchObject({ name: "Greetings", instanceId: id, runtimeStatus: "Completed", input: ["Tokyo", "Seattle"], output: ["Hello Tokyo!", "Hello Seattle!"] });
    expect(await c.status<typeof Greetings>(id)).toEqual(done);

    const history = await c.history(id);
    expect(history.map((event) => event.type).filter((type) => type !== "OrchestratorStarted" && type !== "OrchestratorCompleted")).toEqual([
      "ExecutionStarted",
      "TaskScheduled",
      "TaskCompleted",
      "TaskScheduled",
      "TaskCompleted",
      "ExecutionCompleted",
    ]);
    expect(history.find((event) => event.type === "TaskCompleted")).toMatchObject({ taskScheduledId: 0, result: "Hello Tokyo!" });

    expect(await c.start<typeof Greetings>("Greetings", ["Oslo"], { instanceId: "greet-fixed" })).toBe("greet-fixed");
    expect((await c.waitForCompletion<typeof Greetings>("greet-fixed", WAIT)).output).toEqual(["Hello Oslo!"]);

    const parent = await c.start(app.Parent, ["Lima"], { instanceId: "parent-1" });
    expect(await c.waitForCompletion(parent, WAIT)).toMatchObject({ runtimeStatus: "Completed", output: 1 });
    expect(await c.status("parent-1-child")).toMatchObject({ parentInstanceId: "parent-1", runtimeStatus: "Completed" });

    expect(await c.status("nobody")).toBeNull();
    await expect(c.history("nobody")).rejects.toMatchObject({ code: "not_found" });
    await expect(c.waitForCompletion("nobody", WAIT)).rejects.toMatchObject({ code: "not_found" });
    await expect(c.start("NoSuchOrchestration")).rejects.toMatchObject({ code: "unknown_orchestration" });
    await expect(c.start("Greetings", [], { instanceId: "bad\u0000id" })).rejects.toMatchObject({ code: "bad_request" });
  });

  it("raises events, suspends and resumes, and watches every status change", async () => {
    const { url } = await server();
    const c = await client(url);
    const id = await c.start(Approval, { requester: "ann" }, { instanceId: "approval-1" });
    const seen: Array<[string, unknown]> = [];
    const watch = c.watch<typeof Approval>(id, (status) => status && seen.push([status.runtimeStatus, status.customStatus]));
    await watch.ready;
    await until(() => seen.some(([, custom]) => custom === "waiting"));

    await c.suspend(id, "hold on");
    expect(await c.status(id)).toMatchObject({ runtimeStatus: "Suspended" });
    await c.raiseEvent(id, "approve", { approved: true }); // kept until resumed
    expect(await c.status(id)).toMatchObject({ runtimeStatus: "Suspended", customStatus: "waiting" });
    await c.resume(id, "go on");
    const done = await c.waitForCompletion<typeof Approval>(id, WAIT);
    expect(done.runtimeStatus === "Completed" && done.output).toEqual({ requester: "ann", approved: true });
    await until(() => seen.at(-1)?.[0] === "Completed");
    expect(seen.map(([status]) => status).filter((status, i, all) => status !== all[i - 1])).toEqual(["Running", "Suspended", "Completed"]); // resumed and completed in one turn
    expect(seen.at(-1)).toEqual(["Completed", "decided"]);
    await watch.close();

    const history = await c.history(id);
    expect(history.filter((event) => ["ExecutionSuspended", "ExecutionResumed", "EventRaised"].includes(event.type))).toMatchObject([
      { type: "ExecutionSuspended", reason: "hold on" },
      { type: "ExecutionResumed", reason: "go on" },
      { type: "EventRaised", name: "approve", input: { approved: true } },
    ]);
    await expect(c.raiseEvent(id, "approve", {})).rejects.toMatchObject({ code: "instance_finished" });
    await expect(c.suspend(id)).rejects.toMatchObject({ code: "instance_finished" });
    await expect(c.raiseEvent("nobody", "approve")).rejects.toMatchObject({ code: "not_found" });
  });

  it("terminates, reports failures, refuses a second start of a running id, and purges", async () => {
    const { url } = await server();
    const c = await client(url);
    const sleeper = await c.start<typeof Sleeper>("Sleeper", 3600, { instanceId: "sleeper-1" });
    await expect(c.start<typeof Sleeper>("Sleeper", 1, { instanceId: sleeper })).rejects.toMatchObject({ code: "instance_exists" });
    await expect(c.purge(sleeper)).rejects.toMatchObject({ code: "instance_exists" });
    const watched: Array<InstanceStatus | null> = [];
    const watch = c.watch(sleeper, (status) => watched.push(status));
    await c.terminate(sleeper, "enough");
    expect(await c.waitForCompletion(sleeper, WAIT)).toMatchObject({ runtimeStatus: "Terminated", output: "enough" });
    await expect(c.terminate(sleeper)).rejects.toMatchObject({ code: "instance_finished" });

    const doomed = await c.start(app.Doomed);
    const failed = await c.waitForCompletion(doomed, WAIT);
    expect(failed.runtimeStatus).toBe("Failed");
    expect(failed.failureDetails).toMatchObject({ message: expect.stringContaining("the reactor went boom") });

    expect(await c.purge(sleeper)).toEqual({ instancesDeleted: 1 });
    expect(await c.status(sleeper)).toBeNull();
    await until(() => watched.at(-1) === null);
    expect(await c.purge(sleeper)).toEqual({ instancesDeleted: 0 });
    await watch.close();

    // A finished instance's id may be used again.
    expect(await c.start<typeof Sleeper>("Sleeper", 0, { instanceId: doomed })).toBe(doomed);
    expect(await c.waitForCompletion(doomed, WAIT)).toMatchObject({ runtimeStatus: "Completed", output: "woke" });
  });

  it("lists instances by status, name, time and id prefix, a page at a time", async () => {
    const { url } = await server();
    const c = await client(url);
    const before = new Date();
    const greeted = await Promise.all(Array.from({ length: 5 }, (_, i) => c.start(Greetings, [`n${i}`], { instanceId: `list-g-${i}` })));
    await Promise.all(greeted.map((id) => c.waitForCompletion(id, WAIT)));
    const sleeping = await Promise.all([0, 1].map((i) => c.start(Sleeper, 3600, { instanceId: `list-s-${i}` })));

    const byPrefix = await c.list({ instanceIdPrefix: "list-g-" });
    expect(byPrefix.instances.map((s) => s.instanceId).sort()).toEqual(greeted.sort());
    expect(byPrefix.continuation).toBeUndefined();
    const running = await c.list({ runtimeStatus: ["Running"], instanceIdPrefix: "list-" });
    expect(running.instances.map((s) => s.instanceId).sort()).toEqual(sleeping.sort());
    const byName = await c.list({ name: "Sleeper", runtimeStatus: ["Running", "Completed"] });
    expect(byName.instances).toHaveLength(2);
    expect((await c.list({ createdFrom: before, instanceIdPrefix: "list-" })).instances).toHaveLength(7);
    expect((await c.list({ createdTo: before.getTime() - 1 })).instances).toHaveLength(0);
    expect((await c.list({ createdFrom: new Date(Date.now() + 60_000) })).instances).toHaveLength(0);

    const paged: string[] = [];
    let continuation: string | undefined;
    let pages = 0;
    do {
      const page = await c.list({ instanceIdPrefix: "list-", pageSize: 2, ...(continuation ? { continuation } : {}) });
      expect(page.instances.length).toBeLessThanOrEqual(2);
      paged.push(...page.instances.map((s) => s.instanceId));
      continuation = page.continuation;
      pages++;
    } while (continuation !== undefined);
    expect(paged.sort()).toEqual([...greeted, ...sleeping].sort());
    expect(pages).toBeGreaterThanOrEqual(4);
    await expect(c.list({ continuation: "not-a-token" })).rejects.toMatchObject({ code: "bad_request" });
  });

  it("gives up waiting after timeoutMs with timeout and the last status", async () => {
    const { url } = await server();
    const c = await client(url);
    const id = await c.start(Sleeper, 3600);
    await expect(c.waitForCompletion(id, { timeoutMs: 200 })).rejects.toMatchObject({
      code: "timeout",
      message: expect.stringMatching(/did not finish within 200 ms \(it is Running\)/),
      details: { timeoutMs: 200, status: { instanceId: id, runtimeStatus: "Running" } },
    });
  });

  it("watches again after a reconnect, and the listener gets the current status again", async () => {
    const s = await server();
    const proxy = await TcpProxy.start(s.port);
    cleanups.push(() => proxy.close());
    const c = await client(proxy.url, { disconnectTimeoutMs: 30_000 });
    const other = await client(s.url);
    const id = await c.start(Approval, { requester: "bo" }, { instanceId: "rewatch-1" });
    const seen: Array<string | undefined> = [];
    const watch = c.watch(id, (status) => seen.push(status?.runtimeStatus));
    await watch.ready;
    const before = seen.length;
    proxy.cut();
    await until(() => seen.length > before); // the new connection's watch answered with the current status
    expect(seen.at(-1)).toBe("Running");
    await other.raiseEvent(id, "approve", { approved: false });
    await until(() => seen.at(-1) === "Completed");
    expect(watch.status).toMatchObject({ runtimeStatus: "Completed", output: { requester: "bo", approved: false } });
  });

  it("resends a start whose answer was lost: the server answers it as the first time, and starts one instance", async () => {
    const { url } = await server();
    const { client: c, sockets } = await deafClient(url);
    const observer = await client(url);

    sockets[0]!.deaf = true;
    const named = c.start(Approval, { requester: "cy" }, { instanceId: "dedup-1" });
    const unnamed = c.start(Approval, { requester: "di" });
    const running = await eventually(() => observer.list({ name: "Approval" }), (page) => page.instances.length === 2);
    expect(running.instances).toHaveLength(2); // both starts are durable, their answers lost
    sockets[0]!.close();
    expect(await named).toBe("dedup-1");
    const id = await unnamed;
    expect(sockets.length).toBeGreaterThan(1);
    const after = (await observer.list({ name: "Approval" })).instances.map((s) => s.instanceId).sort();
    expect(after).toEqual(["dedup-1", id].sort());
    const history = await observer.history(id);
    expect(history.filter((event) => event.type === "ExecutionStarted")).toHaveLength(1);
  });

  it("answers a start resent after its instance finished as the first time, without running it again", async () => {
    const { url } = await server();
    const { client: c, sockets } = await deafClient(url);
    const observer = await client(url);

    sockets[0]!.deaf = true;
    const started = c.start(Sleeper, 0, { instanceId: "dedup-finished" });
    await eventually(() => observer.status("dedup-finished"), (status) => status?.runtimeStatus === "Completed"); // done before its answer came
    sockets[0]!.close();
    expect(await started).toBe("dedup-finished");
    const history = await observer.history("dedup-finished");
    expect(history.filter((event) => event.type === "ExecutionStarted")).toHaveLength(1);
  });

  it("fails raise, terminate, suspend, resume and purge in flight at a drop with disconnected, without sending them again", async () => {
    const { url } = await server();
    const { client: c, sockets } = await deafClient(url);
    const observer = await client(url);
    await c.start(Approval, { requester: "ed" }, { instanceId: "inflight-1" });
    await c.start(Sleeper, 0, { instanceId: "inflight-2" });
    await c.waitForCompletion("inflight-2", WAIT);

    sockets[0]!.deaf = true;
    const suspend = c.suspend("inflight-1");
    const raise = c.raiseEvent("inflight-1", "approve", { approved: true });
    const resume = c.resume("inflight-1");
    const purge = c.purge("inflight-2");
    const done = await eventually(() => observer.status("inflight-1"), (status) => status?.runtimeStatus === "Completed");
    expect(done).toMatchObject({ runtimeStatus: "Completed" }); // all three happened, their answers lost
    await eventually(() => observer.status("inflight-2"), (status) => status === null); // purged, its answer lost
    const terminate = c.terminate("inflight-1"); // in flight (or not yet sent) at the drop
    sockets[0]!.close();
    for (const request of [suspend, raise, resume, purge, terminate]) {
      await expect(request).rejects.toMatchObject({ code: "disconnected", message: expect.stringMatching(/may or may not have happened/) });
    }
    expect(await observer.status("inflight-2")).toBeNull();
    const history = await observer.history("inflight-1");
    expect(history.filter((event) => event.type === "EventRaised")).toHaveLength(1);
    expect(history.filter((event) => event.type === "ExecutionSuspended")).toHaveLength(1);
  });
});
