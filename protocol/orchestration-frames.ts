import * as z from "zod";
import { ENTITY_NAME_PATTERN } from "./entity-id.js";
import { InstanceId } from "./instance-id.js";
import { RequestId } from "./request-id.js";

/** An orchestration's (or activity's, or event's) name: the same rule as entity type names. */
export const OrchestrationName = z.string().regex(ENTITY_NAME_PATTERN, "a name starts with a letter or _ and holds only letters, digits, _ . - (at most 128)");
/** An external event's name. */
export const EventName = z.string().min(1).max(128);

export const RUNTIME_STATUSES = ["Pending", "Running", "Completed", "Failed", "Terminated", "Suspended"] as const;
export const RuntimeStatusName = z.enum(RUNTIME_STATUSES);

/** Starts an orchestration; answered with `result` `{ instanceId }` once the start is durable. */
export const StartFrame = z.object({
  type: z.literal("start"),
  id: RequestId,
  name: OrchestrationName,
  input: z.unknown().optional(),
  /** Default: a new random id. Refused with `instance_exists` while an instance with this id runs. */
  instanceId: InstanceId.optional(),
});
export type StartFrame = z.infer<typeof StartFrame>;

/** Raises an external event; acknowledged once durable. */
export const RaiseFrame = z.object({ type: z.literal("raise"), id: RequestId, instanceId: InstanceId, event: EventName, data: z.unknown().optional() });
export type RaiseFrame = z.infer<typeof RaiseFrame>;

const control = <T extends "terminate" | "suspend" | "resume" | "rewind">(type: T) =>
  z.object({ type: z.literal(type), id: RequestId, instanceId: InstanceId, reason: z.unknown().optional() });
/** Terminates a running instance (its output is the reason); acknowledged once durable. */
export const TerminateFrame = control("terminate");
/** Suspends a running instance: events wait until it is resumed. */
export const SuspendFrame = control("suspend");
export const ResumeFrame = control("resume");
/**
 * Rewinds a Failed instance: the failures that failed it are taken back and their activities run
 * again (failed sub-orchestrations are rewound too); acknowledged once durable. Refused with
 * `invalid_state` when the instance has not failed.
 */
export const RewindFrame = control("rewind");
export type ControlFrame = z.infer<typeof TerminateFrame> | z.infer<typeof SuspendFrame> | z.infer<typeof ResumeFrame> | z.infer<typeof RewindFrame>;

/** Deletes a finished instance and its history; answered with `result` `{ instancesDeleted }`. */
export const PurgeFrame = z.object({ type: z.literal("purge"), id: RequestId, instanceId: InstanceId });
export type PurgeFrame = z.infer<typeof PurgeFrame>;

/** Reads an instance's status (null when unknown), with its history when asked. */
export const StatusFrame = z.object({
  type: z.literal("status"),
  id: RequestId,
  instanceId: InstanceId,
  history: z.boolean().optional(),
  /** With `history`: the first event of the page (the previous answer's `historyNext`). */
  historyFrom: z.number().int().nonnegative().optional(),
});
export type StatusFrame = z.infer<typeof StatusFrame>;

/** Lists instances, newest first is not promised: in storage order, a page at a time. */
export const ListFrame = z.object({
  type: z.literal("list"),
  id: RequestId,
  runtimeStatus: z.array(RuntimeStatusName).max(6).optional(),
  name: OrchestrationName.optional(),
  /** Epoch ms. */
  createdFrom: z.number().optional(),
  createdTo: z.number().optional(),
  instanceIdPrefix: z.string().max(256).optional(),
  /** Default 100, at most 1,000. */
  pageSize: z.number().int().positive().max(1000).optional(),
  /** From the previous page's answer. */
  continuation: z.string().max(2048).optional(),
});
export type ListFrame = z.infer<typeof ListFrame>;

/** Pushes the instance's status now and on every committed change (`instance` frames). */
export const WatchFrame = z.object({ type: z.literal("watch"), id: RequestId, instanceId: InstanceId });
export type WatchFrame = z.infer<typeof WatchFrame>;
export const UnwatchFrame = z.object({ type: z.literal("unwatch"), id: RequestId, instanceId: InstanceId });
export type UnwatchFrame = z.infer<typeof UnwatchFrame>;

/** Every orchestration request a client may send. */
export const ORCHESTRATION_FRAMES = [StartFrame, RaiseFrame, TerminateFrame, SuspendFrame, ResumeFrame, RewindFrame, PurgeFrame, StatusFrame, ListFrame, WatchFrame, UnwatchFrame] as const;
export type OrchestrationFrame = z.infer<(typeof ORCHESTRATION_FRAMES)[number]>;

/** Why an instance failed. */
export const FailureDetailsSchema: z.ZodType<FailureDetailsWire> = z.lazy(() =>
  z.object({
    errorType: z.string(),
    message: z.string(),
    taskName: z.string().optional(),
    details: z.unknown().optional(),
    inner: FailureDetailsSchema.optional(),
  }),
);
export interface FailureDetailsWire {
  errorType: string;
  message: string;
  taskName?: string | undefined;
  details?: unknown;
  inner?: FailureDetailsWire | undefined;
}

/** An instance's status as clients see it (Durable Functions' shape; times are ISO-8601 UTC). */
export const InstanceStatusSchema = z.object({
  name: z.string(),
  instanceId: z.string(),
  runtimeStatus: RuntimeStatusName,
  input: z.unknown(),
  output: z.unknown(),
  customStatus: z.unknown(),
  createdTime: z.string(),
  lastUpdatedTime: z.string(),
  failureDetails: FailureDetailsSchema.optional(),
  parentInstanceId: z.string().optional(),
  /** A page of the history (at most 1,000 events, about 1 MiB), when asked. */
  history: z.array(z.unknown()).optional(),
  /** Where the next page of the history starts; absent on the last page. */
  historyNext: z.number().int().nonnegative().optional(),
});
export type InstanceStatusWire = z.infer<typeof InstanceStatusSchema>;

/** A watched instance's status: the answer to `watch` (with its id), then one per committed change (null: purged). */
export const InstanceFrame = z.object({
  type: z.literal("instance"),
  id: RequestId.optional(),
  instanceId: z.string(),
  status: InstanceStatusSchema.nullable(),
});
export type InstanceFrame = z.infer<typeof InstanceFrame>;
