import { describe, expect, it } from "vitest";
import { defineOrchestration, isTaskFailedError, type RetryOptions } from "../../../src/orchestration/index.js";
import { START_MS, TestHost } from "./support/test-host.js";

function flaky(retry: RetryOptions) {
  return defineOrchestration("Flaky", function* (ctx) {
    return yield ctx.callActivityWithRetry("Charge", retry, { amount: 5 });
  });
}

describe("retries", () => {
  it("waits on a durable timer for the backoff, then asks again with a new action id", () => {
    const host = new TestHost(flaky({ firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 3 }));
    expect(host.start().actions).toEqual([{ type: "ScheduleTask", id: 0, name: "Charge", input: { amount: 5 } }]);
    const afterFailure = host.turn([host.failed(0, "card declined")]);
    expect(afterFailure.actions).toEqual([{ type: "CreateTimer", id: 1, fireAt: host.nowMs + 1000 }]);
    expect(afterFailure.openTasks).toBe(1);
    const retried = host.turn([host.fired(1)], 1000);
    expect(retried.actions).toEqual([{ type: "ScheduleTask", id: 2, name: "Charge", input: { amount: 5 } }]);
    expect(host.turn([host.completed(2, "ok")]).end).toEqual({ status: "Completed", output: "ok" });
  });

  it("backs off by the coefficient, capped by the max interval, and stops after maxNumberOfAttempts", () => {
    const host = new TestHost(flaky({ firstRetryIntervalInMilliseconds: 1000, backoffCoefficient: 2, maxRetryIntervalInMilliseconds: 3000, maxNumberOfAttempts: 4 }));
    host.start();
    const delays: number[] = [];
    for (;;) {
      const task = host.openOf("ScheduleTask")[0]!;
      const result = host.turn([host.failed(task.id, { errorType: "Declined", message: "card declined", details: { code: 51 } })]);
      const timer = result.actions.find((a) => a.type === "CreateTimer");
      if (timer === undefined) {
        expect(result.end).toEqual({
          status: "Failed",
          failure: { errorType: "ActivityFailed", message: 'activity "Charge" failed: card declined', taskName: "Charge", inner: { errorType: "Declined", message: "card declined", details: { code: 51 } } },
        });
        break;
      }
      delays.push(timer.fireAt - host.nowMs);
      host.turn([host.fired(timer.id)], timer.fireAt - host.nowMs);
    }
    expect(delays).toEqual([1000, 2000, 3000]);
  });

  it("handle(error) decides which failures are retried", () => {
    const seen: string[] = [];
    const host = new TestHost(
      flaky({
        firstRetryIntervalInMilliseconds: 10,
        maxNumberOfAttempts: 5,
        handle: (error) => {
          seen.push(`${isTaskFailedError(error)} ${error.name} ${error.taskName} ${error.failure.errorType}`);
          return error.failure.errorType === "Transient";
        },
      }),
      { verify: false },
    );
    host.start();
    const retried = host.turn([host.failed(0, { errorType: "Transient", message: "try again" })]);
    expect(retried.actions).toEqual([{ type: "CreateTimer", id: 1, fireAt: host.nowMs + 10 }]);
    host.turn([host.fired(1)], 10);
    const final = host.turn([host.failed(2, { errorType: "Fatal", message: "no" })]);
    expect(final.end).toMatchObject({ status: "Failed", failure: { errorType: "ActivityFailed", taskName: "Charge", inner: { errorType: "Fatal" } } });
    expect(seen).toEqual(["true ActivityFailed Charge Transient", "true ActivityFailed Charge Fatal"]);
  });

  it("a handle that throws fails the task with its error", () => {
    const host = new TestHost(
      flaky({
        firstRetryIntervalInMilliseconds: 10,
        maxNumberOfAttempts: 5,
        handle: () => {
          throw new RangeError("handle broke");
        },
      }),
    );
    host.start();
    expect(host.turn([host.failed(0, "x")]).end).toEqual({ status: "Failed", failure: { errorType: "RangeError", message: "handle broke" } });
  });

  it("retryTimeoutInMilliseconds counts orchestration time from the first attempt: no retry would start after it", () => {
    const host = new TestHost(flaky({ firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 100, retryTimeoutInMilliseconds: 5000 }));
    host.start(); // first attempt at START_MS + 0
    let attempts = 1;
    for (;;) {
      const task = host.openOf("ScheduleTask")[0]!;
      const result = host.turn([host.failed(task.id, "x")], 1000); // each failure arrives 1 s after the attempt
      const timer = result.actions.find((a) => a.type === "CreateTimer");
      if (timer === undefined) break;
      host.turn([host.fired(timer.id)], 1000);
      attempts += 1;
    }
    // Attempts start at 0, 2 s, 4 s; the failure at 5 s would retry at 6 s > 0 + 5 s.
    expect(attempts).toBe(3);
    expect(host.nowMs - START_MS).toBe(5000);
    expect(host.end?.status).toBe("Failed");
  });

  it("bad retry options are a TypeError at the call", () => {
    const Bad = defineOrchestration("BadRetry", function* (ctx) {
      try {
        yield ctx.callActivityWithRetry("A", { firstRetryIntervalInMilliseconds: 0, maxNumberOfAttempts: 3 });
      } catch (error) {
        return (error as Error).message;
      }
      return "no error";
    });
    expect(new TestHost(Bad).start().end).toEqual({ status: "Completed", output: 'callActivityWithRetry("A"): firstRetryIntervalInMilliseconds must be a number above 0; got 0' });
  });

  it("a sub-orchestration is retried with a new child instance each time (or the one given)", () => {
    const Parent = defineOrchestration("Parent", function* (ctx) {
      const a = yield ctx.callSubOrchestrationWithRetry("Child", { firstRetryIntervalInMilliseconds: 5, maxNumberOfAttempts: 2 }, "in");
      const b = yield ctx.callSubOrchestrationWithRetry("Child", { firstRetryIntervalInMilliseconds: 5, maxNumberOfAttempts: 2 }, "in", "fixed-id");
      return [a, b];
    });
    const host = new TestHost(Parent, { instanceId: "p" });
    expect(host.start().actions).toEqual([{ type: "CreateSubOrchestration", id: 0, name: "Child", instanceId: "p:0", input: "in" }]);
    host.turn([host.failed(0, "child failed")]);
    expect(host.turn([host.fired(1)], 5).actions).toEqual([{ type: "CreateSubOrchestration", id: 2, name: "Child", instanceId: "p:2", input: "in" }]);
    expect(host.turn([host.completed(2, "A")]).actions).toEqual([{ type: "CreateSubOrchestration", id: 3, name: "Child", instanceId: "fixed-id", input: "in" }]);
    host.turn([host.failed(3, "child failed")]);
    expect(host.turn([host.fired(4)], 5).actions).toEqual([{ type: "CreateSubOrchestration", id: 5, name: "Child", instanceId: "fixed-id", input: "in" }]);
    expect(host.turn([host.completed(5, "B")]).end).toEqual({ status: "Completed", output: ["A", "B"] });
  });
});
