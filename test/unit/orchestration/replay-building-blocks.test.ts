import { describe, expect, it } from "vitest";
import { nameBasedUuid } from "../../../src/orchestration/deterministic-guid.js";
import { runDeterministic, seededRandom } from "../../../src/orchestration/determinism-sandbox.js";
import { nextRetryDelay } from "../../../src/orchestration/retry-policy.js";
import { defineOrchestration, replay } from "../../../src/orchestration/index.js";
import { START_MS, TestHost } from "./support/test-host.js";

describe("nameBasedUuid", () => {
  it("is RFC 4122 version 5 in Durable Functions' namespace (checked against Python's uuid.uuid5)", () => {
    expect(nameBasedUuid("instance-1_2026-01-01T12:00:00.000Z_0")).toBe("08edc639-37a5-5fc7-8352-a344a53f66c2");
  });
});

describe("runDeterministic", () => {
  it("keeps Date usable: statics, subclasses, instanceof both ways", () => {
    const outside = new Date(5);
    const seen = runDeterministic(1234, () => 0.5, () => {
      class Stamp extends Date {}
      return {
        now: Date.now(),
        stamp: new Stamp().getTime(),
        stampIsDate: new Stamp() instanceof Date,
        outsideIsDate: outside instanceof Date,
        utc: Date.UTC(2000, 0, 1),
        parse: Date.parse("2000-01-01T00:00:00Z"),
        random: Math.random(),
      };
    });
    expect(seen).toEqual({ now: 1234, stamp: 1234, stampIsDate: true, outsideIsDate: true, utc: 946684800000, parse: 946684800000, random: 0.5 });
    expect(new Date(1234) instanceof Date).toBe(true);
  });

  it("nests, restoring the caller's values", () => {
    const inner = runDeterministic(1, () => 0.1, () => [Date.now(), runDeterministic(2, () => 0.2, () => [Date.now(), Math.random()]), Date.now(), Math.random()]);
    expect(inner).toEqual([1, [2, 0.2], 1, 0.1]);
  });

  it("seededRandom repeats for a seed and differs between seeds", () => {
    const a = seededRandom("x");
    const b = seededRandom("x");
    const c = seededRandom("y");
    const draw = (r: () => number) => [r(), r(), r()];
    const first = draw(a);
    expect(draw(b)).toEqual(first);
    expect(draw(c)).not.toEqual(first);
  });
});

describe("nextRetryDelay", () => {
  const options = { firstRetryIntervalInMilliseconds: 100, backoffCoefficient: 3, maxNumberOfAttempts: 5, maxRetryIntervalInMilliseconds: 1000 };
  it("grows by the coefficient, up to the max interval, for maxNumberOfAttempts in all", () => {
    expect([1, 2, 3, 4, 5].map((attempts) => nextRetryDelay(options, attempts, 0, 0))).toEqual([100, 300, 900, 1000, undefined]);
  });
  it("stops when the retry would start after the timeout", () => {
    const timed = { ...options, retryTimeoutInMilliseconds: 500 };
    expect(nextRetryDelay(timed, 1, 0, 400)).toBe(100);
    expect(nextRetryDelay(timed, 1, 0, 401)).toBeUndefined();
  });
});

describe("completions the executor does not know", () => {
  it("are ignored: an unknown id, an id of another kind, a timer already fired", () => {
    const Wait = defineOrchestration("Wait", function* (ctx) {
      const value = yield ctx.callActivity("A");
      yield ctx.createTimer(ctx.currentUtcDateTime.getTime());
      return value;
    });
    const host = new TestHost(Wait);
    host.start();
    const stray = host.turn([
      { type: "TaskCompleted", taskScheduledId: 99, result: "stray" },
      { type: "TimerFired", timerId: 0, fireAt: START_MS },
      { type: "SubOrchestrationInstanceCompleted", taskScheduledId: 0, result: "wrong kind" },
    ]);
    expect(stray).toEqual({ actions: [], customStatus: undefined, openTasks: 1, locks: [] });
    host.turn([host.completed(0, "right")]);
    expect(host.turn([host.fired(1), host.fired(1)]).end).toEqual({ status: "Completed", output: "right" });
  });

  it("events before ExecutionStarted are kept for the code (a carried-over event)", () => {
    const Wait = defineOrchestration("Wait", function* (ctx) {
      return yield ctx.waitForExternalEvent("e");
    });
    const result = replay({
      instanceId: "x",
      definition: Wait,
      past: [],
      newEvents: [
        { type: "OrchestratorStarted", timestamp: 1 },
        { type: "EventRaised", timestamp: 1, name: "e", input: "early" },
        { type: "ExecutionStarted", timestamp: 1, name: "Wait" },
      ],
    });
    expect(result.end).toEqual({ status: "Completed", output: "early" });
  });
});
