import * as z from "zod";
import { ErrorCode } from "../../../protocol/index.js";
import { errorMessage, newLogId } from "../../log.js";
import type { Principal } from "../../security/index.js";
import { echo } from "../http-routes.js";
import type { TaskHub } from "../task-hub.js";
import type { HttpRequest, HttpResponse } from "../transport.js";
import { DURABLE_HTTP_PREFIX, linksFor, type Links } from "./links.js";
import { errorResponse, HttpProblem, statusOfCode } from "./problems.js";
import type { RouteContext, RouteSpec } from "./route-spec.js";
import { COMMON_QUERY } from "./schemas.js";
import type { DurableHttpServices } from "./services.js";

type Segment = { readonly literal: string } | { readonly param: string };

interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly segments: readonly Segment[];
  readonly params: z.ZodObject;
  readonly query: z.ZodObject;
  /** Query parameter names by their lowercase form (Durable Functions reads them without regard to case). */
  readonly queryNames: ReadonlyMap<string, string>;
}

/** The handler of the HTTP API: requests below the prefix, answered by the route their method and path match. */
export type DurableHttpHandler = (request: HttpRequest, principal?: Principal) => Promise<HttpResponse>;

/** Splits a route's path into its segments: `{name}` is a parameter, anything else a literal. */
export function pathSegments(path: string): Segment[] {
  return path
    .split("/")
    .filter((part) => part !== "")
    .map((part) => (part.startsWith("{") && part.endsWith("}") ? { param: part.slice(1, -1) } : { literal: part.toLowerCase() }));
}

function compile(spec: RouteSpec): CompiledRoute {
  const query = { ...COMMON_QUERY, ...spec.query };
  return {
    spec,
    segments: pathSegments(spec.path),
    params: z.object(spec.params),
    query: z.object(query),
    queryNames: new Map(Object.keys(query).map((name) => [name.toLowerCase(), name])),
  };
}

/** The first problem zod found, said about the named parameter. */
function parameterProblem(where: string, error: z.ZodError): HttpProblem {
  const issue = error.issues[0]!;
  const name = issue.path.length > 0 ? String(issue.path[0]) : "";
  const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
  return new HttpProblem(400, ErrorCode.bad_request, `${where} ${name}: ${missing ? "is required" : issue.message}`);
}

/**
 * One path segment, decoded. A `%` that starts no escape (`100%`, which Durable Functions' own client
 * sends raw for an instance id holding it) stays as it is, as ASP.NET's UrlDecode leaves it for Durable
 * Functions; escapes that are not UTF-8 throw (a URIError).
 */
function decodeSegment(part: string): string {
  if (!part.includes("%")) return part;
  return part.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => decodeURIComponent(run));
}

/** The request's path below the prefix, as decoded segments (undefined when an escape is not UTF-8). */
function requestSegments(path: string): string[] | undefined {
  const rest = path.slice(DURABLE_HTTP_PREFIX.length).replace(/\/+$/, "");
  if (rest === "") return [];
  try {
    return rest.slice(1).split("/").map(decodeSegment);
  } catch {
    return undefined;
  }
}

function matches(route: CompiledRoute, segments: readonly string[]): Record<string, string> | undefined {
  if (route.segments.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const expected = route.segments[i]!;
    const actual = segments[i]!;
    if ("literal" in expected) {
      if (expected.literal !== actual.toLowerCase()) return undefined;
    } else {
      if (actual === "") return undefined;
      params[expected.param] = actual;
    }
  }
  return params;
}

/** A request's query, by the route's names (any case); unknown parameters are ignored, a repeated one counts once. */
function queryValues(route: CompiledRoute, query: string): Record<string, string> {
  const values: Record<string, string> = {};
  if (query === "") return values;
  for (const [key, value] of new URLSearchParams(query)) {
    const name = route.queryNames.get(key.toLowerCase());
    if (name !== undefined && !(name in values)) values[name] = value;
  }
  return values;
}

