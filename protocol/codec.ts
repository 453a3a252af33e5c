import type { z } from "zod";
import { ClientFrame } from "./client-frames.js";
import { isEntityId } from "./entity-id.js";
import { ErrorCode } from "./error-codes.js";
import { MAX_FRAMES_PER_MESSAGE } from "./limits.js";
import { ServerFrame, type ErrorFrame } from "./server-frames.js";

/**
 * A WebSocket message carries one frame (a JSON object) or a batch of frames (a JSON array).
 * Batches are how the protocol is fast: clients coalesce what they issue in one tick, servers
 * coalesce what they answer after one commit.
 */
export type Decoded<F> = { readonly frames: F[]; readonly errors: ErrorFrame[] };

/** Decodes a client message; every unreadable frame becomes an error frame, the rest are returned. */
export function decodeClientMessage(text: string): Decoded<ClientFrame> {
  return decodeMessage(text, ClientFrame, readHotClientFrame);
}

/** Decodes a server message (used by clients). */
export function decodeServerMessage(text: string): Decoded<ServerFrame> {
  return decodeMessage(text, ServerFrame, readAckFrame);
}

/** `ack` frames, the bulk of what a busy client receives, checked by hand (the same rules as the schema). */
export function readAckFrame(item: unknown): ServerFrame | undefined {
  if (typeof item !== "object" || item === null || (item as { type?: unknown }).type !== "ack") return undefined;
  const ids = (item as { ids?: unknown }).ids;
  if (!Array.isArray(ids)) return undefined;
  for (const id of ids) if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) return undefined;
  return { type: "ack", ids: ids as number[] };
}

/** Encodes one frame or a batch as one message. */
export function encodeMessage(frames: readonly object[]): string {
  return frames.length === 1 ? JSON.stringify(frames[0]) : JSON.stringify(frames);
}

/**
 * The frames that arrive by the hundred thousand (signal, call, get), checked by hand: it accepts
 * exactly what the zod schema accepts (a property test holds the two together) and returns
 * undefined for anything else, which then goes through zod for its verdict and error message.
 */
export function readHotClientFrame(item: unknown): ClientFrame | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const frame = item as Record<string, unknown>;
  const { type, id, entity } = frame;
  if (type !== "signal" && type !== "call" && type !== "get") return undefined;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) return undefined;
  if (typeof entity !== "string" || !isEntityId(entity)) return undefined;
  if (type === "get") return { type, id, entity };
  const op = frame.op;
  if (typeof op !== "string" || op.length === 0 || op.length > 128) return undefined;
  return "input" in frame ? { type, id, entity, op, input: frame.input } : { type, id, entity, op };
}

function decodeMessage<F>(text: string, schema: z.ZodType<F>, fastPath?: (item: unknown) => F | undefined): Decoded<F> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { frames: [], errors: [badRequest("message is not valid JSON")] };
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  if (items.length > MAX_FRAMES_PER_MESSAGE) {
    return {
      frames: [],
      errors: [badRequest(`a message may carry at most ${MAX_FRAMES_PER_MESSAGE} frames, got ${items.length}`)],
    };
  }
  const frames: F[] = [];
  const errors: ErrorFrame[] = [];
  for (const item of items) {
    const fast = fastPath?.(item);
    if (fast !== undefined) {
      frames.push(fast);
      continue;
    }
    const result = schema.safeParse(item);
    if (result.success) frames.push(result.data);
    else errors.push(badRequest(describeFrameError(item, result.error), readRequestId(item)));
  }
  return { frames, errors };
}

function badRequest(message: string, id?: number): ErrorFrame {
  return id === undefined ? { type: "error", code: ErrorCode.bad_request, message } : { type: "error", id, code: ErrorCode.bad_request, message };
}

/** The id of a frame that failed validation, when it has a readable one, so the error can echo it. */
function readRequestId(item: unknown): number | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const id = (item as { id?: unknown }).id;
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

function describeFrameError(item: unknown, error: z.ZodError): string {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return "a frame must be a JSON object with a \"type\"";
  const type = (item as { type?: unknown }).type;
  const issues = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const prefix = typeof type === "string" ? `invalid "${type}" frame` : "invalid frame";
  return `${prefix}: ${issues.join("; ")}`;
}
