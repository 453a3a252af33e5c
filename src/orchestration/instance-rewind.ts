import { ErrorCode } from "../../protocol/index.js";
import { INSTANCE_TIMER, type Outcome, type TickContext } from "../runtime/index.js";
import type { ActivityWork } from "./activity-worker.js";
import type { ExecutionRewound, FailureDetails, HistoryEvent } from "./history-events.js";
import type { ParentLink } from "./instance-record.js";
import type { InstanceMessageBody, RewindRequest } from "./instance-requests.js";
import type { InstanceTurnDeps, InstanceTurnEffects } from "./instance-turn.js";
import type { LoadedInstance } from "./loaded-instance.js";
import { scheduledWork } from "./rewind-history.js";
import { planRewind } from "./rewind-plan.js";
import type { TurnActions } from "./turn-actions.js";

/** What a rewind needs of the turn it runs in. */
export interface RewindTurn {
  readonly tick: TickContext;
  readonly effects: InstanceTurnEffects;
  readonly actions: TurnActions;
  readonly deps: InstanceTurnDeps;
}

/** How a rewind request went: its answer and, when the instance runs again, the event the turn runs its code over. */
export interface RewindOutcome {
  readonly outcome: Outcome;
  readonly rewound?: ExecutionRewound;
}

const ACK: Outcome = { kind: "ack" };

/**
 * Rewinds a Failed instance (Durable Functions' rewind): it becomes Running again with the failures
 * that failed it taken back (see planRewind), and what it then waits for is asked for again in this
 * turn's batch: its activities' work items (they run again), its timers, and a rewind message to each
 * sub-orchestration it waits for (a failed one is rewound in turn; one that ended tells it again how).
 * The caller records the returned ExecutionRewound as the first event of the turn's code run, which
 * replays the history on a fresh executor. The history must be the committed one (the turn makes
 * sure that nothing of it is still in a batch).
 *
 * Anything else than a Failed instance is refused with `invalid_state` (`not_found` when there is
 * none). From a parent, the child never refuses silently: the parent is told its outcome.
 */
export function rewindInstance(instance: LoadedInstance, request: RewindRequest, turn: RewindTurn): RewindOutcome {
  const { tick, actions, deps } = turn;
  const id = instance.id;
  const record = instance.record;
  const fromParent = request.parent;
  const refuse = (code: ErrorCode, message: string, failure?: FailureDetails): RewindOutcome => {
    if (fromParent) actions.tellParent(fromParent, failure ?? { errorType: code, message });
    return { outcome: { kind: "error", code, message } };
  };
  if (record === undefined) return refuse(ErrorCode.not_found, `no orchestration instance "${id}"`);
  if (fromParent && !sameParent(record.parent, fromParent)) {
    return refuse(ErrorCode.invalid_state, `orchestration instance "${id}" is not the sub-orchestration this parent started any more (its id was reused); it cannot be rewound for it`);
  }
  if (record.status !== "Failed") {
    if (fromParent) return tellParentAgain(id, record.status, record.output, fromParent, actions);
    return refuse(ErrorCode.invalid_state, `orchestration instance "${id}" is ${record.status}; only a Failed instance can be rewound`);
  }
  const failed = (message: string): RewindOutcome => refuse(ErrorCode.invalid_state, `orchestration instance "${id}" cannot be rewound: ${message}`, record.failure);
  if (record.depth > deps.limits.maxDepth) return failed(`it is a sub-orchestration ${record.depth} deep; the limit is ${deps.limits.maxDepth}`);
  const definition = deps.orchestrations.get(record.name);
  if (definition === undefined) return failed(`this app no longer defines orchestration "${record.name}"`);

  const now = tick.nowMs;
  const history = record.historyLength > 0 ? deps.readHistory(id) : [];
  const plan = planRewind(id, definition, history, now);
  if (plan.refusal !== undefined) return failed(plan.refusal);

  const rewound: ExecutionRewound = { type: "ExecutionRewound", timestamp: now, ...(request.reason === undefined ? {} : { reason: request.reason }), rewoundEvents: plan.rewoundEvents };
  record.status = "Running";
  record.failure = undefined;
  record.output = undefined;
  record.inbox = undefined;
  instance.executor = undefined; // the turn's code run replays the history anew, without the failures taken back
  instance.indexHistory([...history, rewound]);
  reviveWork(instance, history, plan.waitingFor, request.reason, turn);
  turn.effects.statusChanged = true;
  return { outcome: ACK, rewound };
}

/** Asks again for what the execution waits for: everything it had open was dropped when it failed. */
function reviveWork(instance: LoadedInstance, history: readonly HistoryEvent[], waitingFor: ReturnType<typeof planRewind>["waitingFor"], reason: unknown, turn: RewindTurn): void {
  const { tick, effects } = turn;
  const id = instance.id;
  const generation = instance.record!.generation;
  const scheduled = scheduledWork(history);
  for (const taskId of waitingFor.activities) {
    const event = scheduled.activities.get(taskId);
    if (event === undefined) continue; // asked for only now: the code run records it like any new action
    const work: ActivityWork = { instanceId: id, taskId, generation, name: event.name, input: event.input };
    tick.batch.putWorkItem({ instanceId: id, taskId }, work);
    instance.openWork!.add(taskId);
    effects.activities.push(work);
  }
  for (const timerId of waitingFor.timers) {
    const event = scheduled.timers.get(timerId);
    if (event === undefined) continue;
    tick.batch.putTimer({ fireAt: event.fireAt, instanceId: id, timerId }, { kind: INSTANCE_TIMER, generation });
    instance.openTimers!.set(timerId, event.fireAt);
    effects.timersAdded.push(event.fireAt);
  }
  for (const taskId of waitingFor.subOrchestrations) {
    const event = scheduled.subOrchestrations.get(taskId);
    if (event === undefined) continue;
    const body: InstanceMessageBody = { type: "rewind", ...(reason === undefined ? {} : { reason }), parent: { instanceId: id, taskId, generation } };
    tick.send({ kind: "instance", target: event.instanceId, event: body, source: id }, id);
  }
}

/**
 * A parent that was rewound asks a child that has not failed how it ended: the answer it sent then
 * reached the parent while that had failed, and was dropped. A child still running answers when it ends.
 */
function tellParentAgain(id: string, status: string, output: unknown, parent: ParentLink, actions: TurnActions): RewindOutcome {
  if (status === "Completed") actions.tellParent(parent, undefined, output);
  else if (status === "Terminated") actions.tellParent(parent, { errorType: "Terminated", message: `sub-orchestration "${id}" was terminated` });
  return { outcome: ACK };
}

function sameParent(link: ParentLink | undefined, expected: ParentLink): boolean {
  return link !== undefined && link.instanceId === expected.instanceId && link.taskId === expected.taskId && link.generation === expected.generation;
}
