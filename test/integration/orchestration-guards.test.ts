import { afterEach, describe, expect, it } from "vitest";
import { connect, type DurableClient } from "../../clients/index.js";
import * as app from "../fixtures/orchestration-guard-app.js";
import { createLogger } from "../../src/log.js";
import { startTestServer, tempDataDir } from "./support/test-server.js";

const WAIT = { timeoutMs: 20_000 };

describe("orchestration guard rails, determinism and non-determinism", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    app.fickle.activity = "Echo";
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function open(options: Parameters<typeof startTestServer>[1] = {}): Promise<{ client: DurableClient; stop(): Promise<void> }> {
    const server = await startTestServer("uws", { app, log: createLogger("error"), ...options });
    const client = await connect(server.url);
    const stop = async () => {
      await client.close();
      await server.close();
    };
    cleanups.push(stop);
    return { client, stop };
  }

  it("fails an orchestration whose history passes the bound, with limit_exceeded", async () => {
    const { client } = await open({ orchestration: { limits: { maxHistoryEvents: 200 } } });
    const id = await client.start("Eternal");
    const done = await client.waitForCompletion(id, WAIT);
    expect(done.runtimeStatus).toBe("Failed");
    expect(done.failureDetails).toMatchObject({ errorType: "limit_exceeded", message: expect.stringMatching(/200.*continueAsNew/) });
    expect((await client.history(id)).length).toBeLessThanOrEqual(200 + 3); // the bound, and the failure's record
  });

  it("fails an orchestration with too many tasks open at once, and one nested too deep", async () => {
    const { client } = await open({ orchestration: { limits: { maxOpenTasks: 50, maxDepth: 3 } } });
    const fine = await client.start("Runaway", 50);
    expect((await client.waitForCompletion(fine, WAIT)).runtimeStatus).toBe("Completed");
    const runaway = await client.start("Runaway", 51);
    expect((await client.waitForCompletion(runaway, WAIT)).failureDetails).toMatchObject({ errorType: "limit_exceeded", message: expect.stringMatching(/51 tasks open; the limit is 50/) });
    const nested = await client.start("Nested", 3);
    expect((await client.waitForCompletion(nested, WAIT)).output).toBe(3);
    const deep = await client.start("Nested", 4);
    const failed = await client.waitForCompletion(deep, WAIT);
    expect(failed.runtimeStatus).toBe("Failed"); // the innermost failed, and each parent with it
    expect(JSON.stringify(failed.failureDetails)).toMatch(/nest 4 deep; the limit is 3/);
  });

  it("refuses inputs and event data over the payload limit, and fails a task whose result is over it", async () => {
    const { client } = await open({ orchestration: { limits: { maxPayloadBytes: 1000 } } });
    await expect(client.start("Relay", "x".repeat(2000))).rejects.toMatchObject({ code: "payload_too_large" });
    const waiting = await client.start("Fickle");
    await expect(client.raiseEvent(waiting, "go", "x".repeat(2000))).rejects.toMatchObject({ code: "payload_too_large" });
    const relay = await client.start("Relay", 5000);
    const done = await client.waitForCompletion(relay, WAIT);
    expect(done.failureDetails).toMatchObject({ taskName: "Huge", inner: { errorType: "payload_too_large" } });
  });

  it("gives Date.now(), new Date(), Math.random() and newGuid() the same values on replay after a restart", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const first = await open({ dataDir: dir.path });
    const id = await first.client.start("Clocked");
    await expect.poll(async () => (await first.client.status(id))?.customStatus, { timeout: 10_000 }).toBeTruthy();
    const before = (await first.client.status(id))!;
    await first.stop();
    const second = await open({ dataDir: dir.path }); // a new process's view: the code replays from history
    await second.client.raiseEvent(id, "go");
    const done = await second.client.waitForCompletion(id, WAIT);
    expect(done.output).toEqual(before.customStatus);
    const [now, date, random] = done.output as [number, number, number];
    expect(now).toBe(Date.parse(before.createdTime)); // the orchestration's time, not the machine's
    expect(date).toBe(now);
    expect(random).toBeGreaterThanOrEqual(0);
    expect(random).toBeLessThan(1);
  });

  it("fails an instance whose code asks for something else than its history holds, with non_determinism naming both", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const first = await open({ dataDir: dir.path });
    const id = await first.client.start("Fickle");
    await expect.poll(async () => (await first.client.history(id)).some((event) => event.type === "TaskCompleted"), { timeout: 10_000 }).toBe(true);
    await first.stop();
    app.fickle.activity = "Huge"; // "deployed" a changed orchestrator while the instance ran
    const second = await open({ dataDir: dir.path });
    await second.client.raiseEvent(id, "go");
    const done = await second.client.waitForCompletion(id, WAIT);
    expect(done.runtimeStatus).toBe("Failed");
    expect(done.failureDetails?.errorType).toBe("non_determinism");
    expect(done.failureDetails?.message).toMatch(/"Echo".*"Huge"|position/);
    expect(done.failureDetails?.message).toMatch(/Echo/);
    expect(done.failureDetails?.message).toMatch(/Huge/);
    expect(done.failureDetails?.message).toMatch(/history position \d+/);
  });
});
