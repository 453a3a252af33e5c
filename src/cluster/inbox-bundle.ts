import type { MailboxMessage } from "../storage/index.js";

/**
 * What travels through a partition's inbox: messages from one other partition's outbox, each with
 * its outbox number there. A sender sends its outbox in order, and the receiving owner records, per
 * sending partition, the highest number it applied, so a message sent again (a new owner of the
 * sender resends its whole outbox) is dropped: applied once.
 */
export interface InboxBundle {
  readonly from: number;
  readonly messages: ReadonlyArray<readonly [outboxSeq: number, message: MailboxMessage]>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeBundle(bundle: InboxBundle): Uint8Array {
  return encoder.encode(JSON.stringify({ v: 1, ...bundle }));
}

/** The bundle in an inbox message; undefined for bytes that are not one (kept out of the mailbox, logged by the caller). */
export function decodeBundle(data: Uint8Array): InboxBundle | undefined {
  try {
    const value = JSON.parse(decoder.decode(data)) as { v?: unknown; from?: unknown; messages?: unknown };
    if (value.v !== 1 || typeof value.from !== "number" || !Array.isArray(value.messages)) return undefined;
    return { from: value.from, messages: value.messages as InboxBundle["messages"] };
  } catch {
    return undefined;
  }
}
