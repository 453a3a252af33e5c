import { ErrorCode } from "../../protocol/index.js";
import type { HttpHandler, HttpResponse } from "./transport.js";

const JSON_TYPE = { "content-type": "application/json; charset=utf-8" };

/** A JSON response. */
export function json(status: number, body: unknown): HttpResponse {
  return { status, headers: JSON_TYPE, body: JSON.stringify(body) };
}

/** A route table: exact `METHOD /path` keys to handlers; anything else is a 404 with a JSON error. */
export function routeHttp(routes: Record<string, HttpHandler>): HttpHandler {
  return async (request) => {
    const method = request.method === "HEAD" ? "GET" : request.method;
    const route = routes[`${method} ${request.path}`];
    if (route) return route(request);
    const known = Object.keys(routes).some((key) => key.endsWith(` ${request.path}`));
    if (known) return json(405, { code: "bad_request", message: `${request.method} is not allowed on ${request.path}` });
    return json(404, { code: ErrorCode.not_found, message: `nothing at ${request.path}; the WebSocket endpoint is /ws` });
  };
}
