// Contract of the pure replay step; the implementation is being written against this file.
import type { ExecutionEnd, OrchestratorAction } from "./actions.js";
import type { OrchestrationDefinition } from "./definitions.js";
import type { HistoryEvent } from "./history-events.js";

/** One turn of an orchestration instance, as the host hands it to the executor. */
export interface ReplayInput {
  readonly instanceId: string;
  readonly definition: OrchestrationDefinition;
  /** The committed history of the current execution, oldest first (empty for a new instance). */
  readonly past: readonly HistoryEvent[];
  /** This turn's events: an OrchestratorStarted (the turn's time) first, then what arrived (ExecutionStarted, TaskCompleted, EventRaised, …). */
  readonly newEvents: readonly HistoryEvent[];
}

/** What the turn asks the host to do. */
export interface ReplayResult {
  /** New actions, in the order the code asked for them (not those already recorded in `past`). */
  readonly actions: OrchestratorAction[];
  /** Set when the execution ended in this turn (completed, failed, or continued as new). */
  readonly end?: ExecutionEnd;
  /** The custom status after the turn (undefined when never set in this execution). */
  readonly customStatus: unknown;
  /** Tasks asked for and not yet completed (for the host's guard rails). */
  readonly openTasks: number;
}
