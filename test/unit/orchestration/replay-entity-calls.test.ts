import { describe, expect, it } from "vitest";
import { defineOrchestration, isTaskFailedError, Task, type HistoryEvent } from "../../../src/orchestration/index.js";
import { START_MS, TestHost } from "./support/test-host.js";

// Every TestHost turn also replays the whole history on a fresh executor and checks it agrees with the cached one.

const GetBalance = defineOrchestration("GetBalance", function* (ctx, id: string) {
  const balance: number = yield ctx.callEntity(id, "get");
  return balance;
});

const sentEvents = (host: TestHost) => host.history.filter((e): e is Extract<HistoryEvent, { type: "EventSent" }> => e.type === "EventSent");

describe("ctx.callEntity", () => {
  it("asks for a CallEntity, records an EventSent, and completes with the @entity answer's result", () => {
    const host = new TestHost(GetBalance);
    expect(host.start("Account/alice")).toEqual({ actions: [{ type: "CallEntity", id: 0, entityId: "Account/alice", operation: "get" }], customStatus: undefined, openTasks: 1, locks: [] });
    expect(sentEvents(host)).toEqual([{ type: "EventSent", timestamp: START_MS, eventId: 0, instanceId: "Account/alice", name: "get", entityRequest: "call" }]);
    expect(host.turn([host.entityResult(0, 42)]).end).toEqual({ status: "Completed", output: 42 });
  });

  it("carries a copy of the input, and calls run in parallel under Task.all", () => {
    const Pair = defineOrchestration("Pair", function* (ctx) {
      const input = { amount: 5 };
      const a = ctx.callEntity<number>("Account/a", "deposit", input);
      input.amount = 99;
      const b = ctx.entity("Account/b").call.deposit!(7);
      return yield* Task.all([a, b]);
    });
    const host = new TestHost(Pair);
    expect(host.start().actions).toEqual([
      { type: "CallEntity", id: 0, entityId: "Account/a", operation: "deposit", input: { amount: 5 } },
      { type: "CallEntity", id: 1, entityId: "Account/b", operation: "deposit", input: 7 },
    ]);
    expect(host.turn([host.entityResult(1, 17)]).end).toBeUndefined();
    expect(host.turn([host.entityResult(0, 5)]).end).toEqual({ status: "Completed", output: [5, 17] });
  });

  it("an uncaught failure fails the instance as EntityOperationFailed, the entity's failure inside", () => {
    const host = new TestHost(GetBalance);
    host.start("Account/alice");
    const result = host.turn([host.entityFailed(0, { errorType: "unknown_operation", message: 'Account has no operation "get"' })]);
    expect(result.end).toEqual({
      status: "Failed",
      failure: {
        errorType: "EntityOperationFailed",
        message: 'operation "get" of entity "Account/alice" failed: Account has no operation "get"',
        taskName: "get",
        inner: { errorType: "unknown_operation", message: 'Account has no operation "get"' },
      },
    });
  });

  it("a failure is a TaskFailedError the code can catch", () => {
    const Careful = defineOrchestration("Careful", function* (ctx) {
      try {
        yield ctx.callEntity("Account/bob", "withdraw", 500);
        return "moved";
      } catch (error) {
        if (!isTaskFailedError(error)) throw error;
        return { name: error.name, errorType: error.failure.errorType, entityId: error.entityId, taskName: error.taskName, taskId: error.taskId, message: error.message };
      }
    });
    const host = new TestHost(Careful);
    host.start();
    expect(host.turn([host.entityFailed(0, "insufficient funds")]).end).toEqual({
      status: "Completed",
      output: { name: "EntityOperationFailed", errorType: "operation_failed", entityId: "Account/bob", taskName: "withdraw", taskId: 0, message: 'operation "withdraw" of entity "Account/bob" failed: insufficient funds' },
    });
  });

  it("an answer that is neither { result } nor { failure } fails the call (errorType internal)", () => {
    const host = new TestHost(GetBalance);
    host.start("Account/alice");
    const result = host.turn([host.raised("@entity:0", "oops")]);
    expect(result.end).toMatchObject({ status: "Failed", failure: { errorType: "EntityOperationFailed", inner: { errorType: "internal" } } });
  });

  it("refuses bad arguments at the call with a TypeError the code may catch", () => {
    const Bad = defineOrchestration("Bad", function* (ctx) {
      const errors: string[] = [];
      const attempts: Array<() => unknown> = [
        () => ctx.callEntity("alice", "get"),
        () => ctx.callEntity("Account/alice", ""),
        () => ctx.callEntity("Account/alice", "add", { f: () => 1 }),
        () => ctx.entity("nope"),
      ];
      for (const attempt of attempts) {
        try {
          attempt();
        } catch (error) {
          errors.push(`${(error as Error).name}: ${(error as Error).message}`);
        }
      }
      yield ctx.createTimer(0);
      return errors;
    });
    const host = new TestHost(Bad);
    expect(host.start().actions).toEqual([{ type: "CreateTimer", id: 0, fireAt: 0 }]);
    const output = (host.turn([host.fired(0)]).end as { output: string[] }).output;
    expect(output).toHaveLength(4);
    expect(output[0]).toBe('TypeError: callEntity takes an entity id Name/key (e.g. "Account/alice"); got "alice"');
    expect(output[1]).toBe('TypeError: callEntity("Account/alice") takes an operation name (a non-empty string); got an empty string');
    expect(output[2]).toMatch(/^TypeError: callEntity\("Account\/alice", "add"\): the input .*function/);
    expect(output[3]).toBe('TypeError: entity takes an entity id Name/key (e.g. "Account/alice"); got "nope"');
  });
});

