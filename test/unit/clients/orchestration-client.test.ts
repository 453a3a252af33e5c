import { afterEach, describe, expect, it, vi } from "vitest";
import type { DurableClient } from "../../../clients/index.js";
import { FakeServer, statusOf, useFakeTimeouts } from "./fake-server.js";

const clients: DurableClient[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const client of clients.splice(0)) await client.close();
});

async function setup(options: Parameters<FakeServer["connect"]>[0] = {}) {
  const server = new FakeServer();
  const client = await server.connect(options);
  clients.push(client);
  return { server, client };
}

describe("the orchestration calls of the client", () => {
  it("sends start with a client-chosen instance id, the name of a definition, and a copy of the input", async () => {
    const { server, client } = await setup();
    const input = { names: ["a"] };
    const byName = client.start("Greetings", input);
    input.names.push("changed later");
    const start = await server.next("start");
    expect(start).toMatchObject({ type: "start", name: "Greetings", input: { names: ["a"] } });
    expect(start.instanceId).toMatch(/^[0-9a-f-]{36}$/);
    server.send({ type: "result", id: start.id, value: { instanceId: start.instanceId } });
    await expect(byName).resolves.toBe(start.instanceId);

    const definition = { kind: "orchestration", name: "Sleeper", orchestrator: function* () {} } as const;
    const byDefinition = client.start(definition as never, 5, { instanceId: "sleepy" });
    const second = await server.next("start", 1);
    expect(second).toEqual({ type: "start", id: second.id, name: "Sleeper", input: 5, instanceId: "sleepy" });
    server.send({ type: "result", id: second.id, value: { instanceId: "sleepy" } });
    await expect(byDefinition).resolves.toBe("sleepy");

    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(client.start("Greetings", cyclic)).rejects.toMatchObject({ code: "bad_request", message: /input cannot be encoded as JSON/ });
    await expect(client.raiseEvent("x", "e", cyclic)).rejects.toMatchObject({ code: "bad_request", message: /event data cannot/ });
    await expect(client.terminate("x", cyclic)).rejects.toMatchObject({ code: "bad_request", message: /reason cannot/ });
    expect(server.sent("start")).toHaveLength(2);
  });

  it("sends each management request and maps its answer", async () => {
    const { server, client } = await setup();
    const status = client.status("i1");
    const raise = client.raiseEvent("i1", "approve", { ok: true });
    const terminate = client.terminate("i1", "enough");
    const suspend = client.suspend("i1");
    const resume = client.resume("i1", "go on");
    const purge = client.purge("i1");
    const purgeNone = client.purge("none");
    const purgeRunning = client.purge("running");
    const history = client.history("i1");
    const noHistory = client.history("none");
    const created = new Date("2026-01-02T00:00:00Z");
    const list = client.list({ runtimeStatus: ["Running"], name: "Greetings", createdFrom: created, createdTo: 5, instanceIdPrefix: "i", pageSize: 2, continuation: "c" });
    await server.next("list");
    const frames = server.frames.map(({ frame }) => frame);
    expect(frames).toEqual([
      { type: "status", id: expect.any(Number), instanceId: "i1" },
      { type: "raise", id: expect.any(Number), instanceId: "i1", event: "approve", data: { ok: true } },
      { type: "terminate", id: expect.any(Number), instanceId: "i1", reason: "enough" },
      { type: "suspend", id: expect.any(Number), instanceId: "i1" },
      { type: "resume", id: expect.any(Number), instanceId: "i1", reason: "go on" },
      { type: "purge", id: expect.any(Number), instanceId: "i1" },
      { type: "purge", id: expect.any(Number), instanceId: "none" },
      { type: "purge", id: expect.any(Number), instanceId: "running" },
      { type: "status", id: expect.any(Number), instanceId: "i1", history: true },
      { type: "status", id: expect.any(Number), instanceId: "none", history: true },
      { type: "list", id: expect.any(Number), runtimeStatus: ["Running"], name: "Greetings", createdFrom: created.getTime(), createdTo: 5, instanceIdPrefix: "i", pageSize: 2, continuation: "c" },
    ]);
    const ids = frames.map((frame) => (frame as { id: number }).id);
    const running = statusOf("i1", "Running");
    const events = [{ type: "ExecutionStarted", timestamp: 1, name: "Greetings" }];
    server.send(
      { type: "result", id: ids[0]!, value: running },
      { type: "ack", ids: [ids[1]!, ids[2]!, ids[3]!, ids[4]!] },
      { type: "result", id: ids[5]!, value: { instancesDeleted: 1 } },
      { type: "error", id: ids[6]!, code: "not_found", message: "no orchestration instance" },
      { type: "error", id: ids[7]!, code: "instance_exists", message: "still Running" },
      { type: "result", id: ids[8]!, value: { ...running, history: events } },
      { type: "result", id: ids[9]!, value: null },
      { type: "result", id: ids[10]!, value: { instances: [running], continuation: "d" } },
    );
    await expect(status).resolves.toEqual(running);
    for (const acked of [raise, terminate, suspend, resume]) await expect(acked).resolves.toBeUndefined();
    await expect(purge).resolves.toEqual({ instancesDeleted: 1 });
    await expect(purgeNone).resolves.toEqual({ instancesDeleted: 0 });
    await expect(purgeRunning).rejects.toMatchObject({ code: "instance_exists" });
    await expect(history).resolves.toEqual(events);
    await expect(noHistory).rejects.toMatchObject({ code: "not_found", message: /no orchestration instance "none"/ });
    await expect(list).resolves.toEqual({ instances: [running], continuation: "d" });
  });
});

