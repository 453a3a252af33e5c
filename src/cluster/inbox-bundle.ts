import type { MailboxMessage } from "../storage/index.js";
import { isRecord, isStringArray } from "./nats-payloads.js";

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

/**
 * The bundle in an inbox message, its messages checked one by one (an inbox is input: any NATS client
 * can publish to it); undefined for bytes that are not a bundle. Messages that are not mailbox
 * messages are left out.
 */
export function decodeBundle(data: Uint8Array): InboxBundle | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
  if (!isRecord(value) || value.v !== 1 || !Number.isSafeInteger(value.from) || (value.from as number) < 0 || !Array.isArray(value.messages)) return undefined;
  const messages = value.messages.filter((entry): entry is [number, MailboxMessage] => Array.isArray(entry) && entry.length === 2 && Number.isSafeInteger(entry[0]) && entry[0] > 0 && isMailboxMessage(entry[1]));
  return { from: value.from as number, messages };
}

/** The shape of a mailbox message, as far as the runtime relies on it before its own checks. */
function isMailboxMessage(value: unknown): value is MailboxMessage {
  if (!isRecord(value) || typeof value.target !== "string" || (value.source !== undefined && typeof value.source !== "string")) return false;
  if (value.kind === "instance") return isRecord(value.event) && typeof value.event.type === "string";
  if (value.kind !== undefined || typeof value.op !== "string") return false;
  if (value.at !== undefined && !Number.isFinite(value.at)) return false;
  if (value.holder !== undefined && !isHolder(value.holder)) return false;
  if (value.reply !== undefined && !(isHolder(value.reply) && typeof value.reply.event === "string")) return false;
  if (value.lock !== undefined && !(isRecord(value.lock) && isStringArray(value.lock.entities) && value.lock.entities.length > 0 && typeof value.lock.grant === "string")) return false;
  return true;
}

function isHolder(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && typeof value.instanceId === "string" && Number.isSafeInteger(value.generation);
}