describe("ctx.signalEntity", () => {
  const Signals = defineOrchestration("Signals", function* (ctx) {
    const none = ctx.signalEntity("Counter/a", "add", 1);
    ctx.signalEntity("Counter/a", "reset");
    ctx.signalEntity("Counter/b", "add", 2, { at: new Date(ctx.currentUtcDateTime.getTime() + 5000) });
    ctx.entity("Counter/c").signal.add!(3, { at: 1_000 });
    const after: number = yield ctx.callEntity("Counter/a", "get");
    return { none: none === undefined, after };
  });

  it("is one-way: SignalEntity actions (at in epoch ms when scheduled) and EventSent with scheduledTime, nothing to wait for", () => {
    const host = new TestHost(Signals);
    const first = host.start();
    expect(first.actions).toEqual([
      { type: "SignalEntity", id: 0, entityId: "Counter/a", operation: "add", input: 1 },
      { type: "SignalEntity", id: 1, entityId: "Counter/a", operation: "reset" },
      { type: "SignalEntity", id: 2, entityId: "Counter/b", operation: "add", input: 2, at: START_MS + 5000 },
      { type: "SignalEntity", id: 3, entityId: "Counter/c", operation: "add", input: 3, at: 1_000 },
      { type: "CallEntity", id: 4, entityId: "Counter/a", operation: "get" },
    ]);
    expect(first.openTasks).toBe(1);
    expect(sentEvents(host).slice(0, 3)).toEqual([
      { type: "EventSent", timestamp: START_MS, eventId: 0, instanceId: "Counter/a", name: "add", input: 1, entityRequest: "signal" },
      { type: "EventSent", timestamp: START_MS, eventId: 1, instanceId: "Counter/a", name: "reset", entityRequest: "signal" },
      { type: "EventSent", timestamp: START_MS, eventId: 2, instanceId: "Counter/b", name: "add", input: 2, entityRequest: "signal", scheduledTime: START_MS + 5000 },
    ]);
    expect(host.turn([host.entityResult(4, 0)]).end).toEqual({ status: "Completed", output: { none: true, after: 0 } });
  });

  it("refuses a time that is not a Date or epoch ms, and options that are not an object", () => {
    const BadAt = defineOrchestration("BadAt", function* (ctx) {
      const messages: string[] = [];
      for (const options of [{ at: new Date(Number.NaN) }, { at: "tomorrow" }, 5]) {
        try {
          ctx.signalEntity("Counter/a", "add", 1, options as never);
        } catch (error) {
          messages.push((error as Error).message);
        }
      }
      return messages;
    });
    expect(new TestHost(BadAt).start().end).toEqual({
      status: "Completed",
      output: [
        'signalEntity("Counter/a", "add"): "at" takes a valid Date or epoch milliseconds; got Invalid Date',
        'signalEntity("Counter/a", "add"): "at" takes a valid Date or epoch milliseconds; got tomorrow',
        'signalEntity("Counter/a", "add"): the options must be an object such as { at: Date }',
      ],
    });
  });
});

describe("reserved event names (@entity:, @lock:)", () => {
  it("an answer for no open task (unknown id, another kind, already answered, malformed name) is ignored", () => {
    const host = new TestHost(GetBalance);
    host.start("Account/alice");
    const stray = host.turn([host.raised("@entity:7", { result: 1 }), host.raised("@lock:0", { entities: ["Account/alice"] }), host.raised("@entity:00", { result: 2 }), host.raised("@other", 3)]);
    expect(stray).toMatchObject({ actions: [], openTasks: 1 });
    expect(stray.end).toBeUndefined();
    expect(host.turn([host.entityResult(0, 5), host.entityResult(0, 6)]).end).toEqual({ status: "Completed", output: 5 });
  });

  it("never reach waitForExternalEvent, which refuses the names, nor the events carried over by continueAsNew", () => {
    const Waiter = defineOrchestration("Waiter", function* (ctx) {
      let refused = "";
      try {
        ctx.waitForExternalEvent("@entity:0");
      } catch (error) {
        refused = (error as Error).message;
      }
      const event: string = yield ctx.waitForExternalEvent("go");
      ctx.continueAsNew({ refused, event }, { preserveUnprocessedEvents: true });
    });
    const host = new TestHost(Waiter);
    host.start();
    const result = host.turn([host.raised("@entity:0", { result: 1 }), host.raised("go", "now"), host.raised("@lock:3", {}), host.raised("later", 1)]);
    expect(result.end).toEqual({
      status: "ContinuedAsNew",
      input: { refused: 'waitForExternalEvent("@entity:0"): event names starting with "@" are reserved for entity answers and lock grants', event: "now" },
      carryOver: [{ name: "later", input: 1 }],
    });
  });

  it("an answer that arrives before the call is made is not kept for it", () => {
    const Late = defineOrchestration("Late", function* (ctx) {
      yield ctx.createTimer(0);
      return yield ctx.callEntity("Account/a", "get");
    });
    const host = new TestHost(Late);
    host.start();
    host.turn([host.raised("@entity:1", { result: "early" })]);
    expect(host.turn([host.fired(0)]).actions).toEqual([{ type: "CallEntity", id: 1, entityId: "Account/a", operation: "get" }]);
    expect(host.turn([host.entityResult(1, "on time")]).end).toEqual({ status: "Completed", output: "on time" });
  });
});
