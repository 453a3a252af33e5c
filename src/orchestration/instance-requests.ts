import type { MailboxAddress, TimerAddress, WorkItemAddress } from "../storage/index.js";
import type { ReplyTarget } from "../runtime/index.js";
import type { HistoryEvent } from "./history-events.js";
import type { ParentLink } from "./instance-record.js";

/** Where a request came from when it is durable: the instance's turn deletes it in the same commit. */
interface Consumes {
  /** A durable mailbox message (a sub-orchestration start, a child's result, an event from another instance). */
  readonly message?: MailboxAddress;
  /** The activity work item this result completes. */
  readonly workItem?: WorkItemAddress;
  /** The durable timer that fired. */
  readonly timer?: TimerAddress;
}

interface Answered {
  readonly replyTo?: ReplyTarget;
  readonly requestId?: number;
}

/** Start an instance (a client's start, or a parent's sub-orchestration). */
export interface StartRequest extends Consumes, Answered {
  readonly kind: "start";
  readonly instanceId: string;
  readonly name: string;
  readonly input?: unknown;
  readonly parent?: ParentLink;
  readonly depth: number;
  /** A client's start: its id and request number (its resend is answered as the first time). */
  readonly sender?: { readonly clientId: string; readonly seq: number };
}

/** Something that happened for the instance: a result, a timer, a raised event. */
export interface EventRequest extends Consumes, Answered {
  readonly kind: "event";
  readonly instanceId: string;
  /** Its timestamp is set when the turn records it. */
  readonly event: HistoryEvent;
  /** The execution it belongs to (results of an older one are dropped); absent for raised events. */
  readonly generation?: number;
}

/** terminate, suspend, resume or purge, from a client. */
export interface ControlRequest extends Answered {
  readonly kind: "terminate" | "suspend" | "resume" | "purge";
  readonly instanceId: string;
  readonly reason?: unknown;
}

/**
 * A rewind of a failed instance: from a client, or from its parent's rewind (`parent` is then the
 * link the parent expects; the child answers it as it answers a sub-orchestration, once it ends, or
 * at once when it cannot be rewound or has ended already).
 */
export interface RewindRequest extends Answered {
  readonly kind: "rewind";
  readonly instanceId: string;
  readonly reason?: unknown;
  readonly parent?: ParentLink;
  /** The parent's durable message, deleted by the turn that handles it. */
  readonly message?: MailboxAddress;
}

/** A read of the instance's status (and history), answered with what is committed. */
export interface ReadRequest extends Answered {
  readonly kind: "read";
  readonly instanceId: string;
  readonly history?: boolean;
  /** With the history: the first event of the page (default 0). */
  readonly historyFrom?: number;
}

export type InstanceRequest = StartRequest | EventRequest | ControlRequest | RewindRequest | ReadRequest;

/** The body of a durable mailbox message to an instance (InstanceMessage.event). */
export type InstanceMessageBody =
  | { readonly type: "start"; readonly name: string; readonly input?: unknown; readonly parent?: ParentLink; readonly depth: number }
  | { readonly type: "event"; readonly event: HistoryEvent; readonly generation?: number }
  | { readonly type: "rewind"; readonly reason?: unknown; readonly parent: ParentLink };
