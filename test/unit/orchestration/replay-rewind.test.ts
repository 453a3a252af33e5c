import { describe, expect, it } from "vitest";
import { defineOrchestration, type HistoryEvent, type OrchestrationContext, type Task } from "../../../src/orchestration/index.js";
import { LoadedInstance } from "../../../src/orchestration/loaded-instance.js";
import { planRewind } from "../../../src/orchestration/rewind-plan.js";
import { TestHost } from "./support/test-host.js";

// Every TestHost turn also replays the whole history on a fresh executor and checks it agrees with the
// cached one: after a rewind, the history with its ExecutionRewound replays to the same state.

const positionOf = (host: TestHost, type: HistoryEvent["type"], taskId: number): number =>
  host.history.findIndex((event) => event.type === type && "taskScheduledId" in event && event.taskScheduledId === taskId);

const Chain = defineOrchestration("Chain", function* (ctx) {
  const a: string = yield ctx.callActivity("A");
  const b: string = yield ctx.callActivity("B", a);
  return [a, b];
});

describe("a rewind of a failed execution", () => {
  it("takes back the activity failure that failed it: the activity is open again, and its result completes the execution", () => {
    const host = new TestHost(Chain);
    host.start();
    host.turn([host.completed(0, "a")]);
    expect(host.turn([host.failed(1, "B is down")]).end).toMatchObject({ status: "Failed" });

    const { plan, result } = host.rewind("B is back");
    expect(plan).toEqual({ rewoundEvents: [positionOf(host, "TaskFailed", 1)], waitingFor: { activities: [1], timers: [], subOrchestrations: [], entityCalls: [], lockRequests: [] }, untried: 0 });
    expect(result).toMatchObject({ actions: [], openTasks: 1 });
    expect(result!.end).toBeUndefined();
    expect(host.history.at(-2)).toMatchObject({ type: "ExecutionRewound", reason: "B is back", rewoundEvents: plan.rewoundEvents });
    // The result of the activity run again: the same task id, recorded after the rewind.
    expect(host.turn([host.completed(1, "b")]).end).toEqual({ status: "Completed", output: ["a", "b"] });
  });

  it("after a retry policy gave up, takes back only the last attempt's failure (the earlier ones led to the retries)", () => {
    const Retried = defineOrchestration("Retried", function* (ctx) {
      return yield ctx.callActivityWithRetry("Charge", { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 2 }, 5);
    });
    const host = new TestHost(Retried);
    host.start();
    host.turn([host.failed(0, "declined")]); // timer 1, then attempt 2
    host.turn([host.fired(1)], 1000);
    expect(host.turn([host.failed(2, "declined again")]).end).toMatchObject({ status: "Failed", failure: { errorType: "ActivityFailed" } });

    const { plan } = host.rewind();
    expect(plan.rewoundEvents).toEqual([positionOf(host, "TaskFailed", 2)]);
    expect(plan.waitingFor.activities).toEqual([2]);
    expect(host.turn([host.completed(2, "charged")]).end).toEqual({ status: "Completed", output: "charged" });
  });

  it("after a retry policy gave up, a rewound attempt that fails again fails the execution again (its attempts are spent)", () => {
    const Retried = defineOrchestration("Retried", function* (ctx) {
      return yield ctx.callActivityWithRetry("Charge", { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 1 }, 5);
    });
    const host = new TestHost(Retried);
    host.start();
    host.turn([host.failed(0, "declined")]);
    host.rewind();
    expect(host.turn([host.failed(0, "declined once more")]).end).toMatchObject({ status: "Failed", failure: { message: 'activity "Charge" failed: declined once more' } });
    // A second rewind takes back the new failure only (the first one is taken back already).
    const { plan } = host.rewind();
    expect(plan.rewoundEvents).toEqual([host.history.map((event) => event.type).lastIndexOf("TaskFailed")]);
    expect(host.turn([host.completed(0, "ok")]).end).toEqual({ status: "Completed", output: "ok" });
  });

  it("keeps a failure the code caught and acted on, takes back the one that failed it and one nothing had awaited yet", () => {
    const Mixed = defineOrchestration("Mixed", function* (ctx) {
      const early = ctx.callActivity("Early"); // fails first; awaited only at the end
      try {
        yield ctx.callActivity("Caught");
      } catch {
        // handled: go on with the next step
      }
      yield ctx.callActivity("Last");
      return yield early;
    });
    const host = new TestHost(Mixed);
    host.start(); // Early #0, Caught #1
    host.turn([host.failed(0, "early failure")]);
    host.turn([host.failed(1, "caught failure")]); // Last #2
    expect(host.turn([host.failed(2, "last failure")]).end).toMatchObject({ status: "Failed", failure: { message: 'activity "Last" failed: last failure' } });

    const { plan } = host.rewind();
    expect(plan.rewoundEvents).toEqual([positionOf(host, "TaskFailed", 0), positionOf(host, "TaskFailed", 2)]);
    expect(plan.waitingFor.activities).toEqual([0, 2]);
    host.turn([host.completed(2)]);
    expect(host.turn([host.completed(0, "early ok")]).end).toEqual({ status: "Completed", output: "early ok" });
  });

  it("in a fan-out, takes back the failure and runs every activity the fan-in still waits for", () => {
    const FanOut = defineOrchestration("FanOut", function* (ctx) {
      const tasks: Task<number>[] = [1, 2, 3].map((n) => ctx.callActivity("Square", n));
      const squares: number[] = yield ctx.Task.all(tasks);
      return squares.reduce((sum, n) => sum + n, 0);
    });
    const host = new TestHost(FanOut);
    host.start();
    host.turn([host.completed(1, 4)]);
    expect(host.turn([host.failed(0, "one failed")]).end).toMatchObject({ status: "Failed" });

    const { plan } = host.rewind();
    expect(plan.rewoundEvents).toEqual([positionOf(host, "TaskFailed", 0)]);
    expect(plan.waitingFor.activities).toEqual([0, 2]); // #1 completed before the failure: kept
    expect(host.turn([host.completed(0, 1), host.completed(2, 9)]).end).toEqual({ status: "Completed", output: 14 });
  });

  it("keeps Math.random's numbers: the code after a taken-back failure replays as it ran", () => {
    const Random = defineOrchestration("Random", function* (ctx) {
      const early = ctx.callActivity("Early");
      yield ctx.callActivity("First");
      yield ctx.callActivity(`Step${Math.floor(Math.random() * 1_000_000)}`); // recorded under its random name
      return yield early;
    });
    const host = new TestHost(Random);
    host.start();
    host.turn([host.failed(0, "early failure")]); // nothing awaits it yet
    host.turn([host.completed(1)]);
    const step = host.openOf("ScheduleTask").find((task) => task.name.startsWith("Step"))!;
    expect(host.turn([host.completed(step.id)]).end).toMatchObject({ status: "Failed" });

    const { plan } = host.rewind();
    expect(plan.rewoundEvents).toEqual([positionOf(host, "TaskFailed", 0)]); // the replay matched the recorded step
    expect(host.turn([host.completed(0, "early ok")]).end).toEqual({ status: "Completed", output: "early ok" });
  });

  it("takes back a sub-orchestration's failure: the parent waits for the child again", () => {
    const Parent = defineOrchestration("Parent", function* (ctx) {
      const child: string = yield ctx.callSubOrchestration("Child", "in", "child-1");
      return `child said ${child}`;
    });
    const host = new TestHost(Parent);
    host.start();
    expect(host.turn([host.failed(0, "child failed")]).end).toMatchObject({ status: "Failed" });
    const { plan } = host.rewind();
    expect(plan.rewoundEvents).toEqual([positionOf(host, "SubOrchestrationInstanceFailed", 0)]);
    expect(plan.waitingFor.subOrchestrations).toEqual([0]);
    expect(host.turn([host.completed(0, "hi")]).end).toEqual({ status: "Completed", output: "child said hi" });
  });

  it("revives the timers the code waits for", () => {
    const Race = defineOrchestration("Race", function* (ctx) {
      const deadline = ctx.createTimer(ctx.currentUtcDateTime.getTime() + 60_000);
      const work = ctx.callActivity("Work");
      const winner: Task<unknown> = yield ctx.Task.any([work, deadline]);
      if (winner === deadline) return "too late";
      deadline.cancel();
      return yield work;
    });
    const host = new TestHost(Race);
    host.start();
    expect(host.turn([host.failed(1, "work failed")]).end).toMatchObject({ status: "Failed" });
    const { plan } = host.rewind();
    expect(plan.waitingFor).toMatchObject({ activities: [1], timers: [0] });
    expect(host.turn([host.fired(0)], 60_000).end).toEqual({ status: "Completed", output: "too late" });
  });

  it("of an execution that failed in its own code takes back nothing: the replay fails it again", () => {
    const Buggy = defineOrchestration("Buggy", function* (ctx) {
      const a: string = yield ctx.callActivity("A");
      throw new TypeError(`cannot handle ${a}`);
    });
    const host = new TestHost(Buggy);
    host.start();
    const failure = { errorType: "TypeError", message: "cannot handle x" };
    expect(host.turn([host.completed(0, "x")]).end).toEqual({ status: "Failed", failure });
    const { plan, result } = host.rewind();
    expect(plan).toEqual({ rewoundEvents: [], waitingFor: { activities: [], timers: [], subOrchestrations: [], entityCalls: [], lockRequests: [] }, untried: 0 });
    expect(result!.end).toEqual({ status: "Failed", failure });
  });

  it("is refused inside a critical section, and while an entity call is open", () => {
    const Locked = defineOrchestration("Locked", function* (ctx) {
      yield ctx.lock(["Account/a"]);
      yield ctx.callActivity("Audit");
    });
    const locked = new TestHost(Locked);
    locked.start();
    locked.turn([locked.lockGranted(0)]);
    locked.turn([locked.failed(1, "audit failed")]);
    expect(locked.rewind().plan.refusal).toBe("it failed inside a critical section (Account/a); its locks were released when it failed, and a rewind cannot take them back for it");

    const Calls = defineOrchestration("Calls", function* (ctx: OrchestrationContext) {
      yield ctx.Task.all([ctx.callEntity("Counter/a", "get"), ctx.callActivity("Fails")]);
    });
    const calls = new TestHost(Calls);
    calls.start();
    calls.turn([calls.failed(1, "failed")]);
    expect(calls.rewind().plan.refusal).toMatch(/^it was waiting for an entity call when it failed; /);
  });

  it("stops trying failures one at a time when its replay budget runs out (the untried ones stay)", () => {
    const Retried = defineOrchestration("Retried", function* (ctx) {
      return yield ctx.callActivityWithRetry("Charge", { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 3 }, 5);
    });
    const host = new TestHost(Retried);
    host.start();
    for (const id of [0, 2]) {
      host.turn([host.failed(id, "declined")]);
      host.turn([host.fired(id + 1)], 1000);
    }
    host.turn([host.failed(4, "declined")]);
    const cost = host.history.length + 2;
    // All three at once (non-deterministic: the retries followed the first two), then the newest: two replays.
    const plan = planRewind(host.instanceId, host.definition, host.history, host.nowMs, 2 * cost);
    expect(plan).toMatchObject({ rewoundEvents: [positionOf(host, "TaskFailed", 4)], untried: 2 });
  });
});

