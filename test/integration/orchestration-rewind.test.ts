import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type DurableClient, type HistoryEvent } from "../../clients/index.js";
import { freePort, tempDataDir } from "./support/test-server.js";
import { killAndWait, runCliToEnd, startServerProcess } from "./support/server-process.js";

const APP = fileURLToPath(new URL("../fixtures/rewind-app.ts", import.meta.url));
const WAIT = { timeoutMs: 20_000 };

/**
 * Rewind of failed instances, end to end: a server process hosting test/fixtures/rewind-app.ts, whose
 * activity counts its runs in files of a directory each test names, the client, and the built CLI
 * (`npm run build` first).
 */
describe("rewinding a failed orchestration instance", () => {
  const data = tempDataDir();
  const files = tempDataDir();
  const serverArgs: string[] = ["--app", APP, "--data", data.path];
  let server: { child: ChildProcess; url: string; stderr(): string };
  let client: DurableClient;
  const clients: DurableClient[] = [];

  async function newClient(): Promise<DurableClient> {
    const made = await connect(server.url);
    clients.push(made);
    return made;
  }

  /** A directory of its own for one test's activity files. */
  function workDir(name: string): string {
    const dir = join(files.path, name);
    mkdirSync(dir);
    return dir;
  }

  const runsOf = (dir: string, name: string): number => (existsSync(join(dir, `${name}.runs`)) ? Number(readFileSync(join(dir, `${name}.runs`), "utf8")) : 0);
  const typesOf = (history: HistoryEvent[]) => history.map((event) => event.type);

  beforeAll(async () => {
    serverArgs.push("--port", String(await freePort()));
    server = await startServerProcess(serverArgs);
    client = await newClient();
  });
  afterEach(() => {
    expect(server.stderr()).not.toMatch(/"level":"error"/);
  });
  afterAll(async () => {
    for (const made of clients) await made.close();
    await killAndWait(server.child, "SIGTERM");
    data.cleanup();
    files.cleanup();
  });

  it("runs the failed activity again and completes; the activity that had succeeded does not run again", async () => {
    const dir = workDir("chain");
    const id = await client.start("RewindChain", { dir, failTimes: 1 }, { instanceId: "chain-1" });
    const failed = await client.waitForCompletion(id, WAIT);
    expect(failed).toMatchObject({ runtimeStatus: "Failed", failureDetails: { errorType: "ActivityFailed", message: 'activity "Flaky" failed: second failed on run 1' } });

    await client.rewind(id, "the dependency is back");
    const done = await client.waitForCompletion(id, WAIT);
    expect(done).toMatchObject({ runtimeStatus: "Completed", output: ["first ran 1 times", "second ran 2 times"] });
    expect(done.failureDetails).toBeUndefined();
    expect([runsOf(dir, "first"), runsOf(dir, "second")]).toEqual([1, 2]); // the failed one ran exactly once more

    // The history keeps the failure; the rewind names it, and the activity's new result follows.
    const history = await client.history(id);
    const failedAt = history.findIndex((event) => event.type === "TaskFailed");
    const rewound = history.find((event) => event.type === "ExecutionRewound");
    expect(rewound).toMatchObject({ reason: "the dependency is back", rewoundEvents: [failedAt] });
    expect(typesOf(history).slice(failedAt)).toEqual([
      "TaskFailed",
      "ExecutionCompleted",
      "OrchestratorCompleted",
      "OrchestratorStarted",
      "ExecutionRewound",
      "OrchestratorCompleted",
      "OrchestratorStarted",
      "TaskCompleted",
      "ExecutionCompleted",
      "OrchestratorCompleted",
    ]);
    expect(history.filter((event) => event.type === "TaskScheduled")).toHaveLength(2);
  });

  it("rewinds a failed sub-orchestration with its parent", async () => {
    const dir = workDir("parent");
    const id = await client.start("RewindParent", { dir, failTimes: 1 }, { instanceId: "parent-1" });
    expect(await client.waitForCompletion(id, WAIT)).toMatchObject({ runtimeStatus: "Failed", failureDetails: { errorType: "SubOrchestrationFailed" } });
    expect(await client.status("parent-1-child")).toMatchObject({ runtimeStatus: "Failed" });

    await client.rewind(id, "retry the child");
    const done = await client.waitForCompletion(id, WAIT);
    expect(done).toMatchObject({ runtimeStatus: "Completed", output: { before: "parent ran 1 times", child: ["first ran 1 times", "second ran 2 times"] } });
    expect(await client.status("parent-1-child")).toMatchObject({ runtimeStatus: "Completed", output: ["first ran 1 times", "second ran 2 times"] });
    expect([runsOf(dir, "parent"), runsOf(dir, "first"), runsOf(dir, "second")]).toEqual([1, 1, 2]);
    expect((await client.history("parent-1-child")).find((event) => event.type === "ExecutionRewound")).toMatchObject({ reason: "retry the child" });
  });

  it("asks a sub-orchestration that completed while its parent had failed for its result again", async () => {
    const a = workDir("two-a");
    const b = workDir("two-b");
    const id = await client.start("RewindTwoChildren", { a: { dir: a, failTimes: 1 }, b: { dir: b, failTimes: 0, gate: "open" } }, { instanceId: "two-1" });
    expect(await client.waitForCompletion(id, WAIT)).toMatchObject({ runtimeStatus: "Failed" }); // child a failed; child b waits at its gate
    writeFileSync(join(b, "open"), "");
    expect(await client.waitForCompletion("two-1-b", WAIT)).toMatchObject({ runtimeStatus: "Completed" }); // its result reached a failed parent: dropped

    await client.rewind(id);
    const done = await client.waitForCompletion(id, WAIT);
    expect(done).toMatchObject({ runtimeStatus: "Completed", output: [["first ran 1 times", "second ran 2 times"], ["first ran 1 times", "second ran 1 times"]] });
    expect([runsOf(a, "second"), runsOf(b, "first"), runsOf(b, "second")]).toEqual([2, 1, 1]); // child b ran nothing again
    expect((await client.history("two-1-b")).some((event) => event.type === "ExecutionRewound")).toBe(false);
  });

  it("gives a retried activity whose retries ran out one more attempt, and can rewind again when that fails too", async () => {
    const dir = workDir("retry");
    const id = await client.start("RewindRetry", { dir, failTimes: 3 }, { instanceId: "retry-1" });
    expect(await client.waitForCompletion(id, WAIT)).toMatchObject({ runtimeStatus: "Failed", failureDetails: { message: 'activity "Flaky" failed: retried failed on run 2' } });
    await client.rewind(id);
    expect(await client.waitForCompletion(id, WAIT)).toMatchObject({ runtimeStatus: "Failed", failureDetails: { message: 'activity "Flaky" failed: retried failed on run 3' } });
    await client.rewind(id);
    expect(await client.waitForCompletion(id, WAIT)).toMatchObject({ runtimeStatus: "Completed", output: "retried ran 4 times" });
    expect(runsOf(dir, "retried")).toBe(4);
  });

  it("of an instance that failed in its own code replays it, and it fails again the same way (nothing to retry)", async () => {
    const dir = workDir("buggy");
    const id = await client.start("RewindBuggy", dir, { instanceId: "buggy-1" });
    const failure = { errorType: "Error", message: 'a bug after "only ran 1 times"' };
    expect(await client.waitForCompletion(id, WAIT)).toMatchObject({ runtimeStatus: "Failed", failureDetails: failure });
    await client.rewind(id);
    expect(await client.waitForCompletion(id, WAIT)).toMatchObject({ runtimeStatus: "Failed", failureDetails: failure });
    expect(runsOf(dir, "only")).toBe(1);
    const history = await client.history(id);
    expect(typesOf(history).slice(-4)).toEqual(["OrchestratorStarted", "ExecutionRewound", "ExecutionCompleted", "OrchestratorCompleted"]);
    expect(history.find((event) => event.type === "ExecutionRewound")).toMatchObject({ rewoundEvents: [] });
  });

  it("is refused with invalid_state for a Running, Completed or Terminated instance, and with not_found for an unknown one", async () => {
    const running = await client.start("RewindWaits", undefined, { instanceId: "waits-1" });
    await expect(client.rewind(running)).rejects.toMatchObject({ code: "invalid_state", message: 'orchestration instance "waits-1" is Running; only a Failed instance can be rewound' });
    await client.raiseEvent(running, "go", 1);
    expect(await client.waitForCompletion(running, WAIT)).toMatchObject({ runtimeStatus: "Completed" });
    await expect(client.rewind(running)).rejects.toMatchObject({ code: "invalid_state", message: 'orchestration instance "waits-1" is Completed; only a Failed instance can be rewound' });

    const terminated = await client.start("RewindWaits", undefined, { instanceId: "waits-2" });
    await client.terminate(terminated, "enough");
    await expect(client.rewind(terminated)).rejects.toMatchObject({ code: "invalid_state" });
    await expect(client.rewind("no-such-instance")).rejects.toMatchObject({ code: "not_found", message: 'no orchestration instance "no-such-instance"' });
    expect(await client.status(running)).toMatchObject({ runtimeStatus: "Completed", output: 1 });
  });

  it("survives a SIGKILL between the rewind and the completion: the activity runs again after the restart", async () => {
    const dir = workDir("crash");
    const id = await client.start("RewindChain", { dir, failTimes: 1, gate: "open" }, { instanceId: "crash-1" });
    expect(await client.waitForCompletion(id, WAIT)).toMatchObject({ runtimeStatus: "Failed" });
    await client.rewind(id, "before the crash"); // durable once acknowledged
    await expect.poll(() => runsOf(dir, "second"), { timeout: 10_000, interval: 20 }).toBe(2); // running again, held at its gate

    await killAndWait(server.child, "SIGKILL");
    server = await startServerProcess(serverArgs);
    const after = await newClient();
    expect(await after.status(id)).toMatchObject({ runtimeStatus: "Running" });
    writeFileSync(join(dir, "open"), "");
    const done = await after.waitForCompletion(id, WAIT);
    expect(done).toMatchObject({ runtimeStatus: "Completed", output: ["first ran 1 times", "second ran 3 times"] }); // its work item ran again after the restart
    expect(runsOf(dir, "first")).toBe(1);
    const history = await after.history(id);
    expect(history.filter((event) => event.type === "ExecutionRewound")).toHaveLength(1);
    expect(history.filter((event) => event.type === "TaskCompleted")).toHaveLength(2); // recorded once each
  });

  it("from the command line: durable-entities rewind ID [reason], its errors, and the rewind in the history's timeline", async () => {
    const cli = (...args: string[]) => runCliToEnd([...args, "--url", server.url]);
    const dir = workDir("cli");
    await client.start("RewindChain", { dir, failTimes: 1 }, { instanceId: "cli-1" });
    expect(await client.waitForCompletion("cli-1", WAIT)).toMatchObject({ runtimeStatus: "Failed" });

    expect(await cli("rewind", "cli-1", "fixed it")).toMatchObject({ code: 0, stdout: "", stderr: "rewound: cli-1\n" });
    const wait = await cli("wait", "cli-1", "--timeout", "20");
    expect(wait.code).toBe(0);
    expect(JSON.parse(wait.stdout)).toEqual(["first ran 1 times", "second ran 2 times"]);
    expect((await cli("history", "cli-1")).stdout).toMatch(/ExecutionRewound\s+retries Flaky #1 reason "fixed it"\n/);

    expect(await cli("rewind", "cli-1")).toMatchObject({ code: 1, stderr: 'error: invalid_state: orchestration instance "cli-1" is Completed; only a Failed instance can be rewound\n' });
    expect(await cli("rewind", "cli-nobody")).toMatchObject({ code: 1, stderr: 'error: not_found: no orchestration instance "cli-nobody"\n' });
    expect((await cli("rewind")).code).toBe(2); // usage: an id is needed
    expect((await cli("help")).stdout).toMatch(/durable-entities rewind ID \[reason\]/);
  });
});
