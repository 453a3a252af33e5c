import type { z } from "zod";
import { ClientFrame } from "./client-frames.js";
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
  return decodeMessage(text, ClientFrame);
}

/** Decodes a server message (used by clients). */
export function decodeServerMessage(text: string): Decoded<ServerFrame> {
  return decodeMessage(text, ServerFrame);
}

/** Encodes one frame or a batch as one message. */
export function encodeMessage(frames: readonly object[]): string {
  return frames.length === 1 ? JSON.stringify(frames[0]) : JSON.stringify(frames);
}

function decodeMessage<F>(text: string, schema: z.ZodType<F>): Decoded<F> {
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
