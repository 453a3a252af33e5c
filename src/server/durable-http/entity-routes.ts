import * as z from "zod";
import { ErrorCode, isEntityError, isEntityId } from "../../../protocol/index.js";
import { deleteRequest, type EntityRuntime } from "../../runtime/index.js";
import { askEntity } from "./asking.js";
import { continuationOf, CONTINUATION_HEADER } from "./instance-routes.js";
import { emptyResponse, HttpProblem, jsonResponse, problemOf } from "./problems.js";
import { jsonBody } from "./request-body.js";
import { defineRoute, type RouteContext, type RouteSpec } from "./route-spec.js";
import { BooleanParam, DateTimeParam, EntityKeyParam, EntityNameParam, JsonValue, TopParam, type EntityListItem } from "./schemas.js";

/** Entity type names by their lowercase form, per runtime (Durable Functions lowercases entity names). */
const typeIndex = new WeakMap<EntityRuntime, Map<string, string[]>>();

/** The app's entity type for a name from a path: exact, else the one that matches without regard to case; 404 when none does. */
export function entityType(runtime: EntityRuntime, requested: string): string {
  if (runtime.registry.definition(requested) !== undefined) return requested;
  let index = typeIndex.get(runtime);
  if (index === undefined) {
    index = new Map();
    for (const name of runtime.registry.names) index.set(name.toLowerCase(), [...(index.get(name.toLowerCase()) ?? []), name]);
    typeIndex.set(runtime, index);
  }
  const matching = index.get(requested.toLowerCase()) ?? [];
  if (matching.length === 1) return matching[0]!;
  if (matching.length > 1) throw new HttpProblem(400, ErrorCode.bad_request, `entity type ${JSON.stringify(requested.slice(0, 128))} matches ${matching.join(" and ")}; name it in the app's case`);
  const known = runtime.registry.names.join(", ") || "none";
  throw new HttpProblem(404, ErrorCode.unknown_entity, `no entity type ${JSON.stringify(requested.slice(0, 128))} on this server (it has: ${known.length > 200 ? `${known.slice(0, 200)}…` : known})`);
}

/** `Type/key`, checked; 404 for an unknown type, 400 for a key no entity id may have. */
function entityIdOf(context: RouteContext): string {
  const params = context.params as { entityName: string; entityKey: string };
  const id = `${entityType(context.hub.runtime, params.entityName)}/${params.entityKey}`;
  if (!isEntityId(id)) throw new HttpProblem(400, ErrorCode.bad_request, `path parameter entityKey: an entity key is 1 to 512 characters of well-formed Unicode without control characters`);
  return id;
}

function noState(entityId: string): HttpProblem {
  return new HttpProblem(404, ErrorCode.not_found, `entity ${JSON.stringify(entityId.slice(0, 256))} does not exist (it has no state)`);
}

/**
 * The entity a signal goes to, checked: its type, its operation, and that the request may signal it.
 * Refused before it is queued, it counts as `rejected`, as over the WebSocket.
 */
function signalTarget(context: RouteContext): string {
  const op = (context.query as { op: string }).op;
  let entityId: string;
  try {
    entityId = entityIdOf(context);
  } catch (problem) {
    // A type the app lacks, or a bad key: the runtime counts the id as it was asked for when it refuses it.
    const params = context.params as { entityName: string; entityKey: string };
    context.hub.runtime.checkOperation(`${params.entityName}/${params.entityKey}`, op);
    throw problem;
  }
  context.services.authorize(context.principal, "signal", { kind: "entity", id: entityId });
  const problem = context.hub.runtime.checkOperation(entityId, op);
  if (problem) throw new HttpProblem(problem.code === ErrorCode.unknown_entity ? 404 : 400, problem.code, problem.message);
  return entityId;
}

const entityParams = { entityName: EntityNameParam, entityKey: EntityKeyParam };
const errorBody = { component: "ErrorBody" as const };

