import type { ErrorCode } from "../../protocol/index.js";
import type { InstanceReply, LockHolder, MailboxAddress, TimerAddress } from "../storage/index.js";
import type { Maintenance } from "./entity-maintenance.js";

/** `signal`: run and acknowledge; `call`: run and answer with the result; `read`: answer with the state. */
export type OperationKind = "signal" | "call" | "read";

/** What the runtime answers, always after the changes it depends on are durable. */
export type Outcome =
  | { readonly kind: "ack" }
  | { readonly kind: "result"; readonly value: unknown }
  | { readonly kind: "state"; readonly entityId: string; readonly state: unknown; readonly version: number }
  | { readonly kind: "error"; readonly code: ErrorCode; readonly message: string };

/** Where outcomes go (a connection, a test, later an orchestration). */
export interface ReplyTarget {
  deliver(requestId: number, outcome: Outcome): void;
}

/** One operation waiting in an entity's mailbox. */
export interface OperationRequest {
  readonly kind: OperationKind;
  readonly entityId: string;
  /** The operation's name; empty for `read`. */
  readonly op: string;
  readonly input?: unknown;
  /** A client signal's de-duplication identity: applied at most once per (clientId, seq) and entity. */
  readonly sender?: { readonly clientId: string; readonly seq: number };
  /**
   * How this signal (a resend) was answered when a failed commit refused it: its number may now be
   * below the client's mark (a later signal was applied), and it must not be acknowledged as applied.
   */
  readonly refused?: Outcome;
  /** A signal from another entity, delivered from the durable mailbox; removed when applied. */
  readonly message?: MailboxAddress;
  /** Who sent the mailbox message (the sending entity's id), when it says. */
  readonly source?: string;
  readonly replyTo?: ReplyTarget;
  readonly requestId?: number;
  /** An orchestration's call: its answer goes back to the instance (durably, with the commit). */
  readonly reply?: InstanceReply;
  /** The orchestration instance that sent it: it passes a lock that instance holds. */
  readonly holder?: LockHolder;
  /** The lock protocol, for ops `@lock` and `@release`. */
  readonly lock?: { readonly entities: readonly string[]; readonly grant: string };
  /** A scheduled signal (epoch ms): recorded as a durable timer, applied when it fires. */
  readonly at?: number;
  /** The durable timer of a scheduled signal that fired: removed when the signal is applied. */
  readonly timer?: TimerAddress;
  /** Work of the server itself on the entity (delete, clean), run in its turn: see entity-maintenance.ts. Never from a durable message. */
  readonly maintenance?: Maintenance;
}

/** A committed, durable change of an entity's state (state is null when the entity was deleted). */
export interface EntityChange {
  readonly entityId: string;
  readonly version: number;
  readonly state: unknown;
  readonly previousState: unknown;
}
