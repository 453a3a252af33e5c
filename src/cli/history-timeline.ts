import type { HistoryEvent } from "../../clients/index.js";
import { formatFailure, shortJson } from "./instance-format.js";

/**
 * An instance's history as a timeline for people: one line per event, its time after the first
 * event, its type, what it names (the activity, timer or sub-orchestration and its task id) and, in
 * short, its input, result or failure. A completion is named after the event that scheduled it.
 */
export function formatHistory(events: readonly HistoryEvent[]): string[] {
  const first = events[0]?.timestamp ?? 0;
  const scheduled = new Map<number, string>();
  const width = Math.max(0, ...events.map((event) => event.type.length));
  return events.map((event) => {
    if ("eventId" in event) scheduled.set(event.eventId, event.type === "TimerCreated" ? "timer" : event.name);
    const detail = describe(event, (id) => `${scheduled.get(id) ?? "task"} #${id}`, events);
    return `${relativeTime(event.timestamp - first).padStart(11)}  ${detail ? `${event.type.padEnd(width)}  ${detail}` : event.type}`;
  });
}

function describe(event: HistoryEvent, task: (id: number) => string, events: readonly HistoryEvent[]): string {
  switch (event.type) {
    case "ExecutionStarted": {
      const parent = event.parentInstanceId === undefined ? "" : ` (sub-orchestration of ${event.parentInstanceId})`;
      return `${event.name}${parent}${value(" input", event.input)}`;
    }
    case "TaskScheduled":
      return `${event.name} #${event.eventId}${value(" input", event.input)}`;
    case "TaskCompleted":
    case "SubOrchestrationInstanceCompleted":
      return `${task(event.taskScheduledId)}${value(" result", event.result)}`;
    case "TaskFailed":
    case "SubOrchestrationInstanceFailed":
      return `${task(event.taskScheduledId)} failed: ${formatFailure(event.failure, 120)}`;
    case "TimerCreated":
      return `timer #${event.eventId} fires at ${new Date(event.fireAt).toISOString()} (${relativeTime(event.fireAt - event.timestamp)})`;
    case "TimerFired":
      return `timer #${event.timerId}`;
    case "SubOrchestrationInstanceCreated":
      return `${event.name} #${event.eventId} instance ${event.instanceId}${value(" input", event.input)}`;
    case "EventRaised":
      return `${event.name}${value(" data", event.input)}`;
    case "EventSent":
      return `${event.name} #${event.eventId} to ${event.instanceId}${value(" data", event.input)}`;
    case "ExecutionCompleted":
      return event.status === "Completed" ? `Completed${value(" output", event.result)}` : `Failed: ${event.failure ? formatFailure(event.failure, 120) : "(no details)"}`;
    case "ExecutionTerminated":
    case "ExecutionSuspended":
    case "ExecutionResumed":
      return value("reason", event.reason).trim();
    case "ContinueAsNew":
      return value("input", event.input).trim();
    case "ExecutionRewound": {
      // The failures it took back, by the task each failed (they run again).
      const retried = event.rewoundEvents.map((position) => {
        const failed = events[position];
        return failed !== undefined && "taskScheduledId" in failed ? task(failed.taskScheduledId) : `event ${position}`;
      });
      return `${retried.length > 0 ? `retries ${retried.join(", ")}` : "nothing failed to retry"}${value(" reason", event.reason)}`;
    }
    default:
      return "";
  }
}

function value(label: string, data: unknown): string {
  return data === undefined ? "" : `${label} ${shortJson(data, 60)}`;
}

/** `+1.234s`, `+5m03.120s`, `+2h05m03s`, `+3d02h05m`. */
export function relativeTime(ms: number): string {
  const sign = ms < 0 ? "-" : "+";
  const abs = Math.abs(ms);
  const seconds = abs / 1000;
  const two = (n: number) => String(Math.floor(n)).padStart(2, "0");
  if (seconds < 60) return `${sign}${seconds.toFixed(3)}s`;
  if (seconds < 3600) return `${sign}${Math.floor(seconds / 60)}m${(seconds % 60).toFixed(3).padStart(6, "0")}s`;
  if (seconds < 86_400) return `${sign}${Math.floor(seconds / 3600)}h${two((seconds % 3600) / 60)}m${two(seconds % 60)}s`;
  return `${sign}${Math.floor(seconds / 86_400)}d${two((seconds % 86_400) / 3600)}h${two((seconds % 3600) / 60)}m`;
}
