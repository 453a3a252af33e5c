import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../../../src/orchestration/index.js";
import { historyRows } from "../../../../src/server/durable-http/index.js";
import { HistoryRow } from "../../../../src/server/durable-http/schemas.js";

const t = (second: number) => Date.UTC(2026, 11, 1, 12, 0, second);
const iso = (second: number) => new Date(t(second)).toISOString();

const history: HistoryEvent[] = [
  { type: "OrchestratorStarted", timestamp: t(0) },
  { type: "ExecutionStarted", timestamp: t(0), name: "Trip", input: { city: "Oslo" } },
  { type: "TaskScheduled", timestamp: t(0), eventId: 0, name: "Book", input: "flight" },
  { type: "TimerCreated", timestamp: t(0), eventId: 1, fireAt: t(30) },
  { type: "SubOrchestrationInstanceCreated", timestamp: t(0), eventId: 2, name: "Pay", instanceId: "trip:2", input: 5 },
  { type: "TaskScheduled", timestamp: t(0), eventId: 3, name: "Notify" },
  { type: "OrchestratorCompleted", timestamp: t(0) },
  { type: "OrchestratorStarted", timestamp: t(2) },
  { type: "TaskCompleted", timestamp: t(2), taskScheduledId: 0, result: "AB123" },
  { type: "SubOrchestrationInstanceFailed", timestamp: t(2), taskScheduledId: 2, failure: { errorType: "ActivityFailed", message: "card declined", inner: { errorType: "Error", message: "declined" } } },
  { type: "EventRaised", timestamp: t(2), name: "Approval", input: true },
  { type: "EventSent", timestamp: t(2), eventId: 4, instanceId: "Account/a", name: "withdraw", input: 5, entityRequest: "signal" },
  { type: "OrchestratorCompleted", timestamp: t(2) },
  { type: "OrchestratorStarted", timestamp: t(30) },
  { type: "TimerFired", timestamp: t(30), timerId: 1, fireAt: t(30) },
  { type: "ExecutionSuspended", timestamp: t(31), reason: "lunch" },
  { type: "ExecutionCompleted", timestamp: t(31), status: "Completed", result: ["AB123"] },
  { type: "OrchestratorCompleted", timestamp: t(31) },
];

describe("history rows as Durable Functions shows them", () => {
  it("leaves out the orchestrator's own events, folds finished tasks into their completions, and keeps open ones", () => {
    const rows = historyRows(history, false);
    expect(rows).toEqual([
      { EventType: "ExecutionStarted", Timestamp: iso(0), FunctionName: "Trip" },
      { EventType: "TimerCreated", Timestamp: iso(0), FireAt: iso(30) },
      { EventType: "TaskScheduled", Timestamp: iso(0), Name: "Notify" },
      { EventType: "TaskCompleted", Timestamp: iso(2), FunctionName: "Book", ScheduledTime: iso(0) },
      {
        EventType: "SubOrchestrationInstanceFailed",
        Timestamp: iso(2),
        FunctionName: "Pay",
        ScheduledTime: iso(0),
        Reason: "card declined",
        FailureDetails: { ErrorType: "ActivityFailed", ErrorMessage: "card declined", InnerFailure: { ErrorType: "Error", ErrorMessage: "declined" } },
      },
      { EventType: "EventRaised", Timestamp: iso(2), Name: "Approval" },
      { EventType: "EventSent", Timestamp: iso(2), InstanceId: "Account/a", Name: "withdraw", Input: 5 },
      { EventType: "TimerFired", Timestamp: iso(30), FireAt: iso(30) },
      { EventType: "ExecutionSuspended", Timestamp: iso(31), Reason: "lunch" },
      { EventType: "ExecutionCompleted", Timestamp: iso(31), OrchestrationStatus: "Completed" },
    ]);
    for (const row of rows) expect(HistoryRow.safeParse(row).success).toBe(true);
  });

  it("shows results with showHistoryOutput", () => {
    const rows = historyRows(history, true);
    expect(rows.find((row) => row.EventType === "TaskCompleted")).toMatchObject({ Result: "AB123" });
    expect(rows.find((row) => row.EventType === "ExecutionCompleted")).toMatchObject({ Result: ["AB123"] });
    expect(rows.find((row) => row.EventType === "SubOrchestrationInstanceFailed")).not.toHaveProperty("Result");
  });

  it("shows a failed execution's failure", () => {
    const rows = historyRows([{ type: "ExecutionStarted", timestamp: t(0), name: "X" }, { type: "ExecutionCompleted", timestamp: t(1), status: "Failed", failure: { errorType: "TypeError", message: "boom" } }], true);
    expect(rows[1]).toEqual({ EventType: "ExecutionCompleted", Timestamp: iso(1), OrchestrationStatus: "Failed", FailureDetails: { ErrorType: "TypeError", ErrorMessage: "boom" } });
  });
});
