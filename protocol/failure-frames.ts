import * as z from "zod";
import { ENTITY_NAME_PATTERN } from "./entity-id.js";
import { RequestId } from "./request-id.js";

/** Most failed signals one `failures` request answers with (the default is 100). */
export const MAX_FAILURES_PAGE = 1000;

/**
 * Lists failed signals between entities (the dead letters), newest first: of one entity type, or of
 * every type. Answered with `result` `{ failures, next? }`; pass `next` as `before` for older ones.
 */
export const FailuresFrame = z.object({
  type: z.literal("failures"),
  id: RequestId,
  entityType: z.string().regex(ENTITY_NAME_PATTERN, "an entity type name starts with a letter or _ and holds only letters, digits, _ . - (at most 128)").optional(),
  /** Default 100, at most 1,000 (a page also ends at about 1 MiB). */
  limit: z.number().int().positive().max(MAX_FAILURES_PAGE).optional(),
  /** Only failures older than this one (`seq`): the previous page's `next`. */
  before: RequestId.optional(),
});
export type FailuresFrame = z.infer<typeof FailuresFrame>;

/**
 * A signal from one entity to another whose operation failed (it threw, or its input was refused):
 * nobody was waiting for its answer, so the server keeps it, the newest 1,000 per entity type by
 * default. No stack trace: that is in the server's log.
 */
export const FailedSignalSchema = z.object({
  /** Its place among the failures: a later failure has a higher number. */
  seq: z.number().int().nonnegative(),
  /** The entity whose operation failed. */
  entityId: z.string(),
  operation: z.string(),
  /** The signal's input (absent when it had none, or when it was too large to keep: see `inputBytes`). */
  input: z.unknown().optional(),
  /** Set instead of `input` when the input was larger than the server keeps (64 KiB of JSON): its size. */
  inputBytes: z.number().int().nonnegative().optional(),
  /** The entity that sent the signal. */
  source: z.string().optional(),
  /** `operation_failed` (it threw), `bad_request` (its input schema refused the input), `unknown_operation`. */
  code: z.string(),
  message: z.string(),
  /** When it failed, ISO-8601 UTC. */
  time: z.string(),
});
export type FailedSignalWire = z.infer<typeof FailedSignalSchema>;

/** The answer to `failures`. */
export const FailurePageSchema = z.object({
  failures: z.array(FailedSignalSchema),
  /** Present when older failures may follow: pass it as `before`. */
  next: z.number().int().nonnegative().optional(),
});
export type FailurePageWire = z.infer<typeof FailurePageSchema>;
