import type { OrchestrationDefinition } from "./definitions.js";
import type { ExecutionRewound, HistoryEvent } from "./history-events.js";
import { ReplayExecutor, type ReplayResult } from "./replay-executor.js";
import { rewoundPositions } from "./rewind-history.js";

/** What a rewind of a failed execution does, decided once, when it is asked for, and recorded in its ExecutionRewound. */
export interface RewindPlan {
  /** The history positions of the failures it takes back (TaskFailed, SubOrchestrationInstanceFailed), ascending. */
  readonly rewoundEvents: number[];
  /** After them, the tasks the code waits for: their activities are run again, their timers armed again, their sub-orchestrations asked for their outcome (a failed one is rewound too). */
  readonly waitingFor: ReturnType<ReplayExecutor["waitingFor"]>;
  /** Why the instance cannot be rewound (then nothing is done), or undefined. */
  readonly refusal?: string;
  /** Failures not tried because the replays' budget ran out (they stay in effect). */
  readonly untried: number;
}

/** Events replayed at most while planning one rewind (each candidate failure costs one replay of the history). */
export const MAX_REWIND_REPLAYED_EVENTS = 1_000_000;

/**
 * Which failures a rewind takes back. A failure can be taken back when the history without it is
 * still one the code could have written: the code never went on from it (it failed the execution, or
 * it failed a task that nothing had awaited yet). A failure the code caught and acted on (asking for
 * something else, as a retry policy does before its next attempt) stays: without it, replay would no
 * longer match the history. Each candidate is checked by replaying the history without it, with the
 * code deployed now: first all of the execution's failures at once (the usual case, one replay),
 * else one at a time, newest first, keeping each whose removal still replays deterministically.
 *
 * `now` is the rewind turn's time (its OrchestratorStarted). Pure: it runs the code, nothing else.
 */
export function planRewind(instanceId: string, definition: OrchestrationDefinition, history: readonly HistoryEvent[], now: number, maxReplayedEvents = MAX_REWIND_REPLAYED_EVENTS): RewindPlan {
  const already = rewoundPositions(history);
  const candidates: number[] = [];
  history.forEach((event, position) => {
    if ((event?.type === "TaskFailed" || event?.type === "SubOrchestrationInstanceFailed") && !already.has(position)) candidates.push(position);
  });
  const replayCost = history.length + 2;
  let budget = maxReplayedEvents;
  const replayWithout = (positions: readonly number[]): Trial => {
    budget -= replayCost;
    const executor = new ReplayExecutor(instanceId, definition);
    const rewound: ExecutionRewound = { type: "ExecutionRewound", timestamp: now, rewoundEvents: [...positions].sort((a, b) => a - b) };
    const result = executor.run([...history, { type: "OrchestratorStarted", timestamp: now }, rewound], []);
    return { positions, executor, result };
  };

  // All at once first; else one at a time, newest first, each kept if the replay still matches.
  let trial = candidates.length > 0 ? replayWithout(candidates) : undefined;
  let untried = 0;
  if (trial === undefined || trial.executor.nonDeterministic) {
    trial = undefined;
    let chosen: number[] = [];
    for (let i = candidates.length - 1; i >= 0; i--) {
      if (budget < replayCost) {
        untried = i + 1;
        break;
      }
      const attempt = replayWithout([...chosen, candidates[i]!]);
      if (attempt.executor.nonDeterministic) continue;
      chosen = [...attempt.positions];
      trial = attempt;
    }
    trial ??= replayWithout([]);
  }
  const rewoundEvents = trial.executor.nonDeterministic ? [] : [...trial.positions].sort((a, b) => a - b);
  // A replay that ends (the code fails again, in its own code or on a failure that stays) revives nothing: the rewind turn fails it again.
  const waitingFor = trial.result.end === undefined ? trial.executor.waitingFor() : NOTHING;
  return { rewoundEvents, waitingFor, untried, ...refusalOf(trial, waitingFor) };
}

interface Trial {
  readonly positions: readonly number[];
  readonly executor: ReplayExecutor;
  readonly result: ReplayResult;
}

const NOTHING: RewindPlan["waitingFor"] = { activities: [], timers: [], subOrchestrations: [], entityCalls: [], lockRequests: [] };

/**
 * Entity work cannot be rewound: an entity's answer to a call that arrived while the instance had
 * failed is gone (calling again could apply the operation twice), and the locks of a critical section
 * were let go when it failed (others may hold those entities now).
 */
function refusalOf(trial: Trial, waitingFor: RewindPlan["waitingFor"]): { refusal?: string } {
  if (trial.result.end !== undefined) return {};
  const locks = trial.result.locks;
  if (locks.length > 0 || waitingFor.lockRequests.length > 0) {
    const entities = locks.length > 0 ? ` (${locks.join(", ")})` : "";
    return { refusal: `it failed inside a critical section${entities}; its locks were released when it failed, and a rewind cannot take them back for it` };
  }
  if (waitingFor.entityCalls.length > 0) {
    const calls = waitingFor.entityCalls.length === 1 ? "an entity call" : `${waitingFor.entityCalls.length} entity calls`;
    return { refusal: `it was waiting for ${calls} when it failed; an entity's answer that came after the failure was dropped, and a rewind does not call an entity again` };
  }
  return {};
}
