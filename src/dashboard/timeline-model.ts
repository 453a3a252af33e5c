import type { FailureDetails, HistoryEvent } from "../../clients/index.js";

/** What a bar of the timeline stands for. */
export type BarKind = "activity" | "timer" | "sub-orchestration" | "entity" | "lock" | "event";

/** One task of an instance's history, as a span of time (a point for a signal or a raised event). */
export interface TimelineBar {
  readonly kind: BarKind;
  /** The activity, sub-orchestration, `Counter/alice add`, `timer`, the event's name. */
  readonly label: string;
  /** The task id (the scheduling event's eventId), when it has one. */
  readonly taskId?: number;
  readonly start: number;
  /** When it ended; for a task still running, the time the chart was drawn. */
  readonly end: number;
  readonly running: boolean;
  readonly failure?: FailureDetails;
}

/** An instance's history as bars over time, in the order their tasks began. */
export interface Timeline {
  readonly start: number;
  readonly end: number;
  readonly bars: readonly TimelineBar[];
}

interface OpenBar {
  kind: BarKind;
  label: string;
  taskId?: number;
  start: number;
  end?: number;
  failure?: FailureDetails;
}

/**
 * The bars of a history: each activity, timer, sub-orchestration and entity call (or lock) from the
 * event that scheduled it to the event that ended it, failures kept; entity signals and raised
 * events as points. `now` ends the bars of tasks still running.
 */
export function buildTimeline(events: readonly HistoryEvent[], now: number): Timeline {
  const bars: OpenBar[] = [];
  const byTask = new Map<number, OpenBar>();
  const open = (bar: OpenBar) => {
    bars.push(bar);
    if (bar.taskId !== undefined) byTask.set(bar.taskId, bar);
  };
  const close = (taskId: number, at: number, failure?: FailureDetails) => {
    const bar = byTask.get(taskId);
    if (bar === undefined || bar.end !== undefined) return;
    bar.end = at;
    if (failure !== undefined) bar.failure = failure;
  };
  let finished: number | undefined;
  for (const event of events) {
    switch (event.type) {
      case "TaskScheduled":
        open({ kind: "activity", label: event.name, taskId: event.eventId, start: event.timestamp });
        break;
      case "TimerCreated":
        open({ kind: "timer", label: "timer", taskId: event.eventId, start: event.timestamp });
        break;
      case "SubOrchestrationInstanceCreated":
        open({ kind: "sub-orchestration", label: `${event.name} (${event.instanceId})`, taskId: event.eventId, start: event.timestamp });
        break;
      case "EventSent": {
        const request = (event as { entityRequest?: string }).entityRequest;
        if (request === "call") open({ kind: "entity", label: `${event.instanceId} ${event.name}`, taskId: event.eventId, start: event.timestamp });
        else if (request === "lock") open({ kind: "lock", label: `lock ${describeList(event.input) ?? event.instanceId}`, taskId: event.eventId, start: event.timestamp });
        else if (request === "signal") bars.push({ kind: "entity", label: `signal ${event.instanceId} ${event.name}`, start: event.timestamp, end: event.timestamp });
        else if (request === undefined) bars.push({ kind: "event", label: `send ${event.name} to ${event.instanceId}`, start: event.timestamp, end: event.timestamp });
        break;
      }
      case "TaskCompleted":
      case "SubOrchestrationInstanceCompleted":
        close(event.taskScheduledId, event.timestamp);
        break;
      case "TaskFailed":
      case "SubOrchestrationInstanceFailed":
        close(event.taskScheduledId, event.timestamp, event.failure);
        break;
      case "TimerFired":
        close(event.timerId, event.timestamp);
        break;
      case "EventRaised": {
        const reserved = /^@(entity|lock):(\d+)$/.exec(event.name);
        if (reserved === null) bars.push({ kind: "event", label: `event ${event.name}`, start: event.timestamp, end: event.timestamp });
        else close(Number(reserved[2]), event.timestamp, failureOf(event.input));
        break;
      }
      case "ExecutionCompleted":
      case "ExecutionTerminated":
      case "ContinueAsNew":
        finished = event.timestamp;
        break;
      default:
        break;
    }
  }
  const start = events[0]?.timestamp ?? now;
  const end = Math.max(start, finished ?? now, ...bars.map((bar) => bar.end ?? bar.start));
  return {
    start,
    end,
    bars: bars.map((bar) => ({ ...bar, end: bar.end ?? (finished ?? now), running: bar.end === undefined && finished === undefined })),
  };
}

/** An entity's answer `{ failure }`, or undefined for `{ result }` or a lock grant. */
function failureOf(input: unknown): FailureDetails | undefined {
  if (typeof input !== "object" || input === null || !("failure" in input)) return undefined;
  const failure = (input as { failure: unknown }).failure;
  return typeof failure === "object" && failure !== null && typeof (failure as FailureDetails).message === "string" ? (failure as FailureDetails) : undefined;
}

function describeList(input: unknown): string | undefined {
  return Array.isArray(input) ? input.join(", ") : undefined;
}
