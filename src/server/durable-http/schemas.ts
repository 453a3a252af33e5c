import * as z from "zod";
import { canonicalTaskHubName, EventName, InstanceId, RUNTIME_STATUSES, TASK_HUB_NAME_RULE } from "../../../protocol/index.js";

/**
 * The zod schemas of the HTTP API: what validates path and query parameters, and the shapes of
 * the bodies it answers with. The OpenAPI document (openapi.ts) is generated from these.
 */

// ---------- parameters (strings in, typed values out) ----------

/** `true` or `false`, as Durable Functions reads them (any case). */
export const BooleanParam = z
  .string()
  .regex(/^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$/, "must be true or false")
  .transform((value) => value.toLowerCase() === "true");

/** An ISO-8601 date and time (`2026-12-01T00:00:00Z`; a date alone is midnight UTC), as epoch ms. */
export const DateTimeParam = z
  .string()
  .max(64)
  .refine((value) => !Number.isNaN(Date.parse(value)), "must be an ISO-8601 date and time, such as 2026-12-01T00:00:00Z")
  .transform((value) => Date.parse(value))
  .meta({ format: "date-time" });

/** A number of seconds (a wait). */
export const SecondsParam = z
  .string()
  .regex(/^\d{1,7}(?:\.\d{1,6})?$/, "must be a number of seconds")
  .transform(Number)
  .pipe(z.number().positive("must be more than 0 seconds").max(3600, "may be at most 3600 seconds"));

/** A page size. */
export const TopParam = z
  .string()
  .regex(/^\d{1,7}$/, "must be a whole number")
  .transform(Number)
  .pipe(z.number().int().min(1, "must be at least 1").max(1000, "may be at most 1000"));

/** The runtime statuses Durable Functions names; `ContinuedAsNew` and `Canceled` never occur here, and match nothing. */
const DF_RUNTIME_STATUSES = [...RUNTIME_STATUSES, "ContinuedAsNew", "Canceled"] as const;
const STATUS_BY_LOWERCASE = new Map(DF_RUNTIME_STATUSES.map((status) => [status.toLowerCase(), status]));

/** A comma-separated list of runtime statuses (any case), as the statuses this server has. */
export const RuntimeStatusListParam = z
  .string()
  .max(200)
  .refine((value) => value.split(",").every((name) => STATUS_BY_LOWERCASE.has(name.trim().toLowerCase())), `must be runtime statuses separated by commas (${DF_RUNTIME_STATUSES.join(", ")})`)
  .transform((value) => {
    const named = value.split(",").map((name) => STATUS_BY_LOWERCASE.get(name.trim().toLowerCase())!);
    return (RUNTIME_STATUSES as readonly string[]).filter((status) => named.includes(status as (typeof DF_RUNTIME_STATUSES)[number])) as Array<(typeof RUNTIME_STATUSES)[number]>;
  });

export const TaskHubParam = z
  .string()
  .refine((name) => canonicalTaskHubName(name) !== undefined, `must be ${TASK_HUB_NAME_RULE}`)
  .meta({ description: "The task hub to work in (case does not matter); default: the server's own (its --hub)." });

/** Accepted on every route. */
export const COMMON_QUERY = {
  taskHub: TaskHubParam.optional(),
  connection: z.string().max(200).optional().meta({ description: "Accepted for Durable Functions' clients and carried into links; not used." }),
  code: z.string().max(500).optional().meta({ description: "Accepted for Durable Functions' clients and carried into links; not used (authentication is a bearer token)." }),
};

export const InstanceIdParam = InstanceId.meta({ description: "The orchestration instance id." });
export const OrchestratorNameParam = z.string().min(1).max(128).meta({ description: "The orchestrator function's name (case does not matter)." });
export const EventNameParam = EventName.refine((name) => !name.startsWith("@"), 'event names starting with "@" are reserved').meta({ description: "The external event's name." });
export const EntityNameParam = z.string().min(1).max(128).meta({ description: "The entity type's name (case does not matter: Durable Functions lowercases it)." });
export const EntityKeyParam = z.string().min(1).max(512).meta({ description: "The entity's key." });

// ---------- bodies ----------

/** Any JSON value (null included; a key with this schema must be present). */
export const JsonValue = z.unknown().refine((value) => value !== undefined, "must be present (null when there is none)").meta({ description: "Any JSON value." });

export const ErrorBody = z
  .object({
    error: z.string().meta({ description: "A stable snake_case code: bad_request, not_found, instance_exists, instance_finished, payload_too_large, …" }),
    message: z.string().meta({ description: "What went wrong, for people." }),
  })
  .meta({ description: "Why a request was refused." });

const Link = z.string().meta({ format: "uri" });
export const CheckStatusPayload = z
  .object({
    id: z.string().meta({ description: "The instance id." }),
    statusQueryGetUri: Link,
    sendEventPostUri: Link.meta({ description: "With {eventName} to fill in." }),
    terminatePostUri: Link.meta({ description: "With {text}, the reason, to fill in." }),
    purgeHistoryDeleteUri: Link,
    restartPostUri: Link,
    suspendPostUri: Link.meta({ description: "With {text}, the reason, to fill in." }),
    resumePostUri: Link.meta({ description: "With {text}, the reason, to fill in." }),
  })
  .meta({ description: "Links to manage an instance, as Durable Functions' createCheckStatusResponse gives them." });
