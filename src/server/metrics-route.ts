import type { Registry } from "prom-client";
import { ErrorCode } from "../../protocol/index.js";
import type { AccessTarget, Action, Principal } from "../security/index.js";
import type { AccessGate } from "./access-gate.js";
import { json } from "./http-routes.js";
import type { HttpRequest, HttpResponse } from "./transport.js";

/** Where Prometheus scrapes the server. */
export const METRICS_PATH = "/metrics";

/**
 * What a scraper must be allowed: the metrics count operations of every entity type and executions of
 * every orchestration, so it must be allowed to read all entities and the status of all orchestrations
 * (tokens file grants `{ "entities": "*", "actions": ["read"] }` and `{ "orchestrations": "*", "actions":
 * ["status"] }`, or `*` actions on both).
 */
const SCRAPE_NEEDS: ReadonlyArray<readonly [Action, AccessTarget]> = [
  ["read", { kind: "all-entities" }],
  ["status", { kind: "orchestration", name: "*" }],
];

/**
 * `GET /metrics`: the registry in Prometheus' text format. Open without authentication (like every
 * route, on a server that binds loopback unless told otherwise); with it, only for a principal that
 * may see everything the metrics sum up.
 */
export function metricsRoute(registry: Registry, gate: AccessGate): (request: HttpRequest, principal: Principal | undefined) => Promise<HttpResponse> {
  return async (request, principal) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return json(405, { code: ErrorCode.bad_request, message: `${METRICS_PATH} takes GET (or HEAD)` });
    }
    for (const [action, target] of SCRAPE_NEEDS) {
      if (!gate.allows(principal, action, target)) {
        return json(403, { code: ErrorCode.forbidden, message: `${gate.forbidden(principal, action, target)}, which ${METRICS_PATH} needs (it counts every entity type and orchestration)` });
      }
    }
    return { status: 200, headers: { "content-type": registry.contentType, "cache-control": "no-store" }, body: await registry.metrics() };
  };
}
