import type { ExecutionEnd, OrchestratorAction } from "./actions.js";
import type { OrchestrationDefinition } from "./definitions.js";
import { CODE_EVENTS, eventHandlers } from "./event-handlers.js";
import { Execution } from "./execution.js";
import type { HistoryEvent } from "./history-events.js";
import { failureFromError } from "./json-payloads.js";
import { rewoundPositions } from "./rewind-history.js";
import { NonDeterminismError } from "./task-errors.js";

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
  /** New actions, in the order the code asked for them (not those already recorded in `past`, nor those reported by earlier turns of a cached executor). */
  readonly actions: OrchestratorAction[];
  /** Set once the execution has ended (completed, failed, or continued as new): in this turn, or earlier in the history replayed. */
  readonly end?: ExecutionEnd;
  /** The custom status after the turn (undefined when never set in this execution). */
  readonly customStatus: unknown;
  /** Tasks asked for and not yet completed (for the host's guard rails); entity calls and lock requests count. */
  readonly openTasks: number;
  /**
   * The entities the execution holds or is acquiring after the turn (its last lock request, recorded
   * or in `actions`, not followed by a release), sorted; empty when none. When the execution has
   * ended (completed, failed, continued as new) or is terminated, the host releases them.
   */
  readonly locks: readonly string[];
}

/**
 * The pure replay step of one orchestration execution: history in, actions out. It reads no store,
 * clock or network; time comes from OrchestratorStarted events. It never throws: whatever goes
 * wrong (the code throws, yields something that is not a task, no longer matches its history)
 * ends the execution as Failed in the result.
 *
 * ```ts
 * const executor = new ReplayExecutor(instanceId, definition);
 * let result = executor.run(past, [orchestratorStarted, ...arrived]); // first turn, or a replay after eviction
 * // record [...newEvents, ...events for result.actions], act on the actions after the commit, then later:
 * result = executor.advance([orchestratorStarted, ...arrived]);        // the next turn, on the cached executor
 * ```
 *
 * A cached executor's `advance` gives exactly the actions and end that `run(past + new)` on a
 * fresh executor would, provided the host records each turn's events, then one history event per
 * action (all but CancelTimer), before the next turn's OrchestratorStarted.
 *
 * Failures that an ExecutionRewound event takes back (by history position) are skipped, as if they
 * had not arrived; they still count in the numbering that seeds Math.random, so the events after them
 * replay exactly as they ran. A turn that brings an ExecutionRewound must be `run` on a fresh executor
 * (what came before it is replayed anew), never `advance`d.
 */
export class ReplayExecutor {
  #execution: Execution;
  /** Events applied so far (`past` and every turn's new events): positions in messages. */
  #position = 0;
  /** Positions of the failures rewinds took back (skipped). */
  #rewound: ReadonlySet<number> = new Set();

  constructor(
    readonly instanceId: string,
    readonly definition: OrchestrationDefinition,
  ) {
    this.#execution = new Execution(instanceId, definition);
  }

  /** How the execution ended, once it has. */
  get end(): ExecutionEnd | undefined {
    return this.#execution.reportedEnd();
  }

  /** Where the code threw the error that failed the execution, when it did: for the server's log, never for history or the wire. */
  get failureStack(): string | undefined {
    return this.#execution.failureStack;
  }

  /** True when the history no longer matches the code (the execution then failed with `non_determinism`). */
  get nonDeterministic(): boolean {
    return this.#execution.nonDeterministic;
  }

  /** The ids of the tasks the code waits for, by kind: what must complete for it to go on. */
  waitingFor(): { activities: number[]; timers: number[]; subOrchestrations: number[]; entityCalls: number[]; lockRequests: number[] } {
    const execution = this.#execution;
    return {
      activities: execution.openTaskIds("activity"),
      timers: execution.openTaskIds("timer"),
      subOrchestrations: execution.openTaskIds("sub-orchestration"),
      entityCalls: execution.openTaskIds("entity"),
      lockRequests: execution.openTaskIds("lock"),
    };
  }

  /** Replays `past` (isReplaying) from scratch, then runs `newEvents`. Starts over if called again. */
  run(past: readonly HistoryEvent[], newEvents: readonly HistoryEvent[]): ReplayResult {
    this.#execution = new Execution(this.instanceId, this.definition);
    this.#position = 0;
    this.#rewound = rewoundPositions(past, newEvents);
    this.#apply(past, true);
    this.#apply(newEvents, false);
    return this.#result();
  }

  /** Runs the next turn's events on the state left by the last call; earlier actions count as recorded. */
  advance(newEvents: readonly HistoryEvent[]): ReplayResult {
    this.#apply(newEvents, false);
    return this.#result();
  }

  #apply(events: readonly HistoryEvent[], replaying: boolean): void {
    const execution = this.#execution;
    execution.replaying = replaying;
    for (const event of events) {
      const position = this.#position++;
      execution.historyPosition = position;
      if (typeof event !== "object" || event === null) continue;
      if (this.#rewound.has(position)) {
        if (CODE_EVENTS.has(event.type)) execution.countInputEvent();
        continue;
      }
      if (event.type === "EventSent") execution.ledger.noteSent(event);
      if (execution.running || event.type === "EventRaised") this.#applyOne(execution, event);
      if (CODE_EVENTS.has(event.type)) execution.countInputEvent();
    }
  }

  #applyOne(execution: Execution, event: HistoryEvent): void {
    const handler = eventHandlers[event.type] as ((execution: Execution, event: HistoryEvent) => void) | undefined;
    if (handler === undefined) return;
    try {
      handler(execution, event);
      execution.resume();
    } catch (error) {
      if (error instanceof NonDeterminismError) execution.failNonDeterministic(error);
      else execution.fail(failureFromError(error));
    }
  }

  #result(): ReplayResult {
    const execution = this.#execution;
    let actions: OrchestratorAction[] = [];
    if (execution.nonDeterministic) execution.ledger.discardTurn();
    else actions = execution.ledger.report();
    const end = execution.reportedEnd();
    return { actions, ...(end === undefined ? {} : { end }), customStatus: execution.customStatus, openTasks: execution.openTasks, locks: [...execution.ledger.locks] };
  }
}

/** A fresh replay of one turn: `new ReplayExecutor(instanceId, definition).run(past, newEvents)`. */
export function replay(input: ReplayInput): ReplayResult {
  return new ReplayExecutor(input.instanceId, input.definition).run(input.past, input.newEvents);
}
