import { afterEach, describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { connect } from "../../clients/index.js";
import { createLogger } from "../../src/log.js";
import { defineActivity, defineOrchestration } from "../../src/orchestration/index.js";
import { defineEntity } from "../../src/runtime/index.js";
import { startTestServer } from "./support/test-server.js";

const Brittle = defineEntity("Brittle", {
  initialState: () => 0,
  operations: {
    crack: (): never => {
      throw new Error("cracked under load");
    },
  },
});

const Misfire = defineActivity("Misfire", (what: string): never => {
  throw new Error(`${what} misfired`);
});

/** Fails through its activity. */
const Launch = defineOrchestration("Launch", function* (ctx) {
  yield ctx.callActivity("Misfire", "the engine");
  return "unreachable";
});

/** Fails in its own code. */
const Confused = defineOrchestration("Confused", function* (ctx, input: { steps: number }) {
  if (input.steps < 1) throw new RangeError("steps must be at least 1");
  yield ctx.createTimer(ctx.currentUtcDateTime.getTime());
  return input.steps;
});

/** A real logger (pino) writing into memory: every line it writes, parsed. */
function memoryLog(): { log: ReturnType<typeof createLogger>; lines(): Array<Record<string, unknown>> } {
  const written: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk.toString());
      callback();
    },
  });
  return { log: createLogger("info", stream), lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe("log lines name what they are about", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function serve() {
    const memory = memoryLog();
    const server = await startTestServer("ws", {
      app: { Brittle, Misfire, Launch, Confused },
      log: memory.log,
      httpRoutes: {
        "GET /broken": async () => {
          throw new Error("the route broke");
        },
      },
    });
    cleanups.push(() => server.stop());
    const client = await connect(server.url, { onError: () => {} });
    cleanups.push(() => client.close());
    return { server, client, lines: memory.lines };
  }

  it("an entity operation that throws: its entity id, operation, message and hub", async () => {
    const { client, lines } = await serve();
    await expect(client.call("Brittle/b1", "crack")).rejects.toMatchObject({ code: "operation_failed" });
    expect(lines()).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: "operation failed",
        hub: "default",
        entityId: "Brittle/b1",
        operation: "crack",
        error: expect.stringContaining("cracked under load"),
        stack: expect.stringContaining("cracked under load"),
      }),
    );
  });

  it("a failing activity: its instance id and activity; the orchestration it failed: its instance id and name", async () => {
    const { client, lines } = await serve();
    const instanceId = await client.start(Launch, undefined, { instanceId: "launch-1" });
    expect((await client.waitForCompletion(instanceId, { timeoutMs: 20_000 })).runtimeStatus).toBe("Failed");
    expect(lines()).toContainEqual(
      expect.objectContaining({ level: "warn", msg: "activity failed", hub: "default", instanceId: "launch-1", activity: "Misfire", error: "the engine misfired" }),
    );
    expect(lines()).toContainEqual(
      expect.objectContaining({ level: "warn", msg: "orchestration failed", hub: "default", instanceId: "launch-1", orchestration: "Launch", taskName: "Misfire", error: expect.stringContaining("the engine misfired") }),
    );
  });

  it("an orchestrator that throws: its instance id, name, error type, message and where it threw (never in its status)", async () => {
    const { client, lines } = await serve();
    const instanceId = await client.start(Confused, { steps: 0 }, { instanceId: "confused-1" });
    const status = await client.waitForCompletion(instanceId, { timeoutMs: 20_000 });
    expect(status.runtimeStatus).toBe("Failed");
    expect(JSON.stringify(status)).not.toContain("structured-logs.test");
    const failed = lines().find((line) => line.msg === "orchestration failed");
    expect(failed).toMatchObject({ level: "warn", hub: "default", instanceId: "confused-1", orchestration: "Confused", errorType: "RangeError", error: "steps must be at least 1" });
    expect(failed!.stack).toContain("structured-logs.test");
  });

  it("an HTTP route that throws: a request id, in the log line and in the answer (which holds no stack)", async () => {
    const { server, lines } = await serve();
    const response = await fetch(`${server.url}/broken`);
    expect(response.status).toBe(500);
    const body = (await response.json()) as { code: string; message: string };
    const requestId = /requestId (\S+?)\)/.exec(body.message)?.[1];
    expect(body.code).toBe("internal");
    expect(requestId).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(body.message).not.toContain("the route broke");
    expect(lines()).toContainEqual(
      expect.objectContaining({ level: "error", msg: "http request failed", requestId, method: "GET", path: "/broken", error: "the route broke", stack: expect.stringContaining("the route broke") }),
    );
  });
});
