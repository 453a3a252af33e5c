import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../../clients/index.js";
import { buildTimeline } from "../../../src/dashboard/timeline-model.js";
import { entityHash, parseRoute } from "../../../src/dashboard/view.js";

const failure = { errorType: "Error", message: "boom", taskName: "Flaky" };

describe("buildTimeline", () => {
  it("makes one bar per activity, timer, sub-orchestration and entity call, from scheduling to completion, failures kept", () => {
    const events = [
      { type: "ExecutionStarted", timestamp: 1000, name: "Main" },
      { type: "TaskScheduled", timestamp: 1000, eventId: 0, name: "Flaky" },
      { type: "TaskFailed", timestamp: 1100, taskScheduledId: 0, failure },
      { type: "TimerCreated", timestamp: 1100, eventId: 1, fireAt: 1200 },
      { type: "TimerFired", timestamp: 1205, timerId: 1, fireAt: 1200 },
      { type: "SubOrchestrationInstanceCreated", timestamp: 1205, eventId: 2, name: "Child", instanceId: "c1" },
      { type: "SubOrchestrationInstanceCompleted", timestamp: 1300, taskScheduledId: 2, result: 1 },
      { type: "EventSent", timestamp: 1300, eventId: 3, instanceId: "Counter/a", name: "add", input: 1, entityRequest: "call" },
      { type: "EventRaised", timestamp: 1310, name: "@entity:3", input: { failure } },
      { type: "EventSent", timestamp: 1310, eventId: 4, instanceId: "Counter/b", name: "reset", entityRequest: "signal" },
      { type: "EventRaised", timestamp: 1320, name: "Approval", input: true },
      { type: "ExecutionCompleted", timestamp: 1400, status: "Completed", result: 2 },
    ] as HistoryEvent[];
    const timeline = buildTimeline(events, 99_999);
    expect({ start: timeline.start, end: timeline.end }).toEqual({ start: 1000, end: 1400 });
    expect(timeline.bars).toEqual([
      { kind: "activity", label: "Flaky", taskId: 0, start: 1000, end: 1100, failure, running: false },
      { kind: "timer", label: "timer", taskId: 1, start: 1100, end: 1205, running: false },
      { kind: "sub-orchestration", label: "Child (c1)", taskId: 2, start: 1205, end: 1300, running: false },
      { kind: "entity", label: "Counter/a add", taskId: 3, start: 1300, end: 1310, failure, running: false },
      { kind: "entity", label: "signal Counter/b reset", start: 1310, end: 1310, running: false },
      { kind: "event", label: "event Approval", start: 1320, end: 1320, running: false },
    ]);
  });

  it("runs the bars of tasks not yet ended up to now while the instance runs", () => {
    const events = [
      { type: "ExecutionStarted", timestamp: 1000, name: "Main" },
      { type: "TaskScheduled", timestamp: 1010, eventId: 0, name: "Slow" },
    ] as HistoryEvent[];
    const timeline = buildTimeline(events, 5000);
    expect(timeline.end).toBe(5000);
    expect(timeline.bars).toEqual([{ kind: "activity", label: "Slow", taskId: 0, start: 1010, end: 5000, running: true }]);
  });
});

describe("dashboard routes", () => {
  it("reads deep links, keys with slashes and encoded parts included", () => {
    expect(parseRoute("")).toEqual({ view: "entities" });
    expect(parseRoute("#/entities/Counter")).toEqual({ view: "entities", type: "Counter" });
    expect(parseRoute("#/entities/Counter/alice")).toEqual({ view: "entity", type: "Counter", key: "alice" });
    expect(parseRoute(entityHash("Files/a/b c"))).toEqual({ view: "entity", type: "Files", key: "a/b c" });
    expect(parseRoute("#/instances")).toEqual({ view: "instances" });
    expect(parseRoute("#/instances/abc%2Fdef")).toEqual({ view: "instance", instanceId: "abc/def" });
    expect(parseRoute("#/health")).toEqual({ view: "health" });
  });
});
