import { INSTANCE_TIMER, LOCK_OP, RELEASE_OP, type TickContext } from "../runtime/index.js";
import type { OrchestratorAction } from "./actions.js";
import type { ActivityWork } from "./activity-worker.js";
import { entityRequestEvent, entityResponseEventName, lockGrantedEventName, type EntityAction } from "./entity-requests.js";
import type { FailureDetails, HistoryEvent } from "./history-events.js";
import type { InstanceMessageBody } from "./instance-requests.js";
import type { InstanceTurnEffects } from "./instance-turn.js";
import type { LoadedInstance } from "./loaded-instance.js";

/**
 * What an instance's turn does for the actions its code asked for and for its ending: history
 * events to record, and writes and messages in the tick's batch (work items, timers, sub-orchestration
 * starts, events, entity messages, results to its parent), none of which acts before the commit.
 */
export class TurnActions {
  constructor(
    private readonly instance: LoadedInstance,
    private readonly tick: TickContext,
    private readonly effects: InstanceTurnEffects,
  ) {}

  /** One action: its history event, and what it writes and sends; returns the event to record. */
  act(action: OrchestratorAction): HistoryEvent[] {
    const id = this.instance.id;
    const record = this.instance.record!;
    const timestamp = this.tick.nowMs;
    switch (action.type) {
      case "ScheduleTask": {
        const work: ActivityWork = { instanceId: id, taskId: action.id, generation: record.generation, name: action.name, input: action.input };
        this.tick.batch.putWorkItem({ instanceId: id, taskId: action.id }, work);
        this.instance.openWork!.add(action.id);
        this.effects.activities.push(work);
        return [{ type: "TaskScheduled", timestamp, eventId: action.id, name: action.name, ...withInput(action.input) }];
      }
      case "CreateTimer": {
        this.tick.batch.putTimer({ fireAt: action.fireAt, instanceId: id, timerId: action.id }, { kind: INSTANCE_TIMER, generation: record.generation });
        this.instance.openTimers!.set(action.id, action.fireAt);
        this.effects.timersAdded.push(action.fireAt);
        return [{ type: "TimerCreated", timestamp, eventId: action.id, fireAt: action.fireAt }];
      }
      case "CancelTimer": {
        const fireAt = this.instance.openTimers!.get(action.id);
        if (fireAt !== undefined) this.tick.batch.deleteTimer({ fireAt, instanceId: id, timerId: action.id });
        this.instance.openTimers!.delete(action.id);
        return [];
      }
      case "CreateSubOrchestration": {
        this.instance.openSubOrchestrations!.add(action.id);
        const body: InstanceMessageBody = { type: "start", name: action.name, ...withInput(action.input), parent: { instanceId: id, taskId: action.id, generation: record.generation }, depth: record.depth + 1 };
        this.tick.send({ kind: "instance", target: action.instanceId, event: body, source: id }, id);
        return [{ type: "SubOrchestrationInstanceCreated", timestamp, eventId: action.id, name: action.name, instanceId: action.instanceId, ...withInput(action.input) }];
      }
      case "CallEntity":
      case "SignalEntity":
      case "LockEntities":
      case "ReleaseLocks":
        return [this.askEntities(action)];
      case "SendEvent": {
        const body: InstanceMessageBody = { type: "event", event: { type: "EventRaised", timestamp, name: action.name, ...withInput(action.input) } };
        this.tick.send({ kind: "instance", target: action.instanceId, event: body, source: id }, id);
        return [{ type: "EventSent", timestamp, eventId: action.id, instanceId: action.instanceId, name: action.name, ...withInput(action.input) }];
      }
    }
  }

  /**
   * An entity action: a durable message to the entity (or a durable timer, for a signal scheduled
   * later), sent with this turn's commit. Calls carry where the answer goes; lock requests travel the
   * set in its sorted order, each entity passing the request on once it holds itself for this execution.
   */
  private askEntities(action: EntityAction): HistoryEvent {
    const holder = { instanceId: this.instance.id, generation: this.instance.record!.generation };
    const source = this.instance.id;
    switch (action.type) {
      case "CallEntity":
        this.tick.send({ target: action.entityId, op: action.operation, ...withInput(action.input), reply: { ...holder, event: entityResponseEventName(action.id) }, holder, source }, source);
        break;
      case "SignalEntity": {
        // A signal for later travels with its time; the entity's turn keeps it as a timer in its own partition.
        const at = action.at !== undefined && action.at > this.tick.nowMs ? { at: action.at } : {};
        this.tick.send({ target: action.entityId, op: action.operation, ...withInput(action.input), holder, source, ...at }, source);
        break;
      }
      case "LockEntities":
        this.tick.send({ target: action.entityIds[0]!, op: LOCK_OP, holder, lock: { entities: action.entityIds, grant: lockGrantedEventName(action.id) }, source }, source);
        break;
      case "ReleaseLocks":
        this.releaseLocks(action.entityIds);
        break;
    }
    return entityRequestEvent(action, this.tick.nowMs);
  }


  /**
   * Tells each entity of a set that this execution lets it go (one that it does not hold ignores it).
   * Each release names only its own entity: one naming the whole set would make a release of n
   * entities write n² ids in one commit.
   */
  private releaseLocks(entities: readonly string[]): void {
    const holder = { instanceId: this.instance.id, generation: this.instance.record!.generation };
    for (const entity of entities) this.tick.send({ target: entity, op: RELEASE_OP, holder, lock: { entities: [entity], grant: "" }, source: this.instance.id }, this.instance.id);
  }

  tellParent(parent: { instanceId: string; taskId: number; generation: number }, failure: FailureDetails | undefined, output?: unknown): void {
    const event: HistoryEvent =
      failure === undefined
        ? { type: "SubOrchestrationInstanceCompleted", timestamp: this.tick.nowMs, taskScheduledId: parent.taskId, ...(output === undefined ? {} : { result: output }) }
        : { type: "SubOrchestrationInstanceFailed", timestamp: this.tick.nowMs, taskScheduledId: parent.taskId, failure };
    const body: InstanceMessageBody = { type: "event", event, generation: parent.generation };
    this.tick.send({ kind: "instance", target: parent.instanceId, event: body, source: this.instance.id }, this.instance.id);
  }

  /** The execution ends: the entities it held (or was acquiring) are let go. */
  releaseHeldLocks(): void {
    const record = this.instance.record!;
    if (record.locks === undefined) return;
    this.releaseLocks(record.locks);
    record.locks = undefined;
  }
}

function withInput(input: unknown): { input?: unknown } {
  return input === undefined ? {} : { input };
}