const signal = defineRoute({
  method: "POST",
  path: "/entities/{entityName}/{entityKey}",
  operationId: "signalEntity",
  tag: "entities",
  summary: "Signal an entity: run an operation, one-way",
  description:
    "The body is the operation's input (JSON; empty is none). Answered 202 once the signal is durable and applied; an operation that throws is rolled back and logged by the server (the signal was still accepted), an input its schema refuses is answered 400.",
  params: entityParams,
  query: { op: z.string().min(1).max(256).meta({ description: "The operation." }) },
  body: { description: "The operation's input.", schema: JsonValue },
  responses: {
    202: { description: "The signal is durable." },
    400: { description: "A bad parameter, an unknown operation, a body that is not JSON, or an input the operation's schema refuses.", body: errorBody },
    404: { description: "The app defines no entity type of that name.", body: errorBody },
    413: { description: "The input is too large.", body: errorBody },
    415: { description: "The body is not JSON (Content-Type).", body: errorBody },
  },
  createsHub: true,
  checkBeforeCreating(context) {
    signalTarget(context);
  },
  async handle(context) {
    const { runtime } = context.hub;
    const op = context.query.op;
    const entityId = signalTarget(context);
    const input = context.request.body.length === 0 ? undefined : jsonBody(context.request, "input");
    const outcome = await askEntity(runtime, { kind: "signal", entityId, op, ...(input === undefined ? {} : { input }) });
    // A signal is one-way: one whose operation threw is still durable (rolled back, and logged by the server).
    if (outcome.kind === "error" && outcome.code !== ErrorCode.operation_failed) throw problemOf(outcome);
    return emptyResponse(202);
  },
});

const remove = defineRoute({
  method: "DELETE",
  path: "/entities/{entityName}/{entityKey}",
  operationId: "deleteEntity",
  tag: "entities",
  summary: "Delete an entity's state (signals its delete operation)",
  description: "An entity type with a `delete` operation (or a dispatch function) is signalled `delete`; one without has its state deleted as `ctx.deleteState()` would, in its turn.",
  params: entityParams,
  query: {},
  responses: {
    202: { description: "The deletion is durable." },
    400: { description: "A bad parameter.", body: errorBody },
    404: { description: "The app defines no entity type of that name.", body: errorBody },
  },
  async whenHubMissing(context) {
    context.services.authorize(context.principal, "signal", { kind: "entity", id: entityIdOf(context) });
    return emptyResponse(202); // nothing to delete
  },
  async handle(context) {
    const entityId = entityIdOf(context);
    const { runtime } = context.hub;
    context.services.authorize(context.principal, "signal", { kind: "entity", id: entityId });
    const definition = runtime.registry.definition(entityId.slice(0, entityId.indexOf("/")))!;
    const hasDelete = definition.kind === "dispatch" || Object.hasOwn(definition.operations, "delete");
    const outcome = await askEntity(runtime, hasDelete ? { kind: "signal", entityId, op: "delete" } : deleteRequest(entityId));
    if (outcome.kind === "error" && outcome.code !== ErrorCode.operation_failed) throw problemOf(outcome);
    return emptyResponse(202);
  },
});

const read = defineRoute({
  method: "GET",
  path: "/entities/{entityName}/{entityKey}",
  operationId: "readEntityState",
  tag: "entities",
  summary: "An entity's state",
  params: entityParams,
  query: {},
  responses: {
    200: { description: "The state (the body is the state's JSON).", body: { schema: JsonValue } },
    400: { description: "A bad parameter.", body: errorBody },
    404: { description: "No such entity type, or the entity does not exist (no state).", body: errorBody },
  },
  async whenHubMissing(context) {
    const entityId = entityIdOf(context);
    context.services.authorize(context.principal, "read", { kind: "entity", id: entityId });
    throw noState(entityId);
  },
  async handle(context) {
    const entityId = entityIdOf(context);
    context.services.authorize(context.principal, "read", { kind: "entity", id: entityId });
    const outcome = await askEntity(context.hub.runtime, { kind: "read", entityId, op: "" });
    if (outcome.kind === "error") throw problemOf(outcome);
    const state = outcome.kind === "state" ? outcome.state : null;
    if (state === null || state === undefined) throw noState(entityId);
    return jsonResponse(200, state);
  },
});

