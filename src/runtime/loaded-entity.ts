import { parseEntityId } from "../../protocol/index.js";
import type { EntityRecord } from "../storage/index.js";
import type { EntityDefinition } from "./define-entity.js";
import type { OperationRequest } from "./operation-request.js";

/** An entity in memory: its last good state, its mailbox, and what pins it there. */
export class LoadedEntity {
  readonly name: string;
  readonly key: string;
  /** The state after the last applied operation; never mutated (operations work on copies). Undefined: does not exist. */
  state: unknown;
  /** Count of committed changes. */
  version: number;
  /** De-duplication window: last signal id applied per client id, with when (ms). */
  readonly senders: Map<string, [seq: number, atMs: number]>;
  /** Operations waiting for the next turn, in arrival order. */
  mailbox: OperationRequest[] = [];
  /** True while the entity is on the runtime's list for the next tick. */
  scheduled = false;
  /** Turns of this entity whose commit is not yet durable; a pinned entity is never evicted. */
  pendingCommits = 0;

  constructor(
    readonly id: string,
    readonly definition: EntityDefinition,
    record: EntityRecord | undefined,
  ) {
    const parts = parseEntityId(id)!;
    this.name = parts.name;
    this.key = parts.key;
    this.state = record?.state;
    this.version = record?.version ?? 0;
    this.senders = new Map(Object.entries(record?.senders ?? {}).map(([client, entry]) => [client, [entry[0], entry[1]]]));
  }

  get exists(): boolean {
    return this.state !== undefined;
  }

  get idle(): boolean {
    return this.mailbox.length === 0 && !this.scheduled && this.pendingCommits === 0;
  }

  /** The record to store, or undefined when nothing needs to stay (no state, no de-dup entries). */
  toRecord(): EntityRecord | undefined {
    if (this.state === undefined && this.senders.size === 0 && this.version === 0) return undefined;
    const record: { version: number; state?: unknown; senders?: Record<string, readonly [number, number]> } = { version: this.version };
    if (this.state !== undefined) record.state = this.state;
    if (this.senders.size > 0) record.senders = Object.fromEntries(this.senders);
    return record;
  }

  /** Drops de-dup entries older than the window; past `max` entries, drops the oldest. */
  pruneSenders(nowMs: number, windowMs: number, max: number): void {
    if (this.senders.size <= 16) return;
    for (const [client, [, at]] of this.senders) if (nowMs - at > windowMs) this.senders.delete(client);
    if (this.senders.size <= max) return;
    const oldest = [...this.senders].sort((a, b) => a[1][1] - b[1][1]).slice(0, this.senders.size - max);
    for (const [client] of oldest) this.senders.delete(client);
  }
}