describe("orchestration requests across a reconnect", () => {
  it("resends start, status and list with their ids (start on the same instance id); fails raise, terminate, suspend, resume and purge with disconnected", async () => {
    const { server, client } = await setup({ disconnectTimeoutMs: 30_000 });
    const start = client.start("Approval", { requester: "ann" });
    const status = client.status("i1");
    const list = client.list({ pageSize: 1 });
    const lost = [client.raiseEvent("i1", "approve"), client.terminate("i1"), client.suspend("i1"), client.resume("i1"), client.purge("i1")];
    for (const request of lost) request.catch(() => {});
    await server.next("purge");
    const first = server.frames.map(({ frame }) => frame);
    server.drop();

    for (const request of lost) await expect(request).rejects.toMatchObject({ code: "disconnected", message: /may or may not have happened/ });
    await server.next("list", 1);
    const resent = server.frames.filter(({ connection }) => connection === 2).map(({ frame }) => frame);
    expect(resent).toEqual(first.filter((frame) => ["start", "status", "list"].includes(frame.type)));
    const [startFrame, statusFrame, listFrame] = resent as Array<{ id: number; instanceId?: string }>;
    server.send(
      { type: "result", id: startFrame!.id, value: { instanceId: startFrame!.instanceId } },
      { type: "result", id: statusFrame!.id, value: null },
      { type: "result", id: listFrame!.id, value: { instances: [] } },
    );
    await expect(start).resolves.toBe(startFrame!.instanceId);
    await expect(status).resolves.toBeNull();
    await expect(list).resolves.toEqual({ instances: [] });
    expect(server.sent("raise")).toHaveLength(1); // not resent
  });

  it("sends requests made while disconnected once a connection is back", async () => {
    const { server, client } = await setup({ disconnectTimeoutMs: 30_000 });
    server.accepting = false;
    server.drop();
    await vi.waitUntil(() => !client.connected);
    const raise = client.raiseEvent("i1", "approve", 1);
    server.accepting = true;
    const frame = await server.next("raise");
    server.send({ type: "ack", ids: [frame.id] });
    await expect(raise).resolves.toBeUndefined();
  });
});

