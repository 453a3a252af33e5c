import { describe, expect, it } from "vitest";
import { defineOrchestration, Task } from "../../../src/orchestration/index.js";
import { START_MS, TestHost } from "./support/test-host.js";

const Approval = defineOrchestration("Approval", function* (ctx, timeoutMs: number) {
  const approved = ctx.waitForExternalEvent<boolean>("Approved");
  const deadline = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + timeoutMs));
  const winner = yield* Task.any([approved, deadline]);
  if (winner === approved) {
    deadline.cancel();
    return approved.result ? "approved" : "rejected";
  }
  return "timed out";
});

describe("durable timers", () => {
  it("createTimer takes a Date or epoch ms and completes when its TimerFired arrives", () => {
    const Sleeper = defineOrchestration("Sleeper", function* (ctx) {
      yield ctx.createTimer(ctx.currentUtcDateTime.getTime() + 60_000);
      const t = ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 1000));
      yield t;
      return { fireAt: t.fireAt.getTime(), cancelled: t.isCancelled, done: t.isCompleted };
    });
    const host = new TestHost(Sleeper);
    expect(host.start().actions).toEqual([{ type: "CreateTimer", id: 0, fireAt: START_MS + 60_000 }]);
    const second = host.turn([host.fired(0)], 60_000);
    expect(second.actions).toEqual([{ type: "CreateTimer", id: 1, fireAt: START_MS + 61_000 }]);
    expect(host.drive({}).end).toEqual({ status: "Completed", output: { fireAt: START_MS + 61_000, cancelled: false, done: true } });
  });

  it("an invalid time is a TypeError at the call", () => {
    const Bad = defineOrchestration("BadTimer", function* (ctx) {
      try {
        ctx.createTimer(new Date("not a date"));
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
      return "no error";
    });
    expect(new TestHost(Bad).start().end).toEqual({ status: "Completed", output: "TypeError: createTimer takes a valid Date or epoch milliseconds; got Invalid Date" });
  });
});

describe("Task.any: an event against a timer", () => {
  it("the event wins: the timer is cancelled (CancelTimer) and its late TimerFired is ignored", () => {
    const host = new TestHost(Approval);
    expect(host.start(3_600_000).actions).toEqual([{ type: "CreateTimer", id: 0, fireAt: START_MS + 3_600_000 }]);
    const approved = host.turn([host.raised("Approved", true)]);
    expect(approved).toEqual({ actions: [{ type: "CancelTimer", id: 0 }], end: { status: "Completed", output: "approved" }, customStatus: undefined, openTasks: 0, locks: [] });
  });

  it("the timer wins", () => {
    const host = new TestHost(Approval);
    host.start(1000);
    expect(host.drive({}).end).toEqual({ status: "Completed", output: "timed out" });
  });

  it("both in one turn: the first event applied wins; the timer's firing after the cancel is ignored", () => {
    const host = new TestHost(Approval);
    host.start(1000);
    const result = host.turn([host.raised("Approved", false), host.fired(0)]);
    expect(result.end).toEqual({ status: "Completed", output: "rejected" });
    expect(result.actions).toEqual([{ type: "CancelTimer", id: 0 }]);
  });

  it("a timer created and cancelled in the same turn is never asked for", () => {
    const Quick = defineOrchestration("Quick", function* (ctx) {
      const t = ctx.createTimer(ctx.currentUtcDateTime.getTime() + 1000);
      t.cancel();
      t.cancel();
      const value = yield ctx.callActivity("A");
      return { value, cancelled: t.isCancelled };
    });
    const host = new TestHost(Quick);
    expect(host.start().actions).toEqual([{ type: "ScheduleTask", id: 1, name: "A" }]);
    expect(host.turn([host.completed(1, 5)]).end).toEqual({ status: "Completed", output: { value: 5, cancelled: true } });
  });

  it("Task.any completes with a failed task without throwing", () => {
    const Race = defineOrchestration("Race", function* (ctx) {
      const a = ctx.callActivity("A");
      const b = ctx.callActivity("B");
      const winner = yield* Task.any([a, b]);
      return { a: winner === a, faulted: winner.isFaulted, completed: winner.isCompleted };
    });
    const host = new TestHost(Race);
    host.start();
    expect(host.turn([host.failed(0, "no")]).end).toEqual({ status: "Completed", output: { a: true, faulted: true, completed: true } });
  });
});

describe("external events", () => {
  it("events raised before the wait are kept, in order (FIFO), and names match case-insensitively", () => {
    const Collect = defineOrchestration("Collect", function* (ctx) {
      yield ctx.createTimer(ctx.currentUtcDateTime.getTime() + 10);
      const first = yield ctx.waitForExternalEvent("item");
      const second = yield ctx.waitForExternalEvent("Item");
      const other = yield ctx.waitForExternalEvent("other");
      const third = yield ctx.waitForExternalEvent("ITEM");
      return [first, second, other, third];
    });
    const host = new TestHost(Collect);
    host.start();
    host.turn([host.raised("Item", 1), host.raised("other", "x"), host.raised("item", 2)]);
    host.turn([host.raised("item", 3)]);
    expect(host.drive({}).end).toEqual({ status: "Completed", output: [1, 2, "x", 3] });
  });

  it("several waiters for one name are served in the order they waited", () => {
    const Waiters = defineOrchestration("Waiters", function* (ctx) {
      const a = ctx.waitForExternalEvent("go");
      const b = ctx.waitForExternalEvent("go");
      const c = ctx.waitForExternalEvent("go");
      return yield* Task.all([c, b, a]);
    });
    const host = new TestHost(Waiters);
    host.start();
    host.turn([host.raised("go", "first")]);
    expect(host.turn([host.raised("go", "second"), host.raised("go", "third")]).end).toEqual({ status: "Completed", output: ["third", "second", "first"] });
  });

  it("the code gets a copy of an event's input: changing it does not change the history", () => {
    const Mutate = defineOrchestration("Mutate", function* (ctx) {
      const value = yield ctx.waitForExternalEvent<{ n: number }>("e");
      value.n += 1;
      return value;
    });
    const host = new TestHost(Mutate);
    host.start();
    expect(host.turn([host.raised("e", { n: 1 })]).end).toEqual({ status: "Completed", output: { n: 2 } });
    expect(host.history.find((e) => e.type === "EventRaised")).toMatchObject({ input: { n: 1 } });
  });

  it("an empty event name is a TypeError at the call", () => {
    const NoName = defineOrchestration("NoName", function* (ctx) {
      yield ctx.waitForExternalEvent("");
    });
    expect(new TestHost(NoName).start().end).toEqual({ status: "Failed", failure: { errorType: "TypeError", message: "waitForExternalEvent takes an event name (a non-empty string); got an empty string" } });
  });
});
