import { parseEntityId } from "../../protocol/index.js";
import type { EntityRecord, LockHolder } from "../storage/index.js";
import type { EntityDefinition } from "./define-entity.js";
import type { OperationRequest } from "./operation-request.js";
import type { SignalMarks } from "./signal-marks.js";

/** An entity in memory: its last good state, its mailbox, and what pins it there. */
export class LoadedEntity {
  readonly name: string;
  readonly key: string;
  /** The state after the last applied operation; never mutated (operations work on copies). Undefined: does not exist. */
  state: unknown;
  /** Count of committed changes. */
  version: number;
  /** When a commit last wrote its record (epoch ms), if one did since records kept the time. */
  modifiedAt: number | undefined;
  /** De-duplication: the last signal applied per client. */
  readonly marks: SignalMarks;
  /** Operations waiting for the next turn, in arrival order. */
  mailbox: OperationRequest[] = [];
  /** True while the entity is on the runtime's list for the next tick. */
  scheduled = false;
  /** Turns of this entity whose commit is not yet durable; a pinned entity is never evicted. */
  pendingCommits = 0;
  /** The orchestration holding the entity in a critical section, if one does. */
  lock: LockHolder | undefined;
  /** Operations that arrived while another holder had the entity locked: they run, in order, once it is free. */
  waiting: OperationRequest[] = [];

  constructor(
    readonly id: string,
    readonly definition: EntityDefinition,
    record: EntityRecord | undefined,
    marks: SignalMarks,
  ) {
    const parts = parseEntityId(id)!;
    this.name = parts.name;
    this.key = parts.key;
    this.state = record?.state;
    this.version = record?.version ?? 0;
    this.modifiedAt = record?.modifiedAt;
    this.lock = record?.lock;
    this.marks = marks;
  }

  get exists(): boolean {
    return this.state !== undefined;
  }

  get idle(): boolean {
    return this.mailbox.length === 0 && this.waiting.length === 0 && !this.scheduled && this.pendingCommits === 0;
  }

  /** The record to store, or undefined when nothing needs to stay (never had state, not locked). */
  toRecord(): EntityRecord | undefined {
    if (this.state === undefined && this.version === 0 && this.lock === undefined) return undefined;
    return {
      version: this.version,
      ...(this.modifiedAt === undefined ? {} : { modifiedAt: this.modifiedAt }),
      ...(this.state === undefined ? {} : { state: this.state }),
      ...(this.lock === undefined ? {} : { lock: this.lock }),
    };
  }
}