describe("watches", () => {
  it("shares one server watch per instance, pushes every status, and unwatches after the last close", async () => {
    const { server, client } = await setup();
    const seenA: unknown[] = [];
    const seenB: unknown[] = [];
    const a = client.watch("i1", (status) => seenA.push(status?.runtimeStatus ?? null));
    const b = client.watch("i1", (status) => seenB.push(status?.runtimeStatus ?? null));
    const watch = await server.next("watch");
    expect(server.sent("watch")).toHaveLength(1);
    server.send({ type: "instance", id: watch.id, instanceId: "i1", status: statusOf("i1", "Running") });
    await expect(a.ready).resolves.toMatchObject({ runtimeStatus: "Running" });
    server.send({ type: "instance", instanceId: "i1", status: statusOf("i1", "Completed", { output: 3 }) }, { type: "instance", instanceId: "other", status: null });
    await vi.waitUntil(() => seenB.length === 2);
    expect(seenA).toEqual(["Running", "Completed"]);
    expect(a.status).toMatchObject({ runtimeStatus: "Completed", output: 3 });

    const late: unknown[] = [];
    const c = client.watch("i1", (status) => late.push(status?.runtimeStatus));
    await expect(c.ready).resolves.toMatchObject({ runtimeStatus: "Completed" });
    await vi.waitUntil(() => late.length === 1);
    expect(server.sent("watch")).toHaveLength(1);

    await a.close();
    await b.close();
    expect(server.sent("unwatch")).toHaveLength(0);
    await c.close();
    expect((await server.next("unwatch")).instanceId).toBe("i1");
    server.send({ type: "instance", instanceId: "i1", status: null });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(late).toEqual(["Completed"]);
  });

  it("watches again after a reconnect, and the listener gets the current status again", async () => {
    const { server, client } = await setup();
    const seen: unknown[] = [];
    const watch = client.watch("i1", (status) => seen.push(status?.runtimeStatus));
    const first = await server.next("watch");
    server.send({ type: "instance", id: first.id, instanceId: "i1", status: statusOf("i1", "Running") });
    await watch.ready;
    server.drop();
    const again = await server.next("watch", 1);
    expect(again.instanceId).toBe("i1");
    expect(again.id).toBeGreaterThan(first.id);
    server.send({ type: "instance", id: again.id, instanceId: "i1", status: statusOf("i1", "Running") });
    await vi.waitUntil(() => seen.length === 2);
    expect(seen).toEqual(["Running", "Running"]);
  });

  it("rejects ready when the server refuses the watch, and tells onError when it refuses a watch already live", async () => {
    const errors: unknown[] = [];
    const { server, client } = await setup({ onError: (error) => errors.push(error) });
    const refused = client.watch("i1", () => {});
    const frame = await server.next("watch");
    server.send({ type: "error", id: frame.id, code: "unknown_orchestration", message: "no orchestrations here" });
    await expect(refused.ready).rejects.toMatchObject({ code: "unknown_orchestration" });

    const live = client.watch("i2", () => {});
    const second = await server.next("watch", 1);
    server.send({ type: "instance", id: second.id, instanceId: "i2", status: null });
    await expect(live.ready).resolves.toBeNull();
    server.drop();
    const third = await server.next("watch", 2);
    server.send({ type: "error", id: third.id, code: "shutting_down", message: "bye" });
    await vi.waitUntil(() => errors.length === 1);
    expect(errors[0]).toMatchObject({ code: "shutting_down" });
  });

  it("throws on watch() once the client is closed, and fails a pending ready on close", async () => {
    const { client } = await setup();
    const pending = client.watch("i1", () => {});
    await client.close();
    await expect(pending.ready).rejects.toMatchObject({ code: "disconnected" });
    expect(() => client.watch("i1", () => {})).toThrow(/closed/);
  });
});

