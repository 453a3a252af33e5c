import type { MailboxMessage } from "../storage/index.js";
import type { EntityContext } from "./define-entity.js";
import type { EntityRegistry } from "./entity-registry.js";
import { cloneJson } from "./json-value.js";

/** The context of one operation: a private copy of the state, and the signals it would send. */
export class OperationContext implements EntityContext<unknown, unknown> {
  readonly outgoing: MailboxMessage[] = [];
  private current: unknown;

  constructor(
    readonly entityId: string,
    readonly entityName: string,
    readonly entityKey: string,
    readonly operationName: string,
    readonly input: unknown,
    state: unknown,
    private readonly registry: EntityRegistry,
  ) {
    this.current = state;
  }

  get state(): unknown {
    return this.current;
  }

  set state(value: unknown) {
    this.current = value;
  }

  get hasState(): boolean {
    return this.current !== undefined;
  }

  getState(initial?: () => unknown): any {
    if (this.current === undefined && initial) this.current = initial();
    return this.current;
  }

  setState(state: unknown): void {
    this.current = state;
  }

  getInput<T>(): T {
    return this.input as T;
  }

  deleteState(): void {
    this.current = undefined;
  }

  signalEntity(entityId: string, operation: string, input?: unknown): void {
    const error = this.registry.check(entityId, operation);
    if (error) throw error;
    const message: MailboxMessage = { target: entityId, op: operation, source: this.entityId };
    this.outgoing.push(input === undefined ? message : { ...message, input: cloneJson(input) });
  }
}
