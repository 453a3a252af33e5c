import * as z from "zod";
import { EntityId } from "./entity-id.js";
import { ENTITY_QUERY_FRAMES } from "./entity-query-frames.js";
import { FailuresFrame } from "./failure-frames.js";
import { isKeyText, KEY_TEXT_RULE } from "./key-text.js";
import { canonicalTaskHubName, TASK_HUB_NAME_RULE } from "./task-hub-name.js";

import { ORCHESTRATION_FRAMES } from "./orchestration-frames.js";
import { RequestId } from "./request-id.js";

export { RequestId };
const OperationName = z.string().min(1).max(128);

/** First frame on every connection. `clientId` names the client across reconnects (it scopes signal ids). */
export const HelloFrame = z.object({
  type: z.literal("hello"),
  version: z.number().int(),
  clientId: z
    .string()
    .min(1)
    .max(200)
    .refine(isKeyText, { message: `clientId must be ${KEY_TEXT_RULE}` })
    .optional(),
  /** The task hub this connection works in (default: the server's own, its `--hub`). */
  hub: z
    .string()
    .refine((name) => canonicalTaskHubName(name) !== undefined, { message: `hub must be ${TASK_HUB_NAME_RULE}` })
    .optional(),
});
export type HelloFrame = z.infer<typeof HelloFrame>;

/** The fields of every request about one entity, and of the operation requests (signal and call). */
const entityRequest = { id: RequestId, entity: EntityId };
const operationRequest = { ...entityRequest, op: OperationName, input: z.unknown().optional() };

/** Fire-and-forget operation; acknowledged once durable. Its id de-duplicates resends from the same clientId. */
export const SignalFrame = z.object({
  type: z.literal("signal"),
  ...operationRequest,
  /** Schedules it: applied at this time (epoch ms), not before; acknowledged once the schedule is durable. */
  at: z.number().optional(),
});
export type SignalFrame = z.infer<typeof SignalFrame>;

/** Request/response operation; answered with `result` (or `error`) once the change is durable. */
export const CallFrame = z.object({ type: z.literal("call"), ...operationRequest });
export type CallFrame = z.infer<typeof CallFrame>;

/** Reads an entity's durable state; answered with `state`. */
export const GetFrame = z.object({ type: z.literal("get"), ...entityRequest });
export type GetFrame = z.infer<typeof GetFrame>;

/** Starts live state for an entity: a snapshot, then a patch per committed change. */
export const SubscribeFrame = z.object({
  type: z.literal("subscribe"),
  ...entityRequest,
  /** The last version the client holds; the server replays newer patches when it still has them. */
  fromVersion: z.number().int().nonnegative().optional(),
});
export type SubscribeFrame = z.infer<typeof SubscribeFrame>;

/** Stops live state for an entity on this connection. */
export const UnsubscribeFrame = z.object({ type: z.literal("unsubscribe"), ...entityRequest });
export type UnsubscribeFrame = z.infer<typeof UnsubscribeFrame>;

/** Every frame a client may send. */
export const ClientFrame = z.discriminatedUnion("type", [
  HelloFrame,
  SignalFrame,
  CallFrame,
  GetFrame,
  SubscribeFrame,
  UnsubscribeFrame,
  FailuresFrame,
  ...ENTITY_QUERY_FRAMES,
  ...ORCHESTRATION_FRAMES,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

/** A frame that asks for an answer (everything but `hello`). */
export type ClientRequest = Exclude<ClientFrame, HelloFrame>;
