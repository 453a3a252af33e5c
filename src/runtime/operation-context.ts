import { randomUUID } from "node:crypto";
import { ENTITY_NAME_PATTERN, isInstanceId } from "../../protocol/index.js";
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

  signalEntity(entityId: string, operation: string, input?: unknown, options?: { readonly at?: Date | number }): void {
    const error = this.registry.check(entityId, operation);
    if (error) throw error;
    const at = options?.at === undefined ? undefined : timeOf(options.at);
    this.outgoing.push({ target: entityId, op: operation, source: this.entityId, ...(input === undefined ? {} : { input: cloneJson(input) }), ...(at === undefined ? {} : { at }) });
  }

  startOrchestration(name: string, input?: unknown, options?: { readonly instanceId?: string }): string {
    if (typeof name !== "string" || !ENTITY_NAME_PATTERN.test(name)) throw new TypeError(`startOrchestration takes an orchestration's name; got ${JSON.stringify(String(name)).slice(0, 80)}`);
    const instanceId = options?.instanceId ?? randomUUID();
    if (typeof instanceId !== "string" || !isInstanceId(instanceId)) throw new TypeError(`startOrchestration: the instance id must be 1 to 256 characters of well-formed text without control characters`);
    const start = { type: "start", name, depth: 0, ...(input === undefined ? {} : { input: cloneJson(input) }) };
    this.outgoing.push({ kind: "instance", target: instanceId, event: start, source: this.entityId });
    return instanceId;
  }
}

/** A schedule time as epoch ms (a Date or a number); a TypeError for anything else. */
function timeOf(at: Date | number): number {
  const ms = at instanceof Date ? at.getTime() : at;
  if (typeof ms !== "number" || !Number.isFinite(ms)) throw new TypeError(`signalEntity: "at" must be a Date or epoch milliseconds; got ${String(at)}`);
  return ms;
}