describe("LoadedInstance.indexHistory", () => {
  it("counts a task whose failure a rewind took back as open", () => {
    const history: HistoryEvent[] = [
      { type: "OrchestratorStarted", timestamp: 1 },
      { type: "ExecutionStarted", timestamp: 1, name: "X" },
      { type: "TaskScheduled", timestamp: 1, eventId: 0, name: "A" },
      { type: "TimerCreated", timestamp: 1, eventId: 1, fireAt: 5 },
      { type: "OrchestratorCompleted", timestamp: 1 },
      { type: "OrchestratorStarted", timestamp: 2 },
      { type: "TaskFailed", timestamp: 2, taskScheduledId: 0, failure: { errorType: "Error", message: "x" } },
      { type: "ExecutionCompleted", timestamp: 2, status: "Failed", failure: { errorType: "Error", message: "x" } },
      { type: "OrchestratorCompleted", timestamp: 2 },
    ];
    const instance = new LoadedInstance("i", undefined);
    instance.indexHistory(history);
    expect([...instance.openWork!]).toEqual([]);
    instance.indexHistory([...history, { type: "OrchestratorStarted", timestamp: 3 }, { type: "ExecutionRewound", timestamp: 3, rewoundEvents: [6] }]);
    expect([...instance.openWork!]).toEqual([0]);
    expect([...instance.openTimers!]).toEqual([[1, 5]]);
  });
});
