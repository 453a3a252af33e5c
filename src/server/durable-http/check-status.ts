import type { HttpRequest, HttpResponse } from "../transport.js";
import { checkStatusResponse, DURABLE_HTTP_PREFIX, linkQuery, managementPayload, requestOrigin } from "./links.js";
import type { CheckStatusPayload } from "./schemas.js";

export interface CheckStatusOptions {
  /**
   * The durable-entities server's address (`http://127.0.0.1:7071`) when the request reached another
   * server (your app's own HTTP server); default: the origin the request was sent to.
   */
  readonly baseUrl?: string;
  /** The task hub the instance lives in; default: the request's `taskHub` query parameter, else none (the server's own hub). */
  readonly taskHub?: string;
}

/** A WHATWG `Request` (what `fetch`-style servers, Hono, Next.js route handlers and Node's `Request` give you). */
type FetchRequest = Pick<Request, "url" | "headers">;

/**
 * The answer Durable Functions' `createCheckStatusResponse` gives: `202 Accepted`, `Location` = the
 * instance's status link, `Retry-After: 10`, and a JSON body of the links that manage the instance
 * (`{ id, statusQueryGetUri, sendEventPostUri, terminatePostUri, purgeHistoryDeleteUri,
 * restartPostUri, suspendPostUri, resumePostUri }`), pointing at this server's HTTP API.
 *
 * Give it the request your route is answering: a WHATWG `Request` (you get a `Response` back) or the
 * server's own `HttpRequest` of a route in `ServerOptions.httpRoutes` (you get an `HttpResponse`).
 *
 * ```ts
 * app.post("/orders", async (c) => {
 *   const id = await client.start("PlaceOrder", await c.req.json());
 *   return createCheckStatusResponse(c.req.raw, id, { baseUrl: "http://127.0.0.1:7071" });
 * });
 * ```
 */
export function createCheckStatusResponse(request: FetchRequest, instanceId: string, options?: CheckStatusOptions): Response;
export function createCheckStatusResponse(request: HttpRequest, instanceId: string, options?: CheckStatusOptions): HttpResponse;
export function createCheckStatusResponse(request: FetchRequest | HttpRequest, instanceId: string, options: CheckStatusOptions = {}): Response | HttpResponse {
  const payload = checkStatusPayload(request, instanceId, options);
  const response = checkStatusResponse(payload);
  if (!isFetchRequest(request)) return response;
  return new Response(JSON.stringify(payload), { status: response.status, headers: response.headers });
}

/** The links alone (Durable Functions' `createHttpManagementPayload`). */
export function checkStatusPayload(request: FetchRequest | HttpRequest, instanceId: string, options: CheckStatusOptions = {}): CheckStatusPayload {
  let origin: string;
  let query: URLSearchParams;
  if (isFetchRequest(request)) {
    const url = new URL(request.url);
    origin = url.origin;
    query = url.searchParams;
  } else {
    origin = requestOrigin(request.headers, "http://localhost");
    query = new URLSearchParams(request.query);
  }
  const base = (options.baseUrl === undefined ? origin : options.baseUrl.replace(/\/+$/, "")) + DURABLE_HTTP_PREFIX;
  const taskHub = options.taskHub ?? query.get("taskHub") ?? undefined;
  return managementPayload(base, linkQuery(taskHub, query.get("connection") ?? undefined, query.get("code") ?? undefined), instanceId);
}

function isFetchRequest(request: FetchRequest | HttpRequest): request is FetchRequest {
  return typeof (request as FetchRequest).url === "string" && !("path" in request);
}
