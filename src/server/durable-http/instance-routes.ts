import { randomUUID } from "node:crypto";
import * as z from "zod";
import { ErrorCode, isEntityError, type ListFrame } from "../../../protocol/index.js";
import type { OrchestrationAction } from "../../security/index.js";
import { listInstances } from "../instance-listing.js";
import { askInstance, resultOf } from "./asking.js";
import { notFound, orchestrationHost, readInstance, statusBody, statusResponse } from "./instance-status.js";
import { startInstance, startWait, WAIT_QUERY } from "./orchestrator-routes.js";
import type { HttpResponse } from "../transport.js";
import { emptyResponse, HttpProblem, jsonResponse, problemOf } from "./problems.js";
import { jsonBody } from "./request-body.js";
import { defineRoute, type RouteContext, type RouteSpec } from "./route-spec.js";
import { BooleanParam, DateTimeParam, EventNameParam, InstanceIdParam, JsonValue, RuntimeStatusListParam, TopParam } from "./schemas.js";

export const CONTINUATION_HEADER = "x-ms-continuation-token";
const MAX_CONTINUATION_CHARS = 2048;

/**
 * Checks `action` on the instance's orchestration (its committed record names it). An instance that
 * does not exist is checked as "any orchestration", so that only a token with a grant on `*` learns
 * that it does not exist (the others get 403, not 404).
 */
export function authorizeInstance(context: RouteContext, action: OrchestrationAction, instanceId: string): void {
  if (!context.services.authorizing) return;
  const record = context.hub.store.readInstance(instanceId) as { name?: string } | undefined;
  context.services.authorize(context.principal, action, { kind: "orchestration", name: record?.name ?? "*" }, `instance ${instanceId}`);
}

/** What an instance route answers in a task hub that does not exist yet: as for an instance that does not exist (checked as "any orchestration"). */
export function noInstance(action: OrchestrationAction) {
  return async (context: Pick<RouteContext, "services" | "principal"> & { readonly params: { readonly instanceId: string } }): Promise<HttpResponse> => {
    context.services.authorize(context.principal, action, { kind: "orchestration", name: "*" }, `instance ${context.params.instanceId}`);
    throw notFound(context.params.instanceId);
  };
}

/** The continuation a client sends back (`x-ms-continuation-token`), checked for size. */
export function continuationOf(context: RouteContext): string | undefined {
  const token = context.request.headers[CONTINUATION_HEADER];
  if (token === undefined || token === "") return undefined;
  if (token.length > MAX_CONTINUATION_CHARS) throw new HttpProblem(400, ErrorCode.bad_request, `header ${CONTINUATION_HEADER}: longer than ${MAX_CONTINUATION_CHARS} characters; send back the token a page gave`);
  return token;
}

const instanceParams = { instanceId: InstanceIdParam };
const errors = (statuses: Record<number, string>) => Object.fromEntries(Object.entries(statuses).map(([status, description]) => [status, { description, body: { component: "ErrorBody" as const } }]));

const getStatus = defineRoute({
  method: "GET",
  path: "/instances/{instanceId}",
  operationId: "getInstanceStatus",
  tag: "instances",
  summary: "An instance's status (and history)",
  params: instanceParams,
  query: {
    showHistory: BooleanParam.optional().meta({ description: "Include the current execution's history (default false)." }),
    showHistoryOutput: BooleanParam.optional().meta({ description: "With showHistory: include tasks' results (default false)." }),
    showInput: BooleanParam.optional().meta({ description: "Include the input (default true)." }),
    returnInternalServerErrorOnFailure: BooleanParam.optional().meta({ description: "Answer 500 rather than 200 for a Failed instance (default false)." }),
  },
  responses: {
    200: { description: "Completed, Failed or Terminated.", body: { component: "OrchestrationStatus" } },
    202: { description: "Pending, Running or Suspended.", body: { component: "OrchestrationStatus" }, headers: { Location: "This status link.", "Retry-After": "5 (seconds)." } },
    ...errors({ 400: "A bad parameter.", 404: "No such instance." }),
    500: { description: "Failed, with returnInternalServerErrorOnFailure=true.", body: { component: "OrchestrationStatus" } },
  },
  whenHubMissing: noInstance("status"),
  async handle(context) {
    const { instanceId } = context.params;
    const host = orchestrationHost(context.hub);
    authorizeInstance(context, "status", instanceId);
    const showHistory = context.query.showHistory === true;
    const found = await readInstance(host, instanceId, showHistory);
    if (found === undefined) throw notFound(instanceId);
    const history = found.events === undefined ? undefined : { events: found.events, showOutput: context.query.showHistoryOutput === true };
    const view = { showInput: context.query.showInput !== false, ...(history ? { history } : {}) };
    return statusResponse(found.status, view, { location: context.links.self, internalServerErrorOnFailure: context.query.returnInternalServerErrorOnFailure === true });
  },
});

