import { afterEach, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { RawSocket } from "./support/raw-socket.js";
import { freePort, tempDataDir } from "./support/test-server.js";
import { killAndWait, startServerProcess } from "./support/server-process.js";

const SUM_OF_SQUARES_1000 = (1000 * 1001 * 2001) / 6;

type Status = { runtimeStatus: string; output: unknown; history?: Array<Record<string, unknown>> };

/** Reads an instance's status (and its whole history, page by page) over a raw connection. */
async function status(port: number, instanceId: string, history = false): Promise<Status | null> {
  const peer = await RawSocket.greeted(port);
  try {
    peer.send({ type: "status", id: 1, instanceId, history });
    const first = (await peer.waitFor((frame) => frame.id === 1)).value as (Status & { historyNext?: number }) | null;
    if (!history || first === null) return first;
    const events = [...first.history!];
    for (let next = first.historyNext, id = 2; next !== undefined; id++) {
      peer.send({ type: "status", id, instanceId, history: true, historyFrom: next });
      const page = (await peer.waitFor((frame) => frame.id === id)).value as Status & { historyNext?: number };
      events.push(...page.history!);
      next = page.historyNext;
    }
    return { ...first, history: events };
  } finally {
    peer.close();
  }
}

/** Every scheduling event names a task once, and every task completes at most once: nothing recorded twice. */
function expectExactlyOnceHistory(history: Array<Record<string, unknown>>): void {
  const scheduled = history.filter((event) => event.type === "TaskScheduled").map((event) => event.eventId);
  const completed = history.filter((event) => event.type === "TaskCompleted" || event.type === "TaskFailed").map((event) => event.taskScheduledId);
  expect(new Set(scheduled).size).toBe(scheduled.length);
  expect(new Set(completed).size).toBe(completed.length);
  for (const id of completed) expect(scheduled).toContain(id);
  expect(history.filter((event) => event.type === "ExecutionStarted")).toHaveLength(1);
  expect(history.filter((event) => event.type === "ExecutionCompleted")).toHaveLength(1);
}

describe("orchestrations in a server killed with SIGKILL", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("resume after restart and reach the same outputs, with nothing in their histories recorded twice", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const port = await freePort();
    const serverArgs = ["--data", dir.path, "--port", String(port)]; // the demo app: FanOutFanIn, HelloSequence
    let server: { child: ChildProcess } = await startServerProcess(serverArgs);
    cleanups.push(() => killAndWait(server.child));

    const starter = await RawSocket.greeted(port, "crash-starter");
    starter.send([
      { type: "start", id: 1, name: "FanOutFanIn", input: 1000, instanceId: "fan-1000" },
      { type: "start", id: 2, name: "HelloSequence", instanceId: "hello" },
    ]);
    await starter.waitFor((frame) => frame.id === 1);
    await starter.waitFor((frame) => frame.id === 2);
    // Kill it three times while the fan-out's activities and commits are in flight, then let it finish.
    let killedWhileRunning = 0;
    for (const delayMs of [5, 40, 15]) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await killAndWait(server.child, "SIGKILL");
      server = await startServerProcess(serverArgs);
      if ((await status(port, "fan-1000"))?.runtimeStatus === "Running") killedWhileRunning++;
    }
    expect(killedWhileRunning).toBeGreaterThan(0); // the kills did land in the middle of the fan-out
    await expect.poll(async () => (await status(port, "fan-1000"))?.runtimeStatus, { timeout: 30_000, interval: 200 }).toBe("Completed");
    await expect.poll(async () => (await status(port, "hello"))?.runtimeStatus, { timeout: 30_000, interval: 200 }).toBe("Completed");

    const fan = (await status(port, "fan-1000", true))!;
    expect(fan.output).toBe(SUM_OF_SQUARES_1000);
    expectExactlyOnceHistory(fan.history!);
    expect(fan.history!.filter((event) => event.type === "TaskScheduled")).toHaveLength(1002); // F1, 1,000 × F2, F3
    const hello = (await status(port, "hello", true))!;
    expect(hello.output).toEqual(["Hello Tokyo!", "Hello Seattle!", "Hello London!"]);
    expectExactlyOnceHistory(hello.history!);
    starter.close();
  });
});
