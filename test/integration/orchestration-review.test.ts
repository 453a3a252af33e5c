import { afterEach, describe, expect, it } from "vitest";
import { connect, type DurableClient } from "../../clients/index.js";
import * as app from "../fixtures/orchestration-review-app.js";
import { createLogger } from "../../src/log.js";
import type { ServerOptions } from "../../src/server/index.js";
import { startTestServer, tempDataDir } from "./support/test-server.js";

const WAIT = { timeoutMs: 20_000 };

/** Defects an attack on orchestrations found; each holds the fix in place. */
describe("orchestrations under attack", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function open(options: Partial<ServerOptions> = {}): Promise<{ client: DurableClient; stop(): Promise<void> }> {
    const server = await startTestServer("uws", { app, log: createLogger("silent"), ...options });
    const client = await connect(server.url);
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await client.close();
      await server.close();
    };
    cleanups.push(stop);
    return { client, stop };
  }

  it("fails only the instances of an orchestration a new deploy no longer defines, and keeps serving", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const first = await open({ dataDir: dir.path });
    const id = await first.client.start("WaitEvent");
    await first.stop();
    const { WaitEvent: _removed, ...withoutIt } = app;
    const second = await open({ dataDir: dir.path, app: withoutIt });
    await second.client.raiseEvent(id, "go", 1);
    const done = await second.client.waitForCompletion(id, WAIT);
    expect(done).toMatchObject({ runtimeStatus: "Failed", failureDetails: { errorType: "unknown_orchestration" } });
    expect(await second.client.waitForCompletion(await second.client.start("Leaf"), WAIT)).toMatchObject({ output: "leaf" });
  });

  it("fails the task of an activity that throws a value that cannot be described, not the server", async () => {
    const { client } = await open();
    for (const kind of ["null-prototype", "getter"]) {
      const done = await client.waitForCompletion(await client.start("CallsEvil", kind), WAIT);
      expect(done).toMatchObject({ runtimeStatus: "Failed", failureDetails: { taskName: "Evil" } });
    }
  });

  it("refuses a sub-orchestration id from code that cannot name an instance, at the call", async () => {
    const { client } = await open();
    const done = await client.waitForCompletion(await client.start("ChildWithId", "k".repeat(5000)), WAIT);
    expect(done).toMatchObject({ runtimeStatus: "Failed", failureDetails: { errorType: "TypeError", message: expect.stringMatching(/instance id must be 1 to 256/) } });
    expect((await client.waitForCompletion(await client.start("ChildWithId", "fine-child"), WAIT)).output).toBe("leaf");
  });

  it("does not give a purged instance's late activity result to a new instance with the same id", async () => {
    const { client } = await open();
    await client.start("CallsGated", "old", { instanceId: "reused" });
    await expect.poll(() => app.gates.has("old"), { timeout: 10_000 }).toBe(true);
    await client.terminate("reused");
    await client.purge("reused");
    await client.start("CallsGated", "new", { instanceId: "reused" });
    await expect.poll(() => app.gates.has("new"), { timeout: 10_000 }).toBe(true);
    app.gates.get("old")!("result of the old run");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await client.status("reused"))?.runtimeStatus).toBe("Running"); // the old result was not taken
    app.gates.get("new")!("result of the new run");
    expect((await client.waitForCompletion("reused", WAIT)).output).toBe("result of the new run");
  });

  it("gives each execution after continue-as-new its own GUIDs, also when many run in one turn", async () => {
    const { client } = await open();
    const id = await client.start("GuidPerEvent", []);
    await Promise.all(Array.from({ length: 10 }, () => client.raiseEvent(id, "next", 1)));
    await client.raiseEvent(id, "next", "end");
    const guids = (await client.waitForCompletion(id, WAIT)).output as string[];
    expect(guids).toHaveLength(10);
    expect(new Set(guids).size).toBe(10);
  });

  it("bounds what waits for a suspended instance, and what code hands to an activity", async () => {
    const { client } = await open({ orchestration: { limits: { maxPayloadBytes: 10_000 } } });
    const id = await client.start("WaitEvent");
    await client.suspend(id);
    await Promise.all(Array.from({ length: 1_000 }, () => client.raiseEvent(id, "other", 1)));
    await expect(client.raiseEvent(id, "go", 1)).rejects.toMatchObject({ code: "limit_exceeded" });
    const big = await client.waitForCompletion(await client.start("BigInput", 20_000), WAIT);
    expect(big).toMatchObject({ runtimeStatus: "Failed", failureDetails: { errorType: "payload_too_large", message: expect.stringMatching(/activity "Echo"/) } });
  });

  it("pages long histories and large listings", async () => {
    const { client } = await open();
    const long = await client.start("Long", 700); // about 2,800 events: several pages
    await client.waitForCompletion(long, { timeoutMs: 60_000 });
    const history = await client.history(long);
    expect(history.filter((event) => event.type === "TaskCompleted")).toHaveLength(700);
    expect(history.at(-2)).toMatchObject({ type: "ExecutionCompleted", result: 700 });
    for (let i = 0; i < 30; i++) await client.start("WaitEvent", "x".repeat(100_000), { instanceId: `big-${i}` }); // 3 MB of inputs
    const page = await client.list({ instanceIdPrefix: "big-", pageSize: 100 });
    expect(page.instances.length).toBeLessThan(30); // about 1 MiB a page
    expect(page.continuation).toBeDefined();
  });

  it("fails an activity that runs past the activity timeout, and frees its slot", async () => {
    const { client } = await open({ orchestration: { maxConcurrentActivities: 1, activityTimeoutMs: 300 } });
    const stuck = await client.start("CallsForever");
    const after = await client.start("Long", 1);
    expect(await client.waitForCompletion(stuck, WAIT)).toMatchObject({ runtimeStatus: "Failed", failureDetails: { taskName: "Forever", inner: { errorType: "timeout" } } });
    expect((await client.waitForCompletion(after, WAIT)).output).toBe(1);
  });

  it("finishes an eternal orchestration's queued executions before close resolves, and closes cleanly", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const first = await open({ dataDir: dir.path });
    const id = await first.client.start("GuidPerEvent", []);
    await Promise.all(Array.from({ length: 300 }, () => first.client.raiseEvent(id, "next", 1)));
    await first.stop(); // more than one turn's executions were still queued
    const second = await open({ dataDir: dir.path });
    await second.client.raiseEvent(id, "next", "end");
    expect(((await second.client.waitForCompletion(id, WAIT)).output as string[]).length).toBe(300);
  });
});