const listStatuses = defineRoute({
  method: "GET",
  path: "/instances",
  operationId: "listInstances",
  tag: "instances",
  summary: "Instances matching a filter, a page at a time",
  description: `Paged through the ${CONTINUATION_HEADER} header: a page that has more after it carries one; send it back as a request header for the next page. The last page carries none.`,
  params: {},
  query: {
    runtimeStatus: RuntimeStatusListParam.optional().meta({ description: "Only these statuses, separated by commas." }),
    createdTimeFrom: DateTimeParam.optional().meta({ description: "Only instances created at or after this time." }),
    createdTimeTo: DateTimeParam.optional().meta({ description: "Only instances created at or before this time." }),
    instanceIdPrefix: z.string().max(256).optional().meta({ description: "Only instance ids starting with this." }),
    showInput: BooleanParam.optional().meta({ description: "Include inputs (default true)." }),
    top: TopParam.optional().meta({ description: "Most instances in the page (default 100, at most 1000)." }),
  },
  requestHeaders: { [CONTINUATION_HEADER]: "The token of the previous page, for the next one." },
  responses: {
    200: { description: "A page of statuses.", body: { arrayOf: "OrchestrationStatus" }, headers: { [CONTINUATION_HEADER]: "Present when more pages follow: send it back for the next." } },
    ...errors({ 400: "A bad parameter or continuation token." }),
  },
  async whenHubMissing(context) {
    context.services.authorize(context.principal, "status", { kind: "orchestration", name: "*" });
    return jsonResponse(200, []); // nothing there: an empty page
  },
  async handle(context) {
    const host = orchestrationHost(context.hub);
    context.services.authorize(context.principal, "status", { kind: "orchestration", name: "*" });
    const { query } = context;
    const continuation = continuationOf(context);
    if (query.runtimeStatus !== undefined && query.runtimeStatus.length === 0) return jsonResponse(200, []); // only statuses that never occur here
    const pageSize = query.top ?? 100;
    const frame: ListFrame = {
      type: "list",
      id: 0,
      pageSize,
      ...(query.runtimeStatus === undefined ? {} : { runtimeStatus: query.runtimeStatus }),
      ...(query.createdTimeFrom === undefined ? {} : { createdFrom: query.createdTimeFrom }),
      ...(query.createdTimeTo === undefined ? {} : { createdTo: query.createdTimeTo }),
      ...(query.instanceIdPrefix === undefined ? {} : { instanceIdPrefix: query.instanceIdPrefix }),
      ...(continuation === undefined ? {} : { continuation }),
    };
    // In cluster mode, every partition's part, from its owner (a partition without an answer: 503).
    const { listings } = context.hub;
    const list = async (asked: ListFrame) => (listings ? await listings.listInstances(asked) : listInstances(host, asked));
    let page: ReturnType<typeof listInstances>;
    try {
      page = await list(frame);
      // A full page's token may lead to nothing: look one instance ahead, so that the last page carries no token.
      if (page.continuation !== undefined && page.instances.length >= pageSize) {
        const ahead = await list({ ...frame, pageSize: 1, continuation: page.continuation });
        if (ahead.instances.length === 0 && ahead.continuation === undefined) page = { instances: page.instances };
      }
    } catch (error) {
      if (isEntityError(error)) throw problemOf({ kind: "error", code: error.code, message: error.message });
      throw new HttpProblem(400, ErrorCode.bad_request, `header ${CONTINUATION_HEADER}: ${(error as Error).message}`);
    }
    const showInput = query.showInput !== false;
    const body = page.instances.map((status) => statusBody(status, { showInput }));
    return jsonResponse(200, body, page.continuation === undefined ? {} : { [CONTINUATION_HEADER]: page.continuation });
  },
});