/** Builds the API's handler over its routes. */
export function createRouter(routes: readonly RouteSpec[], services: DurableHttpServices): DurableHttpHandler {
  const compiled = routes.map(compile);
  return async (request, principal) => {
    const segments = requestSegments(request.path);
    if (segments === undefined) return errorResponse(400, ErrorCode.bad_request, `the path ${echo(request.path)} has a malformed percent-encoding`);
    const method = request.method === "HEAD" ? "GET" : request.method;
    let route: CompiledRoute | undefined;
    let params: Record<string, string> | undefined;
    const allowed: string[] = [];
    for (const candidate of compiled) {
      const found = matches(candidate, segments);
      if (found === undefined) continue;
      if (candidate.spec.method !== method) {
        allowed.push(candidate.spec.method);
        continue;
      }
      route = candidate;
      params = found;
      break;
    }
    if (route === undefined || params === undefined) {
      if (allowed.length > 0) {
        return errorResponse(405, ErrorCode.bad_request, `${echo(request.method)} is not allowed on ${echo(request.path)} (it takes ${allowed.join(", ")})`, { allow: allowed.join(", ") });
      }
      return errorResponse(404, ErrorCode.not_found, `nothing at ${echo(request.path)}; the API is described at ${DURABLE_HTTP_PREFIX}/openapi.json`);
    }
    try {
      return await serve(route, params, request, principal, services);
    } catch (error) {
      if (error instanceof HttpProblem) return errorResponse(error.status, error.code, error.message, error.headers);
      // The answer names the request's id, so its line in the log can be found; the stack stays in the log.
      const requestId = newLogId();
      services.log.child({ requestId }).error("durable http request failed", { method: request.method, path: echo(request.path), error: errorMessage(error), stack: (error as Error | undefined)?.stack });
      return errorResponse(500, ErrorCode.internal, `internal error (details are in the server's log, requestId ${requestId})`);
    }
  };
}

async function serve(route: CompiledRoute, rawParams: Record<string, string>, request: HttpRequest, principal: Principal | undefined, services: DurableHttpServices): Promise<HttpResponse> {
  const query = route.query.safeParse(queryValues(route, request.query));
  if (!query.success) throw parameterProblem("query parameter", query.error);
  const params = route.params.safeParse(rawParams);
  if (!params.success) throw parameterProblem("path parameter", params.error);
  const hubName = query.data.taskHub as string | undefined;
  const contextIn = (hub: TaskHub | undefined): RouteContext => {
    let links: Links | undefined;
    return {
      request,
      params: params.data as RouteContext["params"],
      query: query.data as RouteContext["query"],
      hub: hub as TaskHub,
      // Built when a route answers with links (most requests, signals among them, never do).
      get links() {
        links ??= linksFor(request, hub?.name ?? "", { origin: services.options.origin(), scheme: services.options.scheme ?? "http" }, query.data as { connection?: string; code?: string });
        return links;
      },
      principal,
      services,
    };
  };
  if (route.spec.usesHub === false) return route.spec.handle(contextIn(undefined));
  const hubs = services.options.hubs;
  let hub = hubs.peek?.(hubName);
  if (hub === undefined) {
    if (route.spec.createsHub === true) {
      // A hub is created only for a request that passes its route's checks (names, access): checked in the server's own hub, which runs the same app.
      const home = hubs.peek?.();
      if (home !== undefined) route.spec.checkBeforeCreating?.(contextIn(home));
      hub = await openHub(services, hubName, true);
    } else {
      try {
        hub = await openHub(services, hubName, false);
      } catch (error) {
        const home = hubs.peek?.();
        if (error instanceof HttpProblem && error.code === ErrorCode.not_found && route.spec.whenHubMissing && home !== undefined) return route.spec.whenHubMissing(contextIn(home));
        throw error;
      }
    }
  }
  return route.spec.handle(contextIn(hub));
}

/** The hub a request names (or the server's own); a hub that cannot be had (or, without `create`, does not exist) is answered with its code. */
async function openHub(services: DurableHttpServices, name: string | undefined, create: boolean): Promise<TaskHub> {
  try {
    return await services.options.hubs.get(name, { create });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code in ErrorCode) {
      throw new HttpProblem(statusOfCode(code as ErrorCode), code as ErrorCode, errorMessage(error));
    }
    const requestId = newLogId();
    services.log.child({ requestId }).error("opening a task hub failed", { hub: name, error: errorMessage(error) });
    throw new HttpProblem(503, ErrorCode.hub_unavailable, `task hub "${name}" could not be opened (details are in the server's log, requestId ${requestId})`);
  }
}