export type CheckStatusPayload = z.infer<typeof CheckStatusPayload>;

export interface FailureDetailsBody {
  errorType: string;
  message: string;
  taskName?: string | undefined;
  details?: unknown;
  inner?: FailureDetailsBody | undefined;
}
export const FailureDetails: z.ZodType<FailureDetailsBody> = z.lazy(() =>
  z.object({
    errorType: z.string(),
    message: z.string(),
    taskName: z.string().optional(),
    details: z.unknown().optional(),
    inner: FailureDetails.optional(),
  }),
);

export const HISTORY_EVENT_TYPES = [
  "ExecutionStarted",
  "ExecutionCompleted",
  "ExecutionTerminated",
  "ExecutionSuspended",
  "ExecutionResumed",
  "ExecutionRewound",
  "ContinueAsNew",
  "TaskScheduled",
  "TaskCompleted",
  "TaskFailed",
  "SubOrchestrationInstanceCreated",
  "SubOrchestrationInstanceCompleted",
  "SubOrchestrationInstanceFailed",
  "TimerCreated",
  "TimerFired",
  "EventSent",
  "EventRaised",
] as const;

export interface FailureRowBody {
  ErrorType: string;
  ErrorMessage: string;
  InnerFailure?: FailureRowBody | undefined;
}
export const FailureRow: z.ZodType<FailureRowBody> = z.lazy(() => z.object({ ErrorType: z.string(), ErrorMessage: z.string(), InnerFailure: FailureRow.optional() }));

/**
 * One row of `historyEvents`, as Durable Functions shows history: PascalCase fields, the scheduling
 * of a finished task folded into its completion row (`FunctionName`, `ScheduledTime`), and the
 * orchestrator's own OrchestratorStarted and OrchestratorCompleted left out.
 */
export const HistoryRow = z
  .object({
    EventType: z.enum(HISTORY_EVENT_TYPES),
    Timestamp: z.string().meta({ format: "date-time" }),
    FunctionName: z.string().optional().meta({ description: "The orchestrator's (ExecutionStarted), activity's or sub-orchestration's name." }),
    Name: z.string().optional().meta({ description: "A task still scheduled, an event's or a sent message's name." }),
    ScheduledTime: z.string().optional().meta({ format: "date-time", description: "When the completed task was scheduled." }),
    Result: z.unknown().optional().meta({ description: "A task's or the execution's result (with showHistoryOutput)." }),
    FireAt: z.string().optional().meta({ format: "date-time" }),
    InstanceId: z.string().optional().meta({ description: "A sub-orchestration's instance id, or the entity or instance an event was sent to." }),
    Input: z.unknown().optional(),
    Reason: z.unknown().optional(),
    Details: z.unknown().optional(),
    OrchestrationStatus: z.string().optional(),
    FailureDetails: FailureRow.optional(),
  })
  .meta({ description: "A history event, as Durable Functions shows it." });
export type HistoryRow = z.infer<typeof HistoryRow>;

export const RuntimeStatusName = z.enum(RUNTIME_STATUSES);

export const OrchestrationStatus = z
  .object({
    name: z.string(),
    instanceId: z.string(),
    runtimeStatus: RuntimeStatusName,
    input: JsonValue.meta({ description: "The input (null when there is none, or with showInput=false)." }),
    customStatus: JsonValue,
    output: JsonValue.meta({ description: "The output; a terminated instance's reason; a failed one's error message." }),
    createdTime: z.string().meta({ format: "date-time" }),
    lastUpdatedTime: z.string().meta({ format: "date-time" }),
    failureDetails: FailureDetails.optional().meta({ description: "Why a failed instance failed (not in Durable Functions' shape)." }),
    historyEvents: z.array(HistoryRow).optional().meta({ description: "With showHistory=true." }),
  })
  .meta({ description: "An orchestration instance's status." });
export type OrchestrationStatus = z.infer<typeof OrchestrationStatus>;

export const PurgeResult = z.object({ instancesDeleted: z.number().int().nonnegative() }).meta({ description: "How many instances were deleted." });

export const EntityListItem = z
  .object({
    entityId: z.object({ name: z.string(), key: z.string() }),
    lastOperationTime: z.string().nullable().meta({ format: "date-time", description: "When an operation last changed it (null for records kept before this was recorded)." }),
    state: z.unknown().optional().meta({ description: "With fetchState=true." }),
  })
  .meta({ description: "An entity of a listing." });
export type EntityListItem = z.infer<typeof EntityListItem>;

/** The named schemas of the OpenAPI document's components. */
export const COMPONENT_SCHEMAS = {
  ErrorBody,
  CheckStatusPayload,
  OrchestrationStatus,
  HistoryRow,
  FailureDetails,
  FailureRow,
  PurgeResult,
  EntityListItem,
} as const;
export type ComponentName = keyof typeof COMPONENT_SCHEMAS;
