import { describe, expect, it } from "vitest";
import { defineOrchestration, replay, ReplayExecutor, type HistoryEvent, type OrchestrationDefinition } from "../../../src/orchestration/index.js";
import { TestHost } from "./support/test-host.js";

const Original = defineOrchestration("Shipping", function* (ctx) {
  const label = yield ctx.callActivity("PrintLabel", "box");
  yield ctx.createTimer(ctx.currentUtcDateTime.getTime() + 1000);
  const pickup = yield ctx.callActivity("BookPickup", label);
  return pickup;
});

/** The history of Original, two turns in (the timer is pending), and the next turn's events. */
function recorded(): { past: HistoryEvent[]; newEvents: HistoryEvent[] } {
  const host = new TestHost(Original);
  host.start();
  host.turn([host.completed(0, "L-1")]);
  const timer = host.openOf("CreateTimer")[0]!;
  return { past: [...host.history], newEvents: [{ type: "OrchestratorStarted", timestamp: timer.fireAt }, { type: "TimerFired", timestamp: timer.fireAt, timerId: 1, fireAt: timer.fireAt }] };
}

function replayWith(definition: OrchestrationDefinition) {
  const { past, newEvents } = recorded();
  return replay({ instanceId: "ship-1", definition, past, newEvents });
}

function failureMessage(definition: OrchestrationDefinition): string {
  const result = replayWith(definition);
  expect(result.end).toMatchObject({ status: "Failed", failure: { errorType: "non_determinism" } });
  expect(result.actions).toEqual([]);
  return (result.end as { failure: { message: string } }).failure.message;
}

describe("non-determinism: the code no longer matches its history", () => {
  it("the unchanged code replays and goes on", () => {
    expect(replayWith(Original).actions).toEqual([{ type: "ScheduleTask", id: 2, name: "BookPickup", input: "L-1" }]);
  });

  it("a changed activity name", () => {
    const Renamed = defineOrchestration("Shipping", function* (ctx) {
      yield ctx.callActivity("PrintSticker", "box");
    });
    expect(failureMessage(Renamed)).toBe(
      'non-deterministic orchestration "Shipping" at history position 2: the history records activity "PrintLabel" (callActivity) as action 0, but the orchestrator now asks for activity "PrintSticker" (callActivity) as action 0. ' +
        "Was the orchestrator changed while instances were running? Code that changes the order, kind or names of the tasks it starts needs a new orchestration name (or running instances must finish first); inside an orchestrator, use ctx.currentUtcDateTime, ctx.newGuid() and inputs instead of reading the environment.",
    );
  });

  it("a changed action type", () => {
    const TimerFirst = defineOrchestration("Shipping", function* (ctx) {
      const label = yield ctx.callActivity("PrintLabel", "box");
      yield ctx.callSubOrchestration("Wait", label);
    });
    const message = failureMessage(TimerFirst);
    expect(message).toContain("at history position 6: the history records a timer (createTimer) as action 1, but the orchestrator now asks for sub-orchestration \"Wait\" (callSubOrchestration) as action 1");
    expect(message).toContain("Was the orchestrator changed while instances were running?");
  });

  it("a missing action: history records work the code no longer asks for", () => {
    const Shorter = defineOrchestration("Shipping", function* (ctx) {
      yield ctx.callActivity("PrintLabel", "box");
      yield ctx.waitForExternalEvent("never");
    });
    expect(failureMessage(Shorter)).toContain("at history position 6: the history records a timer (createTimer) as action 1, but the orchestrator now asks for nothing as action 1");
  });

  it("an extra action: the code asks for work in a turn whose history ended without it", () => {
    const Longer = defineOrchestration("Shipping", function* (ctx) {
      const audit = ctx.callActivity("Audit");
      const label = yield ctx.callActivity("PrintLabel", "box");
      yield audit;
      return label;
    });
    // Action 0 is now Audit: found at the first TaskScheduled.
    expect(failureMessage(Longer)).toContain('the history records activity "PrintLabel" (callActivity) as action 0, but the orchestrator now asks for activity "Audit" (callActivity) as action 0');
    const Appended = defineOrchestration("Shipping", function* (ctx) {
      const label = yield ctx.callActivity("PrintLabel", "box");
      ctx.callActivity("Audit", label);
      yield ctx.createTimer(ctx.currentUtcDateTime.getTime() + 1000);
    });
    // Audit takes action id 1 where the history has the timer.
    expect(failureMessage(Appended)).toContain('records a timer (createTimer) as action 1, but the orchestrator now asks for activity "Audit" (callActivity) as action 1');
    const ExtraAtEnd = defineOrchestration("Shipping", function* (ctx) {
      const label = yield ctx.callActivity("PrintLabel", "box");
      yield ctx.createTimer(ctx.currentUtcDateTime.getTime() + 1000);
      ctx.callActivity("Audit", label);
      yield ctx.callActivity("BookPickup", label);
    });
    expect(replayWith(ExtraAtEnd).actions.map((a) => a.type === "ScheduleTask" && a.name)).toEqual(["Audit", "BookPickup"]);
    const ExtraInPastTurn = defineOrchestration("Shipping", function* (ctx) {
      const label = yield ctx.callActivity("PrintLabel", "box");
      const timer = ctx.createTimer(ctx.currentUtcDateTime.getTime() + 1000);
      ctx.callActivity("Audit", label);
      yield timer;
    });
    expect(failureMessage(ExtraInPastTurn)).toContain(
      'at history position 8: the orchestrator asks for activity "Audit" (callActivity) as action 2, but the history records nothing for action 2 (the turn that asked for it ended without it)',
    );
  });

  it("a cached executor given the recorded events checks them too", () => {
    const { past, newEvents } = recorded();
    const executor = new ReplayExecutor("ship-1", Original);
    executor.run(past.slice(0, 4), []);
    const result = executor.advance([...past.slice(4), ...newEvents]);
    expect(result.actions).toEqual([{ type: "ScheduleTask", id: 2, name: "BookPickup", input: "L-1" }]);
    const renamed = defineOrchestration("Shipping", function* (ctx) {
      yield ctx.callActivity("PrintLabel", "box");
      yield ctx.callActivity("Other");
    });
    const other = new ReplayExecutor("ship-1", renamed);
    other.run(past.slice(0, 4), []);
    expect(other.advance(past.slice(4)).end).toMatchObject({ status: "Failed", failure: { errorType: "non_determinism" } });
    expect(other.end).toMatchObject({ status: "Failed" });
  });
});
