import type { LockHandle, LockState } from "./entity-types.js";
import { LockingRulesViolationError } from "./task-errors.js";

/**
 * The code's critical section: the entities it locked (from `ctx.lock` until the handle's release,
 * whether granted yet or not), and the Durable Functions rules that hold meanwhile. Each check
 * throws a LockingRulesViolationError at the call that breaks a rule.
 */
export class CriticalSection {
  #entities: readonly string[] | undefined;
  #granted = false;

  /** True from `ctx.lock` until the release. */
  get active(): boolean {
    return this.#entities !== undefined;
  }

  state(): LockState {
    return { locked: this.active, entities: [...(this.#entities ?? [])] };
  }

  /** `ctx.lock(entities)` (sorted, without duplicates): refused inside a critical section. */
  begin(entities: readonly string[]): void {
    if (this.#entities !== undefined) {
      const what = this.#granted ? "holds" : "is acquiring";
      throw new LockingRulesViolationError("no nested lock", `ctx.lock(${list(entities)}) was called while the orchestration ${what} a lock on ${list(this.#entities)}; release it first`);
    }
    this.#entities = entities;
    this.#granted = false;
  }

  granted(): void {
    this.#granted = true;
  }

  end(): void {
    this.#entities = undefined;
    this.#granted = false;
  }

  checkCall(entityId: string, operation: string): void {
    if (this.#entities === undefined || this.#entities.includes(entityId)) return;
    throw new LockingRulesViolationError(
      "no call to an entity outside the locked set",
      `callEntity("${entityId}", "${operation}") inside the critical section on ${list(this.#entities)}; lock "${entityId}" too, or call it after the release`,
    );
  }

  checkSignal(entityId: string, operation: string): void {
    if (this.#entities === undefined || !this.#entities.includes(entityId)) return;
    throw new LockingRulesViolationError(
      "no signal to a locked entity",
      `signalEntity("${entityId}", "${operation}") inside the critical section that locks it; call it instead (yield ctx.callEntity), or signal it after the release`,
    );
  }

  checkSubOrchestration(method: string, name: string): void {
    if (this.#entities === undefined) return;
    throw new LockingRulesViolationError("no sub-orchestration", `${method}("${name}") inside the critical section on ${list(this.#entities)}; start it after the release`);
  }
}

/** The handle `yield ctx.lock([...])` gives; `release` runs once (it records a ReleaseLocks action). */
export class CriticalSectionHandle implements LockHandle {
  readonly entities: readonly string[];
  #released = false;

  constructor(
    entities: readonly string[],
    private readonly onRelease: () => void,
  ) {
    this.entities = Object.freeze([...entities]);
  }

  release(): void {
    if (this.#released) return;
    this.onRelease();
    this.#released = true;
  }
}

function list(entities: readonly string[]): string {
  return `[${entities.map((id) => `"${id}"`).join(", ")}]`;
}
