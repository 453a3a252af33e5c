import { ErrorCode } from "../../protocol/index.js";
import { isDurableHttpPath } from "./durable-http/links.js";
import { WS_PATH, type HttpHandler, type HttpResponse } from "./transport.js";

const JSON_TYPE = { "content-type": "application/json; charset=utf-8" };

/** How much of a request's path (or method) an error message repeats; the rest is cut, so a huge URL gets a small reply. */
export const MAX_ECHOED_CHARS = 100;

/**
 * A JSON error for a request to `path`: `{ error, message }` below Durable Functions' HTTP API prefix
 * (the shape of its errors), `{ code, message }` elsewhere.
 */
export function errorFor(path: string, status: number, code: ErrorCode, message: string): HttpResponse {
  return json(status, isDurableHttpPath(path) ? { error: code, message } : { code, message });
}

/** The error for a request the transport refuses for its size (413). */
export function bodyTooLarge(path: string, limitBytes: number): HttpResponse {
  return errorFor(path, 413, ErrorCode.payload_too_large, `the body is over ${limitBytes} bytes`);
}

/** A JSON response. */
export function json(status: number, body: unknown): HttpResponse {
  return { status, headers: JSON_TYPE, body: JSON.stringify(body) };
}

/** `text` for an error message: whole when short, else its first {@link MAX_ECHOED_CHARS} characters, marked as cut. */
export function echo(text: string): string {
  if (text.length <= MAX_ECHOED_CHARS) return text;
  return `${text.slice(0, MAX_ECHOED_CHARS)}… (cut; ${text.length} characters)`;
}

/**
 * A route table: exact `METHOD /path` keys to handlers (HEAD is served by the GET route). A GET or HEAD that
 * matches no route goes to `fallback` (the static files), except for the WebSocket path; anything else is a
 * 404 with a JSON error.
 */
export function routeHttp(routes: Record<string, HttpHandler>, fallback?: HttpHandler): HttpHandler {
  return async (request) => {
    const method = request.method === "HEAD" ? "GET" : request.method;
    const route = routes[`${method} ${request.path}`];
    if (route) return route(request);
    const known = Object.keys(routes).some((key) => key.endsWith(` ${request.path}`));
    if (known) return json(405, { code: ErrorCode.bad_request, message: `${echo(request.method)} is not allowed on ${request.path}` });
    if (fallback && method === "GET" && request.path !== WS_PATH) return fallback(request);
    if (request.path === WS_PATH) return json(426, { code: ErrorCode.bad_request, message: `${WS_PATH} is the WebSocket endpoint: open a WebSocket to it (an HTTP request with Upgrade: websocket)` });
    return json(404, { code: ErrorCode.not_found, message: `nothing at ${echo(request.path)}; the WebSocket endpoint is ${WS_PATH}` });
  };
}
