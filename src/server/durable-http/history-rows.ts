import type { FailureDetails, HistoryEvent } from "../../orchestration/index.js";
import type { FailureRowBody, HistoryRow } from "./schemas.js";

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function failureRow(failure: FailureDetails): FailureRowBody {
  return { ErrorType: failure.errorType, ErrorMessage: failure.message, ...(failure.inner ? { InnerFailure: failureRow(failure.inner) } : {}) };
}

/** Where a task was scheduled: its row (removed once its completion folds it in), name and time. */
interface Scheduled {
  readonly index: number;
  readonly name: string;
  readonly timestamp: number;
}

/**
 * An execution's history as Durable Functions' status API shows it (`showHistory=true`): PascalCase
 * rows with ISO-8601 times; OrchestratorStarted and OrchestratorCompleted left out; a TaskScheduled
 * (or SubOrchestrationInstanceCreated) whose task finished folded into the completion's row as its
 * `FunctionName` and `ScheduledTime`; results only with `showHistoryOutput`; inputs of the start,
 * of scheduled tasks and of raised events left out, as Durable Functions does.
 */
export function historyRows(events: readonly HistoryEvent[], showHistoryOutput: boolean): HistoryRow[] {
  const rows: Array<HistoryRow | undefined> = [];
  const tasks = new Map<number, Scheduled>();
  const subOrchestrations = new Map<number, Scheduled>();
  const fold = (scheduled: Scheduled | undefined): { FunctionName?: string; ScheduledTime?: string } => {
    if (scheduled === undefined) return {};
    rows[scheduled.index] = undefined;
    return { FunctionName: scheduled.name, ScheduledTime: iso(scheduled.timestamp) };
  };
  const output = (value: unknown) => (showHistoryOutput ? { Result: value ?? null } : {});
  for (const event of events) {
    const Timestamp = iso(event.timestamp);
    switch (event.type) {
      case "OrchestratorStarted":
      case "OrchestratorCompleted":
        break;
      case "ExecutionStarted":
        rows.push({ EventType: "ExecutionStarted", Timestamp, FunctionName: event.name });
        break;
      case "TaskScheduled":
        tasks.set(event.eventId, { index: rows.length, name: event.name, timestamp: event.timestamp });
        rows.push({ EventType: "TaskScheduled", Timestamp, Name: event.name });
        break;
      case "TaskCompleted":
        rows.push({ EventType: "TaskCompleted", Timestamp, ...fold(tasks.get(event.taskScheduledId)), ...output(event.result) });
        break;
      case "TaskFailed":
        rows.push({ EventType: "TaskFailed", Timestamp, ...fold(tasks.get(event.taskScheduledId)), Reason: event.failure.message, ...details(event.failure), FailureDetails: failureRow(event.failure) });
        break;
      case "SubOrchestrationInstanceCreated":
        subOrchestrations.set(event.eventId, { index: rows.length, name: event.name, timestamp: event.timestamp });
        rows.push({ EventType: "SubOrchestrationInstanceCreated", Timestamp, Name: event.name, InstanceId: event.instanceId });
        break;
      case "SubOrchestrationInstanceCompleted":
        rows.push({ EventType: "SubOrchestrationInstanceCompleted", Timestamp, ...fold(subOrchestrations.get(event.taskScheduledId)), ...output(event.result) });
        break;
      case "SubOrchestrationInstanceFailed":
        rows.push({ EventType: "SubOrchestrationInstanceFailed", Timestamp, ...fold(subOrchestrations.get(event.taskScheduledId)), Reason: event.failure.message, ...details(event.failure), FailureDetails: failureRow(event.failure) });
        break;
      case "TimerCreated":
        rows.push({ EventType: "TimerCreated", Timestamp, FireAt: iso(event.fireAt) });
        break;
      case "TimerFired":
        rows.push({ EventType: "TimerFired", Timestamp, FireAt: iso(event.fireAt) });
        break;
      case "EventRaised":
        rows.push({ EventType: "EventRaised", Timestamp, Name: event.name });
        break;
      case "EventSent":
        rows.push({ EventType: "EventSent", Timestamp, InstanceId: event.instanceId, Name: event.name, ...(event.input === undefined ? {} : { Input: event.input }) });
        break;
      case "ExecutionCompleted":
        rows.push({
          EventType: "ExecutionCompleted",
          Timestamp,
          OrchestrationStatus: event.status,
          ...(event.status === "Completed" ? output(event.result) : {}),
          ...(event.failure ? { FailureDetails: failureRow(event.failure) } : {}),
        });
        break;
      case "ExecutionTerminated":
        rows.push({ EventType: "ExecutionTerminated", Timestamp });
        break;
      case "ExecutionSuspended":
      case "ExecutionResumed":
      case "ExecutionRewound":
        rows.push({ EventType: event.type, Timestamp, ...(event.reason === undefined ? {} : { Reason: event.reason }) });
        break;
      case "ContinueAsNew":
        rows.push({ EventType: "ContinueAsNew", Timestamp, OrchestrationStatus: "ContinuedAsNew", ...output(event.input) });
        break;
      default:
        event satisfies never; // a new kind of event needs its row here (and in HISTORY_EVENT_TYPES)
    }
  }
  return rows.filter((row): row is HistoryRow => row !== undefined);
}

function details(failure: FailureDetails): { Details?: unknown } {
  return failure.details === undefined ? {} : { Details: failure.details };
}
