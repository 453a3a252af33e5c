import { describe, expect, it } from "vitest";
import { defineOrchestration, Task, type ReplayResult } from "../../../src/orchestration/index.js";
import { START_MS, TestHost } from "./support/test-host.js";

const HelloSequence = defineOrchestration("HelloSequence", function* (ctx, cities: string[]) {
  const greetings: string[] = [];
  for (const city of cities) greetings.push(yield ctx.callActivity("SayHello", city));
  return greetings;
});

const FanOut = defineOrchestration("FanOut", function* (ctx, count: number) {
  const tasks = Array.from({ length: count }, (_, i) => ctx.callActivity<number>("Square", i));
  const squares = yield* Task.all(tasks);
  return squares.reduce((a, b) => a + b, 0);
});

const sayHello = (city: string) => `Hello ${city}!`;

describe("chaining", () => {
  it("asks for one activity per turn, feeding each result to the code", () => {
    const host = new TestHost(HelloSequence);
    const first = host.start(["Tokyo", "Seattle", "London"]);
    expect(first).toEqual({ actions: [{ type: "ScheduleTask", id: 0, name: "SayHello", input: "Tokyo" }], customStatus: undefined, openTasks: 1, locks: [] });
    const second = host.turn([host.completed(0, "Hello Tokyo!")]);
    expect(second.actions).toEqual([{ type: "ScheduleTask", id: 1, name: "SayHello", input: "Seattle" }]);
    const end = host.drive({ SayHello: sayHello });
    expect(end.end).toEqual({ status: "Completed", output: ["Hello Tokyo!", "Hello Seattle!", "Hello London!"] });
    expect(end.openTasks).toBe(0);
  });

  it("a fresh replay of the whole history ends the same way", () => {
    const host = new TestHost(HelloSequence);
    host.start(["a", "b"]);
    host.drive({ SayHello: sayHello });
    expect(host.end).toEqual({ status: "Completed", output: ["Hello a!", "Hello b!"] });
    expect(host.history.map((e) => e.type)).toEqual([
      "OrchestratorStarted", "ExecutionStarted", "TaskScheduled", "OrchestratorCompleted",
      "OrchestratorStarted", "TaskCompleted", "TaskScheduled", "OrchestratorCompleted",
      "OrchestratorStarted", "TaskCompleted", "ExecutionCompleted", "OrchestratorCompleted",
    ]);
  });

  it("an orchestrator that yields nothing completes in its first turn", () => {
    const Echo = defineOrchestration("Echo", function* (_ctx, input: { n: number }) {
      return { twice: input.n * 2 };
    });
    expect(new TestHost(Echo).start({ n: 21 })).toEqual({ actions: [], end: { status: "Completed", output: { twice: 42 } }, customStatus: undefined, openTasks: 0, locks: [] });
  });
});

describe("fan-out / fan-in", () => {
  it("schedules 1,000 activities in one turn and sums their results, in order", () => {
    const host = new TestHost(FanOut);
    const first = host.start(1000);
    expect(first.actions).toHaveLength(1000);
    expect(first.actions[999]).toEqual({ type: "ScheduleTask", id: 999, name: "Square", input: 999 });
    expect(first.openTasks).toBe(1000);
    // Results arrive out of order, over several turns.
    const ids = first.actions.map((a) => a.id).reverse();
    let result: ReplayResult | undefined;
    for (let i = 0; i < ids.length; i += 250) {
      result = host.turn(ids.slice(i, i + 250).map((id) => host.completed(id, id * id)));
      if (i + 250 < ids.length) expect(result.end).toBeUndefined();
    }
    expect(result!.end).toEqual({ status: "Completed", output: Array.from({ length: 1000 }, (_, i) => i * i).reduce((a, b) => a + b, 0) });
  });

  it("Task.all of no tasks completes at once", () => {
    const Empty = defineOrchestration("Empty", function* (ctx) {
      const all = yield* ctx.Task.all([]);
      return all.length;
    });
    expect(new TestHost(Empty).start().end).toEqual({ status: "Completed", output: 0 });
  });

  it("Task.all fails with the first failure, and the code can catch it", () => {
    const Guarded = defineOrchestration("Guarded", function* (ctx) {
      try {
        yield Task.all([ctx.callActivity("A"), ctx.callActivity("B"), ctx.callActivity("C")]);
        return "all ok";
      } catch (error) {
        return `caught ${(error as Error).message}`;
      }
    });
    const host = new TestHost(Guarded);
    host.start();
    expect(host.turn([host.completed(0, 1)]).end).toBeUndefined();
    const end = host.turn([host.failed(2, "C broke"), host.failed(1, "B broke")]);
    expect(end.end).toEqual({ status: "Completed", output: 'caught activity "C" failed: C broke' });
  });
});

describe("what the context tells", () => {
  it("instanceId, name, input, parentInstanceId, currentUtcDateTime and isReplaying", () => {
    const seen: unknown[] = [];
    const Probe = defineOrchestration("Probe", function* (ctx, input: { x: number }) {
      seen.push({ at: "start", id: ctx.instanceId, name: ctx.name, input: ctx.input, got: ctx.getInput<{ x: number }>(), arg: input, parent: ctx.parentInstanceId, now: ctx.currentUtcDateTime.getTime(), replaying: ctx.isReplaying });
      yield ctx.callActivity("A");
      seen.push({ at: "after A", now: ctx.currentUtcDateTime.getTime(), replaying: ctx.isReplaying });
      yield ctx.callActivity("B");
      seen.push({ at: "after B", now: ctx.currentUtcDateTime.getTime(), replaying: ctx.isReplaying });
      return null;
    });
    const host = new TestHost(Probe, { instanceId: "probe-1", parentInstanceId: "parent-9", verify: false });
    host.start({ x: 1 });
    host.turn([host.completed(0)], 5000);
    seen.length = 0;
    // A fresh executor replays the first two turns, then runs the third.
    const fresh = new TestHost(Probe, { instanceId: "probe-1", parentInstanceId: "parent-9", verify: false });
    fresh.history.push(...host.history);
    fresh.nowMs = host.nowMs;
    fresh.open.set(1, { type: "ScheduleTask", id: 1, name: "B" });
    fresh.turn([fresh.completed(1)], 7000);
    expect(seen).toEqual([
      { at: "start", id: "probe-1", name: "Probe", input: { x: 1 }, got: { x: 1 }, arg: { x: 1 }, parent: "parent-9", now: START_MS, replaying: true },
      { at: "after A", now: START_MS + 5000, replaying: true },
      { at: "after B", now: START_MS + 12000, replaying: false },
    ]);
  });
});
