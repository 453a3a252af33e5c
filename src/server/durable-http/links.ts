import type { HttpRequest, HttpResponse } from "../transport.js";
import { JSON_HEADERS } from "./problems.js";
import type { CheckStatusPayload } from "./schemas.js";

/** Where Durable Functions' HTTP management API lives on this server. */
export const DURABLE_HTTP_PREFIX = "/runtime/webhooks/durabletask";

/** True for a path the HTTP API answers (everything below its prefix). */
export function isDurableHttpPath(path: string): boolean {
  return path.startsWith(DURABLE_HTTP_PREFIX) && (path.length === DURABLE_HTTP_PREFIX.length || path[DURABLE_HTTP_PREFIX.length] === "/");
}

/** A Host header worth echoing into links: a name, an IPv4 or a bracketed IPv6 address, and a port. */
const HOST = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,253})(?::\d{1,5})?$/;

/** How links to the API are built for one request. */
export interface Links {
  /** `http://host:port/runtime/webhooks/durabletask`. */
  readonly base: string;
  /** The query every link carries: `taskHub=…` (and `connection`, `code` when the request had them). */
  readonly suffix: string;
  /** This request's own URL (absolute). */
  readonly self: string;
}

/**
 * `scheme://host` a client reached: the Host header, with the server's scheme (`https` when it serves
 * TLS, or when X-Forwarded-Proto says a TLS proxy in front did), else `fallback`.
 */
export function requestOrigin(headers: Readonly<Record<string, string>>, fallback: string, scheme: "http" | "https" = "http"): string {
  const host = headers.host;
  if (host === undefined || !HOST.test(host)) return fallback;
  const forwarded = headers["x-forwarded-proto"]?.split(",", 1)[0]?.trim().toLowerCase();
  return `${scheme === "https" || forwarded === "https" ? "https" : "http"}://${host}`;
}

/** The query of links: the hub (when named) and the connection and code a client passed, in Durable Functions' order. */
export function linkQuery(hub: string | undefined, connection: string | undefined, code: string | undefined): string {
  const query = new URLSearchParams();
  if (hub !== undefined) query.set("taskHub", hub);
  if (connection !== undefined) query.set("connection", connection);
  if (code !== undefined) query.set("code", code);
  return query.toString();
}

export function linksFor(request: HttpRequest, hub: string, server: { origin: string; scheme: "http" | "https" }, query: { connection?: string | undefined; code?: string | undefined }): Links {
  const origin = requestOrigin(request.headers, server.origin, server.scheme);
  return {
    base: origin + DURABLE_HTTP_PREFIX,
    suffix: linkQuery(hub, query.connection, query.code),
    self: `${origin}${request.path}${withoutToken(request.query)}`,
  };
}

/** The links Durable Functions' createCheckStatusResponse gives for an instance (placeholders `{eventName}` and `{text}` left to fill in). */
export function managementPayload(base: string, suffix: string, instanceId: string): CheckStatusPayload {
  const instance = `${base}/instances/${encodeURIComponent(instanceId)}`;
  const rest = suffix === "" ? "" : `&${suffix}`;
  const only = suffix === "" ? "" : `?${suffix}`;
  return {
    id: instanceId,
    statusQueryGetUri: `${instance}${only}`,
    sendEventPostUri: `${instance}/raiseEvent/{eventName}${only}`,
    terminatePostUri: `${instance}/terminate?reason={text}${rest}`,
    purgeHistoryDeleteUri: `${instance}${only}`,
    restartPostUri: `${instance}/restart${only}`,
    suspendPostUri: `${instance}/suspend?reason={text}${rest}`,
    resumePostUri: `${instance}/resume?reason={text}${rest}`,
  };
}

/** The asynchronous HTTP pattern's answer: 202, `Location` = the status link, `Retry-After: 10`, the links as the body. */
export function checkStatusResponse(payload: CheckStatusPayload): HttpResponse {
  return { status: 202, headers: { ...JSON_HEADERS, location: payload.statusQueryGetUri, "retry-after": "10" }, body: JSON.stringify(payload) };
}

/** The query of a link (`?…`, or nothing), without a `token` parameter: links go into Location headers and logs. */
function withoutToken(query: string): string {
  if (query === "") return "";
  if (!/(^|&)token=/.test(query)) return `?${query}`;
  const kept = query.split("&").filter((part) => !part.startsWith("token=")).join("&");
  return kept === "" ? "" : `?${kept}`;
}
