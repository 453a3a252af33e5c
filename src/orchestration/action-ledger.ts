import type { OrchestratorAction } from "./actions.js";
import { lockSetOf } from "./entity-requests.js";
import type { EventSent } from "./history-events.js";
import { historyMismatch, sameSignature, signatureOfAction, signatureOfEvent, type ActionSignature, type ScheduledEvent } from "./history-mismatch.js";

type RecordedAction = Exclude<OrchestratorAction, { type: "CancelTimer" }>;

interface OpenEntry {
  /** The action, until it is reported to the host (then only its signature is kept). */
  action: RecordedAction | undefined;
  readonly signature: ActionSignature;
}

/**
 * The actions of one execution, by id: which the code asked for, which the history confirms
 * (its scheduled events), which were reported to the host in an earlier turn, and which are new.
 * Ids are 0, 1, 2, … in the order the code asks, so a replay gives every action its recorded id.
 */
export class ActionLedger {
  #nextId = 0;
  /** Asked for, and not yet confirmed by a history event. */
  readonly #open = new Map<number, OpenEntry>();
  /** What was asked for since the last report or turn boundary (CancelTimer included), in order. */
  #turn: OrchestratorAction[] = [];
  /** The entities of the last lock request recorded or reported, until a release is. */
  #locks: readonly string[] = [];

  constructor(private readonly orchestration: string) {}

  /**
   * The entities the execution holds or is acquiring, as its history records them (and the actions
   * reported since): what the host must release when the execution ends. Kept from the history even
   * when the code no longer matches it.
   */
  get locks(): readonly string[] {
    return this.#locks;
  }

  /** A recorded EventSent, applied or not (even after the execution ended): a lock request or release changes `locks`. */
  noteSent(event: EventSent): void {
    if (event.entityRequest === "lock") this.#locks = [...(lockSetOf(event) ?? [])].sort();
    else if (event.entityRequest === "release") this.#locks = [];
  }

  /** The id the next action gets. */
  nextId(): number {
    return this.#nextId++;
  }

  add(action: RecordedAction): void {
    this.#open.set(action.id, { action, signature: signatureOfAction(action) });
    this.#turn.push(action);
  }

  /**
   * The code cancelled timer `id`. A timer asked for in this same turn is forgotten (it was never
   * recorded); one recorded earlier gets a CancelTimer, unless this is a replay (it got one then).
   */
  cancelTimer(id: number, replaying: boolean): void {
    const entry = this.#open.get(id);
    if (entry?.action !== undefined && entry.action.type === "CreateTimer") {
      this.#open.delete(id);
      return;
    }
    if (!replaying) this.#turn.push({ type: "CancelTimer", id });
  }

  /** A history event records action `event.eventId`: it must be what the code asked for there. */
  confirm(event: ScheduledEvent, position: number): void {
    const recorded = signatureOfEvent(event);
    const entry = this.#open.get(event.eventId);
    if (entry === undefined || !sameSignature(entry.signature, recorded)) {
      throw historyMismatch(this.orchestration, position, event.eventId, recorded, entry?.signature);
    }
    this.#open.delete(event.eventId);
  }

  /**
   * A new turn begins (an OrchestratorStarted): everything the code asked for before it must be
   * recorded by now (the host records a turn's actions with the turn), or reported to the host.
   */
  turnBoundary(position: number): void {
    for (const action of this.#turn) {
      if (action.type === "CancelTimer") continue;
      const entry = this.#open.get(action.id);
      if (entry?.action !== undefined) throw historyMismatch(this.orchestration, position, action.id, undefined, entry.signature);
    }
    this.#turn = [];
  }

  /** The new actions (asked for, neither confirmed nor reported), in the order asked; they count as reported from now on. */
  report(): OrchestratorAction[] {
    const actions: OrchestratorAction[] = [];
    for (const action of this.#turn) {
      if (action.type === "CancelTimer") {
        actions.push(action);
        continue;
      }
      const entry = this.#open.get(action.id);
      if (entry?.action === undefined) continue;
      actions.push(action);
      if (action.type === "LockEntities") this.#locks = action.entityIds;
      else if (action.type === "ReleaseLocks") this.#locks = [];
      entry.action = undefined;
    }
    this.#turn = [];
    return actions;
  }

  /** Drops this turn's actions (an execution that failed non-deterministically asks for nothing). */
  discardTurn(): void {
    this.#turn = [];
  }
}
