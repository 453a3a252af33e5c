import * as z from "zod";
import { EntityId } from "./entity-id.js";
import { ERROR_CODES } from "./error-codes.js";
import { RequestId } from "./request-id.js";
import { InstanceFrame } from "./orchestration-frames.js";

/** Answer to `hello`. */
export const WelcomeFrame = z.object({
  type: z.literal("welcome"),
  version: z.number().int(),
  /** Largest message the server accepts, in bytes; a larger one closes the connection with 1009. */
  maxMessageBytes: z.number().int().positive(),
  /** Most signals, calls and gets a connection may have waiting for answers; a client keeps within it. */
  maxInflightRequests: z.number().int().positive().optional(),
  /** The task hub the connection works in (canonical, lowercase). */
  hub: z.string().optional(),
});
export type WelcomeFrame = z.infer<typeof WelcomeFrame>;

/** Acknowledges signals by id; every id listed is durable on disk. */
export const AckFrame = z.object({
  type: z.literal("ack"),
  ids: z.array(RequestId),
});
export type AckFrame = z.infer<typeof AckFrame>;

/** The value an operation returned to a `call`. */
export const ResultFrame = z.object({
  type: z.literal("result"),
  id: RequestId,
  value: z.unknown().optional(),
});
export type ResultFrame = z.infer<typeof ResultFrame>;

/** Answer to `get`: the durable state, or null and version 0 when the entity does not exist. */
export const StateFrame = z.object({
  type: z.literal("state"),
  id: RequestId,
  entity: EntityId,
  state: z.unknown(),
  version: z.number().int().nonnegative(),
});
export type StateFrame = z.infer<typeof StateFrame>;

/**
 * A request failed, or a frame could not be read (then `id` is absent when none could be read). One
 * error can answer several requests that failed the same way (the invalid frames of one message):
 * then `ids` lists them.
 */
export const ErrorFrame = z.object({
  type: z.literal("error"),
  id: RequestId.optional(),
  ids: z.array(RequestId).optional(),
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: z.unknown().optional(),
});
export type ErrorFrame = z.infer<typeof ErrorFrame>;

/** Live state: a whole state (answer to `subscribe`, or a resync); `id` is set when it answers a request. */
export const SnapshotFrame = z.object({
  type: z.literal("snapshot"),
  id: RequestId.optional(),
  entity: EntityId,
  state: z.unknown(),
  version: z.number().int().nonnegative(),
});
export type SnapshotFrame = z.infer<typeof SnapshotFrame>;

/** One RFC 6902 operation. */
export const JsonPatchOperation = z.object({
  op: z.enum(["add", "remove", "replace", "move", "copy", "test"]),
  path: z.string(),
  from: z.string().optional(),
  value: z.unknown().optional(),
});
export type JsonPatchOperation = z.infer<typeof JsonPatchOperation>;

/** Live state: the change from `version - 1` to `version`. */
export const PatchFrame = z.object({
  type: z.literal("patch"),
  entity: EntityId,
  version: z.number().int().positive(),
  patch: z.array(JsonPatchOperation),
});
export type PatchFrame = z.infer<typeof PatchFrame>;

/** Every frame a server may send. */
export const ServerFrame = z.discriminatedUnion("type", [
  WelcomeFrame,
  AckFrame,
  ResultFrame,
  StateFrame,
  ErrorFrame,
  SnapshotFrame,
  PatchFrame,
  InstanceFrame,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
