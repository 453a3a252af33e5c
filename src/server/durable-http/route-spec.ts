import type * as z from "zod";
import type { Principal } from "../../security/index.js";
import type { TaskHub } from "../task-hub.js";
import type { HttpRequest, HttpResponse } from "../transport.js";
import type { Links } from "./links.js";
import type { ComponentName } from "./schemas.js";
import type { DurableHttpServices } from "./services.js";

/** The body schema of a response: a named component, an array of one, or an inline zod schema. */
export type BodySpec = { readonly component: ComponentName } | { readonly arrayOf: ComponentName } | { readonly schema: z.ZodType };

export interface ResponseSpec {
  readonly description: string;
  readonly body?: BodySpec;
  /** Header names to their descriptions. */
  readonly headers?: Readonly<Record<string, string>>;
}

export type RouteMethod = "GET" | "POST" | "DELETE";

type ParamsShape = Record<string, z.ZodType>;
type QueryShape = Record<string, z.ZodType>;

/** What a route handler gets: the validated parameters, the task hub the request works in, and the means to answer. */
export interface RouteContext<P extends ParamsShape = ParamsShape, Q extends QueryShape = QueryShape> {
  readonly request: HttpRequest;
  readonly params: { readonly [K in keyof P]: z.output<P[K]> };
  readonly query: { readonly [K in keyof Q]: z.output<Q[K]> };
  readonly hub: TaskHub;
  readonly links: Links;
  readonly principal: Principal | undefined;
  readonly services: DurableHttpServices;
}

/** One route of the HTTP API: how it is matched, validated, documented and answered. */
export interface RouteSpec<P extends ParamsShape = ParamsShape, Q extends QueryShape = QueryShape> {
  readonly method: RouteMethod;
  /** Below the API's prefix, with `{name}` for each path parameter: `/instances/{instanceId}/raiseEvent/{eventName}`. */
  readonly path: string;
  readonly operationId: string;
  readonly tag: "orchestrators" | "instances" | "entities" | "meta";
  readonly summary: string;
  readonly description?: string;
  readonly params: P;
  /** Besides the common ones (taskHub, connection, code). */
  readonly query: Q;
  /** Request headers the route reads, to their descriptions. */
  readonly requestHeaders?: Readonly<Record<string, string>>;
  /** A JSON request body (always optional: an empty body is null). */
  readonly body?: { readonly description: string; readonly schema: z.ZodType };
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /** False for routes that need no task hub (the OpenAPI document). */
  readonly usesHub?: boolean;
  /**
   * True for the routes that may create the task hub they name (a start, a signal): the others never
   * create one, and answer {@link whenHubMissing} for a hub that does not exist yet.
   */
  readonly createsHub?: boolean;
  /**
   * The answer in a hub that does not exist yet, for routes that do not create it (default: its 404):
   * what the route answers when nothing exists, after its access check. Run with the server's own hub
   * as `hub`, for names only (every hub runs the same app).
   */
  whenHubMissing?(context: RouteContext<P, Q>): Promise<HttpResponse>;
  /**
   * For routes that create hubs: the checks of the request (names, access) to pass before a hub is
   * created for it, run with the server's own hub as `hub` (every hub runs the same app).
   */
  checkBeforeCreating?(context: RouteContext<P, Q>): void;
  handle(context: RouteContext<P, Q>): Promise<HttpResponse>;
}

/** A route, typed by its parameters (the table of routes holds them untyped). */
export function defineRoute<P extends ParamsShape, Q extends QueryShape>(spec: RouteSpec<P, Q>): RouteSpec {
  return spec as unknown as RouteSpec;
}
