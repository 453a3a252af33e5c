import type { z } from "zod";
import { ClientFrame } from "./client-frames.js";
import { ErrorCode } from "./error-codes.js";
import { readAckFrame, readClientFrame, readRequestId } from "./frame-readers.js";
import { MAX_VALUE_DEPTH, nestsDeeperThan } from "./json-depth.js";
import { MAX_FRAMES_PER_MESSAGE } from "./limits.js";
import { ServerFrame, type ErrorFrame } from "./server-frames.js";

export { readAckFrame, readClientFrame } from "./frame-readers.js";

/**
 * A WebSocket message carries one frame (a JSON object) or a batch of frames (a JSON array).
 * Batches are how the protocol is fast: clients coalesce what they issue in one tick, servers
 * coalesce what they answer after one commit.
 *
 * A message yields at most one error, however many of its frames are invalid: the error answers
 * every invalid frame that has a readable id (`id`, or `ids` for several) and describes the first
 * failure. So an error costs about what the frames that caused it cost, never many times more.
 */
export type Decoded<F> = { readonly frames: F[]; readonly errors: ErrorFrame[] };

/** Longest error message the decoder writes (a frame can hold a long value that an issue quotes). */
const MAX_ERROR_MESSAGE = 400;

/** Decodes a client message: its valid frames, and one error for all the invalid ones. */
export function decodeClientMessage(text: string): Decoded<ClientFrame> {
  return decodeMessage(text, ClientFrame, readClientFrame);
}

/** Decodes a server message (used by clients). */
export function decodeServerMessage(text: string): Decoded<ServerFrame> {
  return decodeMessage(text, ServerFrame, readAckFrame);
}

/** Encodes one frame or a batch as one message. */
export function encodeMessage(frames: readonly object[]): string {
  return frames.length === 1 ? JSON.stringify(frames[0]) : JSON.stringify(frames);
}

/** A bad_request error; `ids` are the requests it answers. */
export function badRequest(message: string, ids: readonly number[] = []): ErrorFrame {
  const frame: ErrorFrame = { type: "error", code: ErrorCode.bad_request, message: bounded(message) };
  if (ids.length === 1) return { type: "error", id: ids[0]!, code: frame.code, message: frame.message };
  return ids.length > 1 ? { ...frame, ids: [...ids] } : frame;
}

/** The `readFast` reader must accept exactly what `schema` accepts; zod only describes the first failure. */
function decodeMessage<F>(text: string, schema: z.ZodType<F>, readFast: (item: unknown) => F | undefined): Decoded<F> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { frames: [], errors: [badRequest("message is not valid JSON")] };
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  if (items.length > MAX_FRAMES_PER_MESSAGE) {
    return { frames: [], errors: [badRequest(`a message may carry at most ${MAX_FRAMES_PER_MESSAGE} frames, got ${items.length}`)] };
  }
  const frames: F[] = [];
  const badIds: number[] = [];
  let invalid = 0;
  let first = "";
  for (let index = 0; index < items.length; index++) {
    const item: unknown = items[index];
    const frame = readFast(item);
    if (frame !== undefined) {
      frames.push(frame);
      continue;
    }
    const checked = invalid === 0 ? schema.safeParse(item) : undefined;
    if (checked?.success) {
      frames.push(checked.data); // only if a reader and its schema disagree; the property tests say they do not
      continue;
    }
    if (invalid++ === 0) {
      const problem = describeFrameError(item, checked?.error);
      first = items.length > 1 ? `frame ${index + 1}: ${problem}` : problem;
    }
    const id = readRequestId(item);
    if (id !== undefined) badIds.push(id);
  }
  const deep = frames.filter(carriesTooDeepValue);
  if (deep.length > 0) {
    // Refused whole: nothing downstream (JSON.stringify, a payload's size check, the store) has to walk it.
    for (const frame of deep) {
      frames.splice(frames.indexOf(frame), 1);
      const id = readRequestId(frame);
      if (id !== undefined) badIds.push(id);
      if (invalid++ === 0) first = `a value in a "${(frame as { type: string }).type}" frame nests deeper than ${MAX_VALUE_DEPTH} levels`;
    }
  }
  if (invalid === 0) return { frames, errors: [] };
  const message = invalid === 1 ? first : `${invalid} frames of this message are invalid; the first, ${first}`;
  return { frames, errors: [badRequest(message, badIds)] };
}

/** The fields of frames that carry values of any shape. */
const VALUE_FIELDS = ["input", "data", "reason", "value", "state"] as const;

function carriesTooDeepValue(frame: unknown): boolean {
  const record = frame as Record<string, unknown>;
  for (const field of VALUE_FIELDS) {
    const value = record[field];
    if (typeof value === "object" && value !== null && nestsDeeperThan(value, MAX_VALUE_DEPTH)) return true;
  }
  return false;
}

function describeFrameError(item: unknown, error: z.ZodError | undefined): string {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return 'a frame must be a JSON object with a "type"';
  const type = (item as { type?: unknown }).type;
  const issues = (error?.issues ?? []).slice(0, 3).map((issue) => {
    const path = issue.path.join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const prefix = typeof type === "string" ? `invalid "${type.slice(0, 40)}" frame` : "invalid frame";
  return `${prefix}: ${issues.join("; ")}`;
}

function bounded(message: string): string {
  return message.length <= MAX_ERROR_MESSAGE ? message : `${message.slice(0, MAX_ERROR_MESSAGE - 1)}…`;
}
