import type { ClientFrame } from "./client-frames.js";
import { isEntityId } from "./entity-id.js";
import { isKeyText } from "./key-text.js";
import type { ServerFrame } from "./server-frames.js";

/**
 * Hand-written readers for the frames that arrive by the hundred thousand, and for invalid ones,
 * which must cost no more than valid ones (zod builds an error object per issue). Each accepts
 * exactly what its zod schema accepts, with the same result (property tests hold them together),
 * and returns undefined for anything else; zod is then asked only to describe the first failure.
 */

const MAX_OPERATION_NAME = 128;
const MAX_CLIENT_ID = 200;

function isRequestId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** Reads any client frame, or returns undefined when the zod schema would refuse it. */
export function readClientFrame(item: unknown): ClientFrame | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const frame = item as Record<string, unknown>;
  const type = frame.type;
  if (type === "hello") return readHello(frame);
  if (type !== "signal" && type !== "call" && type !== "get" && type !== "subscribe" && type !== "unsubscribe") return undefined;
  const { id, entity } = frame;
  if (!isRequestId(id) || typeof entity !== "string" || !isEntityId(entity)) return undefined;
  switch (type) {
    case "get":
    case "unsubscribe":
      return { type, id, entity };
    case "subscribe": {
      if (!("fromVersion" in frame) || frame.fromVersion === undefined) return { type, id, entity };
      const fromVersion = frame.fromVersion;
      return isRequestId(fromVersion) ? { type, id, entity, fromVersion } : undefined;
    }
    default: {
      const op = frame.op;
      if (typeof op !== "string" || op.length === 0 || op.length > MAX_OPERATION_NAME) return undefined;
      return "input" in frame ? { type, id, entity, op, input: frame.input } : { type, id, entity, op };
    }
  }
}

function readHello(frame: Record<string, unknown>): ClientFrame | undefined {
  const { version, clientId } = frame;
  if (typeof version !== "number" || !Number.isSafeInteger(version)) return undefined;
  if (clientId === undefined) return { type: "hello", version };
  if (typeof clientId !== "string" || clientId.length === 0 || clientId.length > MAX_CLIENT_ID || !isKeyText(clientId)) return undefined;
  return { type: "hello", version, clientId };
}

/** The id of a frame that failed validation, when it has a readable one, so the error can answer it. */
export function readRequestId(item: unknown): number | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const id = (item as { id?: unknown }).id;
  return isRequestId(id) ? id : undefined;
}

/** `ack` frames, the bulk of what a busy client receives, checked by hand (the same rules as the schema). */
export function readAckFrame(item: unknown): ServerFrame | undefined {
  if (typeof item !== "object" || item === null || (item as { type?: unknown }).type !== "ack") return undefined;
  const ids = (item as { ids?: unknown }).ids;
  if (!Array.isArray(ids)) return undefined;
  for (const id of ids) if (!isRequestId(id)) return undefined;
  return { type: "ack", ids: ids as number[] };
}
