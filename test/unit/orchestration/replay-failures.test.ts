import { describe, expect, it } from "vitest";
import { defineOrchestration, replay, type OrchestrationDefinition } from "../../../src/orchestration/index.js";
import { TestHost } from "./support/test-host.js";

function ending(definition: OrchestrationDefinition, input?: unknown) {
  return new TestHost(definition).start(input).end;
}

describe("an exception that escapes the orchestrator fails the execution", () => {
  it("with the error's name and message (and its JSON details)", () => {
    const Throws = defineOrchestration("Throws", function* () {
      throw Object.assign(new RangeError("out of range"), { details: { max: 3 } });
    });
    expect(ending(Throws)).toEqual({ status: "Failed", failure: { errorType: "RangeError", message: "out of range", details: { max: 3 } } });
  });

  it("a thrown non-error is described", () => {
    const ThrowsString = defineOrchestration("ThrowsString", function* () {
      throw "nope";
    });
    expect(ending(ThrowsString)).toEqual({ status: "Failed", failure: { errorType: "Error", message: 'the orchestrator threw "nope"' } });
  });

  it("an unhandled activity failure names the task and keeps the inner failure", () => {
    const Unhandled = defineOrchestration("Unhandled", function* (ctx) {
      yield ctx.callActivity("Charge", 5);
    });
    const host = new TestHost(Unhandled);
    host.start();
    const inner = { errorType: "CardDeclined", message: "declined", details: { code: 51 } };
    expect(host.turn([host.failed(0, inner)]).end).toEqual({
      status: "Failed",
      failure: { errorType: "ActivityFailed", message: 'activity "Charge" failed: declined', taskName: "Charge", inner },
    });
  });

  it("after a failure, later events change nothing", () => {
    const Throws = defineOrchestration("ThrowsLater", function* (ctx) {
      yield ctx.callActivity("A");
      throw new Error("bad");
    });
    const host = new TestHost(Throws);
    host.start();
    host.turn([host.completed(0)]);
    expect(host.end).toEqual({ status: "Failed", failure: { errorType: "Error", message: "bad" } });
  });
});

describe("ctx outside the orchestrator's steps", () => {
  it("refuses calls made from a callback (they could not replay)", () => {
    let saved: (() => unknown) | undefined;
    const Leaks = defineOrchestration("Leaks", function* (ctx) {
      const timer = ctx.createTimer(0);
      saved = () => ctx.callActivity("Later");
      yield ctx.waitForExternalEvent("never");
      timer.cancel();
    });
    new TestHost(Leaks).start();
    expect(saved).toThrow("ctx.callActivity was called outside the orchestrator's steps (from a callback, or after an await?)");
  });
});

describe("values must be JSON", () => {
  it("a non-JSON input is a TypeError at the call site, which the code can catch", () => {
    const Caught = defineOrchestration("Caught", function* (ctx) {
      try {
        yield ctx.callActivity("A", { when: 1n });
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
      return "no error";
    });
    const result = new TestHost(Caught).start();
    expect(result.actions).toEqual([]);
    expect(result.end).toEqual({ status: "Completed", output: 'TypeError: callActivity("A"): the input $.when is a bigint, which JSON cannot carry' });
  });

  it("inputs are copied when asked for (later changes do not reach the action)", () => {
    const Copies = defineOrchestration("Copies", function* (ctx) {
      const order = { items: [1] };
      const task = ctx.callActivity("A", order);
      order.items.push(2);
      return yield task;
    });
    expect(new TestHost(Copies).start().actions).toEqual([{ type: "ScheduleTask", id: 0, name: "A", input: { items: [1] } }]);
  });

  it("an output that is not JSON fails the execution", () => {
    const BadOutput = defineOrchestration("BadOutput", function* () {
      return { f: Symbol("x") };
    });
    expect(ending(BadOutput)).toEqual({ status: "Failed", failure: { errorType: "TypeError", message: 'orchestration "BadOutput": the output $.f is a symbol, which JSON cannot carry' } });
  });
});

describe("what the orchestrator yields", () => {
  it("a Promise fails the execution: orchestrators must not await", () => {
    const Awaits = defineOrchestration("Awaits", function* () {
      yield Promise.resolve(1);
    });
    expect(ending(Awaits)).toEqual({
      status: "Failed",
      failure: { errorType: "TypeError", message: 'orchestration "Awaits": yield a task from ctx (callActivity, createTimer, waitForExternalEvent, Task.all, …); got a Promise: orchestrators must not await' },
    });
  });

  it("an array of tasks gets a hint about Task.all", () => {
    const Array = defineOrchestration("YieldsArray", function* (ctx) {
      yield [ctx.callActivity("A")];
    });
    expect(ending(Array)).toMatchObject({ status: "Failed", failure: { errorType: "TypeError", message: expect.stringContaining("got an array: to wait for several tasks, yield Task.all([...])") } });
  });

  it("an async function or async generator is not an orchestrator", () => {
    const Async = defineOrchestration("Async", (async () => 1) as never);
    const AsyncGen = defineOrchestration("AsyncGen", async function* () {
      yield 1;
    } as never);
    expect(ending(Async)).toEqual({
      status: "Failed",
      failure: { errorType: "TypeError", message: 'orchestration "Async" returned a Promise: an orchestrator is a generator function, function* (ctx, input) { … }, that yields tasks (and must not be async)' },
    });
    expect(ending(AsyncGen)).toMatchObject({ status: "Failed", failure: { errorType: "TypeError", message: expect.stringContaining("is an async generator") } });
  });

  it("the executor never throws, even for events of an unknown type or a broken definition", () => {
    const Simple = defineOrchestration("Simple", function* () {
      return 1;
    });
    const result = replay({ instanceId: "x", definition: Simple, past: [], newEvents: [{ type: "Mystery", timestamp: 1 } as never, { type: "OrchestratorStarted", timestamp: 1 }, { type: "ExecutionStarted", timestamp: 1, name: "Simple" }] });
    expect(result.end).toEqual({ status: "Completed", output: 1 });
    const broken = replay({ instanceId: "x", definition: { name: "Broken", orchestrator: 42 } as never, past: [], newEvents: [{ type: "OrchestratorStarted", timestamp: 1 }, { type: "ExecutionStarted", timestamp: 1, name: "Broken" }] });
    expect(broken.end).toMatchObject({ status: "Failed", failure: { errorType: "TypeError" } });
  });
});
