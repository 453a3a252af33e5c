import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { defineActivity, defineOrchestration, OrchestrationHost, type HistoryEvent } from "../../../src/orchestration/index.js";
import type { InstanceRequest } from "../../../src/orchestration/instance-requests.js";
import { CommitPipeline, type Outcome } from "../../../src/runtime/index.js";
import { TempStores } from "../support/temp-dir.js";

const stores = new TempStores();
afterEach(async () => {
  await stores.dispose();
});

/** Fails or returns as its event says. */
const Decides = defineOrchestration("Decides", function* (ctx) {
  const verdict: string = yield ctx.waitForExternalEvent("verdict");
  if (verdict === "fail") throw new Error("told to fail");
  return verdict;
});

let stepRuns = 0;
const Step = defineActivity("Step", (n: number) => {
  stepRuns++;
  if (stepRuns === 1) throw new Error("first run fails");
  return n * 10;
});
const Steps = defineOrchestration("Steps", function* (ctx) {
  return yield ctx.callActivity("Step", 4);
});

/** A request as a test asks it (the answer comes back through the promise). */
type Asked = InstanceRequest extends infer R ? (R extends InstanceRequest ? Omit<R, "replyTo" | "requestId"> : never) : never;

async function hostOnStore() {
  const store = await stores.openStore(stores.newDir());
  const pipeline = new CommitPipeline({ store, log: createLogger("silent") });
  const host = new OrchestrationHost({ pipeline, orchestrations: [Decides, Steps], activities: [Step], log: createLogger("silent") });
  pipeline.start();
  host.start();
  let requestId = 0;
  /** Submits a request; resolves with its answer (after its commit). */
  const ask = (request: Asked) =>
    new Promise<Outcome>((resolve) => host.submit({ ...request, replyTo: { deliver: (_id: number, outcome: Outcome) => resolve(outcome) }, requestId: ++requestId } as InstanceRequest));
  const status = async (instanceId: string) => ((await ask({ kind: "read", instanceId })) as { value: { runtimeStatus: string; output: unknown } | null }).value;
  return { store, pipeline, host, ask, status };
}

describe("OrchestrationHost: rewind", () => {
  it("waits for the turn that failed the instance when both arrive together, then replays the committed history", async () => {
    const { store, pipeline, ask, status } = await hostOnStore();
    await ask({ kind: "start", instanceId: "d", name: "Decides", depth: 0 });
    // Submitted back to back: one turn takes both; the rewind waits until the failure is durable.
    const raised = ask({ kind: "event", instanceId: "d", event: { type: "EventRaised", timestamp: 0, name: "verdict", input: "fail" } });
    const rewound = ask({ kind: "rewind", instanceId: "d", reason: "once more" });
    expect(await raised).toEqual({ kind: "ack" });
    expect(await rewound).toEqual({ kind: "ack" });
    expect(await status("d")).toMatchObject({ runtimeStatus: "Failed" }); // failed in its own code: the replay fails it again
    const history = store.readHistory("d") as HistoryEvent[];
    // The failure's turn, then the rewind's: positions in the history are those of the committed events.
    expect(history.map((event) => event.type).slice(-8)).toEqual([
      "OrchestratorStarted",
      "EventRaised",
      "ExecutionCompleted",
      "OrchestratorCompleted",
      "OrchestratorStarted",
      "ExecutionRewound",
      "ExecutionCompleted",
      "OrchestratorCompleted",
    ]);
    expect(history.find((event) => event.type === "ExecutionRewound")).toMatchObject({ reason: "once more", rewoundEvents: [] });
    await pipeline.close();
  });

  it("runs the failed activity again and its result completes the instance; the Completed instance then refuses a rewind", async () => {
    stepRuns = 0;
    const { pipeline, host, ask, status } = await hostOnStore();
    await ask({ kind: "start", instanceId: "s", name: "Steps", depth: 0 });
    await until(async () => (await status("s"))?.runtimeStatus === "Failed");
    expect(await ask({ kind: "rewind", instanceId: "s" })).toEqual({ kind: "ack" });
    await until(async () => (await status("s"))?.runtimeStatus === "Completed");
    expect(await status("s")).toMatchObject({ output: 40 });
    expect(stepRuns).toBe(2);
    expect(await ask({ kind: "rewind", instanceId: "s" })).toMatchObject({ kind: "error", code: "invalid_state" });
    expect(host.activityLoad).toEqual({ running: 0, waiting: 0 });
    await pipeline.close();
  });

  it("answers not_found for an unknown instance", async () => {
    const { pipeline, ask } = await hostOnStore();
    expect(await ask({ kind: "rewind", instanceId: "nobody" })).toEqual({ kind: "error", code: "not_found", message: 'no orchestration instance "nobody"' });
    await pipeline.close();
  });
});

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("the condition did not hold in time");
}
