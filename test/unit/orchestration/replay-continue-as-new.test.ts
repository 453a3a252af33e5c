import { describe, expect, it } from "vitest";
import { defineOrchestration } from "../../../src/orchestration/index.js";
import { TestHost } from "./support/test-host.js";

function counter(preserve: boolean) {
  return defineOrchestration("Counter", function* (ctx, count: number) {
    const step = yield ctx.waitForExternalEvent<number>("add");
    ctx.setCustomStatus({ count: count + step });
    ctx.continueAsNew(count + step, { preserveUnprocessedEvents: preserve });
    return "ignored";
  });
}

describe("continueAsNew", () => {
  it("ends the execution with the new input; unconsumed events are dropped by default", () => {
    const host = new TestHost(counter(false));
    host.start(0);
    const result = host.turn([host.raised("add", 2), host.raised("add", 3)]);
    expect(result).toEqual({ actions: [], end: { status: "ContinuedAsNew", input: 2, carryOver: [] }, customStatus: { count: 2 }, openTasks: 0, locks: [] });
  });

  it("with preserveUnprocessedEvents, carries the events not consumed, in order, also those after the end in the same turn", () => {
    const host = new TestHost(counter(true));
    host.start(0);
    host.turn([host.raised("other", "x")]);
    const result = host.turn([host.raised("add", 2), host.raised("add", 3), host.raised("other", "y"), host.raised("add")]);
    expect(result.end).toEqual({ status: "ContinuedAsNew", input: 2, carryOver: [{ name: "other", input: "x" }, { name: "add", input: 3 }, { name: "other", input: "y" }, { name: "add" }] });
  });

  it("the next execution gets the carried events and a fresh history", () => {
    const host = new TestHost(counter(true), { instanceId: "c", generation: 1 });
    host.turn([
      { type: "ExecutionStarted", name: "Counter", input: 2, generation: 1 },
      host.raised("add", 3),
    ]);
    expect(host.last.end).toEqual({ status: "ContinuedAsNew", input: 5, carryOver: [] });
  });

  it("work asked for in the same step is still reported; a continueAsNew followed by a yield ends there too", () => {
    const Eternal = defineOrchestration("Eternal", function* (ctx, n: number) {
      ctx.callActivity("Report", n);
      ctx.continueAsNew(n + 1);
      yield ctx.createTimer(ctx.currentUtcDateTime.getTime() + 1000);
      throw new Error("never runs");
    });
    const result = new TestHost(Eternal).start(1);
    expect(result.end).toEqual({ status: "ContinuedAsNew", input: 2, carryOver: [] });
    expect(result.actions.map((a) => a.type)).toEqual(["ScheduleTask", "CreateTimer"]);
  });

  it("a non-JSON input is a TypeError at the call", () => {
    const Bad = defineOrchestration("Bad", function* (ctx) {
      ctx.continueAsNew({ f: () => 1 });
    });
    expect(new TestHost(Bad).start().end).toEqual({ status: "Failed", failure: { errorType: "TypeError", message: "continueAsNew: the input $.f is a function, which JSON cannot carry" } });
  });
});

describe("custom status", () => {
  it("is reported after each turn, survives replay, and must be JSON", () => {
    const Status = defineOrchestration("Status", function* (ctx) {
      ctx.setCustomStatus("starting");
      yield ctx.callActivity("A");
      ctx.setCustomStatus({ stage: 2, at: ctx.currentUtcDateTime });
      yield ctx.callActivity("B");
      try {
        ctx.setCustomStatus({ bad: 1n });
      } catch (error) {
        return (error as Error).message;
      }
      return "no error";
    });
    const host = new TestHost(Status);
    expect(host.start().customStatus).toBe("starting");
    const second = host.turn([host.completed(0)]);
    expect(second.customStatus).toEqual({ stage: 2, at: new Date(host.nowMs).toISOString() });
    const last = host.turn([host.completed(1)]);
    expect(last.end).toEqual({ status: "Completed", output: "setCustomStatus: the status $.bad is a bigint, which JSON cannot carry" });
    expect(last.customStatus).toEqual({ stage: 2, at: new Date(host.nowMs - 1000).toISOString() });
  });

  it("is undefined when never set", () => {
    const None = defineOrchestration("None", function* () {
      return 1;
    });
    expect(new TestHost(None).start().customStatus).toBeUndefined();
  });
});