describe("waitForCompletion", () => {
  it("resolves with the status once the instance has finished, and closes its watch", async () => {
    const { server, client } = await setup();
    const done = client.waitForCompletion("i1");
    const watch = await server.next("watch");
    server.send({ type: "instance", id: watch.id, instanceId: "i1", status: statusOf("i1", "Running") });
    server.send({ type: "instance", instanceId: "i1", status: statusOf("i1", "Suspended") });
    server.send({ type: "instance", instanceId: "i1", status: statusOf("i1", "Failed", { failureDetails: { errorType: "Error", message: "boom" } }) });
    await expect(done).resolves.toMatchObject({ runtimeStatus: "Failed", failureDetails: { message: "boom" } });
    expect((await server.next("unwatch")).instanceId).toBe("i1");
  });

  it("resolves at once for an instance that has already finished, beside a watch of the same instance", async () => {
    const { server, client } = await setup();
    const seen: unknown[] = [];
    const watch = client.watch("i1", (status) => seen.push(status?.runtimeStatus));
    const frame = await server.next("watch");
    server.send({ type: "instance", id: frame.id, instanceId: "i1", status: statusOf("i1", "Terminated", { output: "enough" }) });
    await watch.ready;
    await expect(client.waitForCompletion("i1")).resolves.toMatchObject({ runtimeStatus: "Terminated", output: "enough" });
    expect(server.sent("watch")).toHaveLength(1);
    expect(server.sent("unwatch")).toHaveLength(0); // the other watch is still open
    expect(seen).toEqual(["Terminated"]);
  });

  it("rejects with not_found for an instance that does not exist, or is purged while waiting", async () => {
    const { server, client } = await setup();
    const missing = client.waitForCompletion("none");
    const purged = client.waitForCompletion("gone");
    const [a, b] = [await server.next("watch"), await server.next("watch", 1)];
    server.send({ type: "instance", id: a.id, instanceId: "none", status: null });
    server.send({ type: "instance", id: b.id, instanceId: "gone", status: statusOf("gone", "Running") }, { type: "instance", instanceId: "gone", status: null });
    await expect(missing).rejects.toMatchObject({ code: "not_found", message: /"none" does not exist/ });
    await expect(purged).rejects.toMatchObject({ code: "not_found", message: /"gone" was purged/ });
  });

  it("rejects with timeout after timeoutMs, with the last status in the details", async () => {
    useFakeTimeouts();
    const { server, client } = await setup();
    const done = client.waitForCompletion("i1", { timeoutMs: 5_000 });
    done.catch(() => {});
    const watch = await server.next("watch");
    server.send({ type: "instance", id: watch.id, instanceId: "i1", status: statusOf("i1", "Running") });
    let settled = false;
    void done.then(
      () => (settled = true),
      () => (settled = true),
    );
    await vi.advanceTimersByTimeAsync(4_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(done).rejects.toMatchObject({
      code: "timeout",
      message: 'orchestration instance "i1" did not finish within 5000 ms (it is Running)',
      details: { timeoutMs: 5000, status: { runtimeStatus: "Running" } },
    });
    expect((await server.next("unwatch")).instanceId).toBe("i1");
    await expect(client.waitForCompletion("i1", { timeoutMs: -1 })).rejects.toMatchObject({ code: "bad_request" });
  });

  it("rejects with disconnected when no connection comes back within disconnectTimeoutMs (a plain watch resumes instead)", async () => {
    const { server, client } = await setup({ disconnectTimeoutMs: 50 });
    const done = client.waitForCompletion("i1");
    const seen: unknown[] = [];
    const watch = client.watch("i1", (status) => seen.push(status?.runtimeStatus));
    const frame = await server.next("watch");
    server.send({ type: "instance", id: frame.id, instanceId: "i1", status: statusOf("i1", "Running") });
    await watch.ready;
    server.accepting = false;
    server.drop();
    await expect(done).rejects.toMatchObject({ code: "disconnected" });
    server.accepting = true;
    const again = await server.next("watch", 1);
    server.send({ type: "instance", id: again.id, instanceId: "i1", status: statusOf("i1", "Completed") });
    await vi.waitUntil(() => seen.length === 2);
    expect(seen).toEqual(["Running", "Completed"]);
  });
});