const raiseEvent = defineRoute({
  method: "POST",
  path: "/instances/{instanceId}/raiseEvent/{eventName}",
  operationId: "raiseEvent",
  tag: "instances",
  summary: "Raise an external event",
  description: "The body is the event's data (JSON; empty is null). Answered once the event is durable.",
  params: { instanceId: InstanceIdParam, eventName: EventNameParam },
  query: {},
  body: { description: "The event's data.", schema: JsonValue },
  responses: {
    202: { description: "The event is recorded (a suspended instance keeps it for its resume)." },
    ...errors({ 400: "A bad parameter, or a body that is not JSON.", 404: "No such instance.", 409: "A suspended instance holds as many events as it keeps.", 410: "The instance has finished.", 413: "The data is too large.", 415: "The body is not JSON (Content-Type)." }),
  },
  whenHubMissing: noInstance("raise"),
  async handle(context) {
    const { instanceId, eventName } = context.params;
    const host = orchestrationHost(context.hub);
    authorizeInstance(context, "raise", instanceId);
    const data = jsonBody(context.request, "event data");
    const bytes = JSON.stringify(data).length;
    if (bytes > host.limits.maxPayloadBytes) throw new HttpProblem(413, ErrorCode.payload_too_large, `the event data is ${bytes} bytes of JSON; the limit is ${host.limits.maxPayloadBytes}`);
    resultOf(await askInstance(host, { kind: "event", instanceId, event: { type: "EventRaised", timestamp: 0, name: eventName, input: data } }));
    return emptyResponse(202);
  },
});

function controlRoute(kind: "terminate" | "suspend" | "resume" | "rewind"): RouteSpec {
  const what = {
    terminate: "Terminate a running instance (its output is the reason)",
    suspend: "Suspend an instance: events wait until it is resumed",
    resume: "Resume a suspended instance",
    rewind: "Rewind a Failed instance: the failures that failed it are taken back and it runs again from its failed activities",
  }[kind];
  return defineRoute({
    method: "POST",
    path: `/instances/{instanceId}/${kind}`,
    operationId: `${kind}Instance`,
    tag: "instances",
    summary: what,
    params: instanceParams,
    query: { reason: z.string().max(10_000).optional().meta({ description: "Why (recorded in the history)." }) },
    responses: {
      202: { description: "Done, and durable." },
      ...errors({ 400: "A bad parameter.", 404: "No such instance.", 410: kind === "rewind" ? "The instance has not failed (or cannot be rewound)." : "The instance has finished." }),
    },
    whenHubMissing: noInstance("manage"),
    async handle(context) {
      const { instanceId } = context.params;
      const host = orchestrationHost(context.hub);
      authorizeInstance(context, "manage", instanceId);
      const reason = context.query.reason;
      resultOf(await askInstance(host, { kind, instanceId, ...(reason === undefined ? {} : { reason }) }));
      return emptyResponse(202);
    },
  });
}

const restart = defineRoute({
  method: "POST",
  path: "/instances/{instanceId}/restart",
  operationId: "restartInstance",
  tag: "instances",
  summary: "Start an instance's orchestration again with its input",
  description: "Answered like a start: 202 with the new instance's links (or, with timeout, its output).",
  params: instanceParams,
  query: {
    restartWithNewInstanceId: BooleanParam.optional().meta({ description: "Start it under a new random id (default true); false reuses the id, once the instance has finished." }),
    ...WAIT_QUERY,
  },
  responses: {
    200: { description: "With timeout: the new instance completed in time; its output.", body: { schema: JsonValue } },
    202: { description: "Started: the new instance's links.", body: { component: "CheckStatusPayload" }, headers: { Location: "The status link.", "Retry-After": "10 (seconds)." } },
    ...errors({ 400: "A bad parameter.", 404: "No such instance.", 409: "Restarting under the same id while it still runs." }),
  },
  whenHubMissing: noInstance("status"),
  async handle(context) {
    const { instanceId } = context.params;
    const host = orchestrationHost(context.hub);
    authorizeInstance(context, "status", instanceId);
    const found = await readInstance(host, instanceId, false);
    if (found === undefined) throw notFound(instanceId);
    context.services.authorize(context.principal, "start", { kind: "orchestration", name: found.status.name });
    const newId = context.query.restartWithNewInstanceId === false ? instanceId : randomUUID().replaceAll("-", "");
    return startInstance(context, host, found.status.name, newId, found.status.input ?? null, startWait(context.query));
  },
});

export const instanceRoutes: RouteSpec[] = [getStatus, listStatuses, raiseEvent, controlRoute("terminate"), controlRoute("suspend"), controlRoute("resume"), controlRoute("rewind"), restart];