/** A listing's continuation: the last id a page covered, base64url (header-safe whatever the keys hold). */
function encodeAfter(id: string): string {
  return Buffer.from(id).toString("base64url");
}

function decodeAfter(token: string, type: string): string {
  const id = Buffer.from(token, "base64url").toString();
  if (!id.startsWith(`${type}/`)) throw new HttpProblem(400, ErrorCode.bad_request, `header ${CONTINUATION_HEADER}: not a token a page of ${type} gave`);
  return id;
}

const list = defineRoute({
  method: "GET",
  path: "/entities/{entityName}",
  operationId: "listEntities",
  tag: "entities",
  summary: "The entities of a type that exist (have state), in order of their keys, a page at a time",
  description: `Paged through the ${CONTINUATION_HEADER} header, as instance listings are.`,
  params: { entityName: EntityNameParam },
  query: {
    fetchState: BooleanParam.optional().meta({ description: "Include each entity's state (default false)." }),
    top: TopParam.optional().meta({ description: "Most entities in the page (default 100, at most 1000)." }),
    lastOperationTimeFrom: DateTimeParam.optional().meta({ description: "Only entities last changed at or after this time." }),
    lastOperationTimeTo: DateTimeParam.optional().meta({ description: "Only entities last changed at or before this time." }),
  },
  requestHeaders: { [CONTINUATION_HEADER]: "The token of the previous page, for the next one." },
  responses: {
    200: { description: "A page of entities.", body: { arrayOf: "EntityListItem" }, headers: { [CONTINUATION_HEADER]: "Present when more pages follow: send it back for the next." } },
    400: { description: "A bad parameter or continuation token.", body: errorBody },
    404: { description: "The app defines no entity type of that name.", body: errorBody },
  },
  async whenHubMissing(context) {
    context.services.authorize(context.principal, "read", { kind: "entities", type: entityType(context.hub.runtime, context.params.entityName) });
    return jsonResponse(200, []); // nothing there: an empty page
  },
  async handle(context) {
    const type = entityType(context.hub.runtime, context.params.entityName);
    context.services.authorize(context.principal, "read", { kind: "entities", type });
    const { query } = context;
    const token = continuationOf(context);
    const pageSize = query.top ?? 100;
    const fetchState = query.fetchState === true;
    const listing = {
      type,
      pageSize,
      includeState: fetchState,
      ...(query.lastOperationTimeFrom === undefined ? {} : { modifiedFrom: query.lastOperationTimeFrom }),
      ...(query.lastOperationTimeTo === undefined ? {} : { modifiedTo: query.lastOperationTimeTo }),
      ...(token === undefined ? {} : { after: decodeAfter(token, type) }),
    };
    // In cluster mode, every partition's part, from its owner (a partition without an answer: 503).
    const { listings, store } = context.hub;
    const read = async (query: typeof listing) => (listings ? (await listings.listEntities(query, false).catch(asProblem)).listing : store.listEntities(query));
    const page = await read(listing);
    let next = page.next;
    if (next !== undefined && page.entities.length >= pageSize) {
      // Look one entity ahead, so that the last page carries no token.
      const ahead = await read({ ...listing, pageSize: 1, includeState: false, after: next });
      if (ahead.entities.length === 0 && ahead.next === undefined) next = undefined;
    }
    const body: EntityListItem[] = page.entities.map((entity) => ({
      entityId: { name: type, key: entity.id.slice(type.length + 1) },
      lastOperationTime: entity.modifiedAt === undefined ? null : new Date(entity.modifiedAt).toISOString(),
      ...(fetchState ? { state: entity.state ?? null } : {}),
    }));
    return jsonResponse(200, body, next === undefined ? {} : { [CONTINUATION_HEADER]: encodeAfter(next) });
  },
});

/** A coded refusal (a partition's owner that did not answer) as the HTTP problem it answers; anything else as it is. */
export function asProblem(error: unknown): never {
  if (isEntityError(error)) throw problemOf({ kind: "error", code: error.code, message: error.message });
  throw error;
}

export const entityRoutes: RouteSpec[] = [signal, remove, read, list];
