import type { ClientFrame } from "./client-frames.js";
import { ENTITY_NAME_PATTERN, isEntityId } from "./entity-id.js";
import { MAX_ENTITY_CONTINUATION, MAX_ENTITY_PAGE, MAX_KEY_PREFIX } from "./entity-query-frames.js";
import { MAX_FAILURES_PAGE } from "./failure-frames.js";
import { isInstanceId } from "./instance-id.js";
import { isKeyText } from "./key-text.js";
import { canonicalTaskHubName } from "./task-hub-name.js";
import { RUNTIME_STATUSES } from "./orchestration-frames.js";
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
  if (type === "failures") return readFailures(frame);
  if (type === "listEntities" || type === "deleteEntity" || type === "cleanEntities") return readEntityQuery(frame, type);
  if (type !== "signal" && type !== "call" && type !== "get" && type !== "subscribe" && type !== "unsubscribe") return readOrchestrationFrame(frame);
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
      const read: ClientFrame = "input" in frame ? { type, id, entity, op, input: frame.input } : { type, id, entity, op };
      if (type !== "signal" || frame.at === undefined) return read;
      return typeof frame.at === "number" && Number.isFinite(frame.at) ? { ...read, at: frame.at } as ClientFrame : undefined;
    }
  }
}

function readHello(frame: Record<string, unknown>): ClientFrame | undefined {
  const { version, clientId, hub } = frame;
  if (typeof version !== "number" || !Number.isSafeInteger(version)) return undefined;
  if (clientId !== undefined && (typeof clientId !== "string" || clientId.length === 0 || clientId.length > MAX_CLIENT_ID || !isKeyText(clientId))) return undefined;
  if (hub !== undefined && (typeof hub !== "string" || canonicalTaskHubName(hub) === undefined)) return undefined;
  return { type: "hello", version, ...(clientId === undefined ? {} : { clientId }), ...(hub === undefined ? {} : { hub }) };
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

/** The optional fields a frame has (absent or undefined ones left out, as zod leaves them). */
function optional(frame: Record<string, unknown>, name: string, valid: (value: unknown) => boolean): { ok: boolean; fields: Record<string, unknown> } {
  const value = frame[name];
  if (value === undefined) return { ok: true, fields: {} };
  return valid(value) ? { ok: true, fields: { [name]: value } } : { ok: false, fields: {} };
}

const isString = (max: number, min = 0) => (value: unknown) => typeof value === "string" && value.length >= min && value.length <= max;
const isName = (value: unknown) => typeof value === "string" && ENTITY_NAME_PATTERN.test(value);
const isNumber = (value: unknown) => typeof value === "number" && Number.isFinite(value);
const isStatusList = (value: unknown) => Array.isArray(value) && value.length <= RUNTIME_STATUSES.length && value.every((status) => (RUNTIME_STATUSES as readonly unknown[]).includes(status));
const isPageSize = (value: unknown) => typeof value === "number" && Number.isSafeInteger(value) && value > 0 && value <= 1000;

/** Orchestration requests: each field as its zod schema in orchestration-frames.ts has it. */
function readOrchestrationFrame(frame: Record<string, unknown>): ClientFrame | undefined {
  const { type, id } = frame;
  if (!isRequestId(id)) return undefined;
  if (type === "start") {
    if (!isName(frame.name)) return undefined;
    const instanceId = optional(frame, "instanceId", (value) => typeof value === "string" && isInstanceId(value));
    if (!instanceId.ok) return undefined;
    return { type, id, name: frame.name as string, ...("input" in frame ? { input: frame.input } : {}), ...instanceId.fields } as ClientFrame;
  }
  const instanceId = frame.instanceId;
  if (type === "list") return readList(frame, id);
  if (typeof instanceId !== "string" || !isInstanceId(instanceId)) return undefined;
  switch (type) {
    case "raise":
      if (!isString(128, 1)(frame.event)) return undefined;
      return { type, id, instanceId, event: frame.event as string, ...("data" in frame ? { data: frame.data } : {}) };
    case "terminate":
    case "suspend":
    case "resume":
    case "rewind":
      return { type, id, instanceId, ...("reason" in frame ? { reason: frame.reason } : {}) };
    case "status": {
      const history = optional(frame, "history", (value) => typeof value === "boolean");
      const from = optional(frame, "historyFrom", isRequestId);
      return history.ok && from.ok ? ({ type, id, instanceId, ...history.fields, ...from.fields } as ClientFrame) : undefined;
    }
    case "purge":
    case "watch":
    case "unwatch":
      return { type, id, instanceId };
    default:
      return undefined;
  }
}

function readList(frame: Record<string, unknown>, id: number): ClientFrame | undefined {
  const fields: Record<string, unknown> = {};
  const checks: Array<[string, (value: unknown) => boolean]> = [
    ["runtimeStatus", isStatusList],
    ["name", isName],
    ["createdFrom", isNumber],
    ["createdTo", isNumber],
    ["instanceIdPrefix", isString(256)],
    ["pageSize", isPageSize],
    ["continuation", isString(2048)],
  ];
  for (const [name, valid] of checks) {
    const field = optional(frame, name, valid);
    if (!field.ok) return undefined;
    Object.assign(fields, field.fields);
  }
  return { type: "list", id, ...fields } as ClientFrame;
}

/** `failures`: as FailuresFrame in failure-frames.ts has it. */
function readFailures(frame: Record<string, unknown>): ClientFrame | undefined {
  const id = frame.id;
  if (!isRequestId(id)) return undefined;
  const fields: Record<string, unknown> = {};
  const checks: Array<[string, (value: unknown) => boolean]> = [
    ["entityType", isName],
    ["limit", (value) => typeof value === "number" && Number.isSafeInteger(value) && value > 0 && value <= MAX_FAILURES_PAGE],
    ["before", isRequestId],
  ];
  for (const [name, valid] of checks) {
    const field = optional(frame, name, valid);
    if (!field.ok) return undefined;
    Object.assign(fields, field.fields);
  }
  return { type: "failures", id, ...fields } as ClientFrame;
}

/** Entity queries: as their zod schemas in entity-query-frames.ts have them. */
function readEntityQuery(frame: Record<string, unknown>, type: "listEntities" | "deleteEntity" | "cleanEntities"): ClientFrame | undefined {
  const id = frame.id;
  if (!isRequestId(id)) return undefined;
  if (type === "deleteEntity") return typeof frame.entity === "string" && isEntityId(frame.entity) ? { type, id, entity: frame.entity } : undefined;
  if (type === "listEntities" && !isName(frame.entityType)) return undefined;
  const fields: Record<string, unknown> = type === "listEntities" ? { entityType: frame.entityType } : {};
  const isBoolean = (value: unknown) => typeof value === "boolean";
  const checks: Array<[string, (value: unknown) => boolean]> =
    type === "cleanEntities"
      ? [
          ["entityType", isName],
          ["removeEmpty", isBoolean],
          ["releaseOrphanedLocks", isBoolean],
        ]
      : [
          ["ignoreCase", isBoolean],
          ["prefix", (value) => isString(MAX_KEY_PREFIX)(value) && isKeyText(value as string)],
          ["includeState", isBoolean],
          ["includeDeleted", isBoolean],
          ["modifiedFrom", isNumber],
          ["modifiedTo", isNumber],
          ["pageSize", (value) => typeof value === "number" && Number.isSafeInteger(value) && value > 0 && value <= MAX_ENTITY_PAGE],
          ["continuation", isString(MAX_ENTITY_CONTINUATION)],
          ["count", isBoolean],
        ];
  for (const [name, valid] of checks) {
    const field = optional(frame, name, valid);
    if (!field.ok) return undefined;
    Object.assign(fields, field.fields);
  }
  return { type, id, ...fields } as ClientFrame;
}
