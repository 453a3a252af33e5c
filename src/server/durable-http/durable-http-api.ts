import { packageVersion } from "../../cli/package-version.js";
import { entityRoutes } from "./entity-routes.js";
import { instanceRoutes } from "./instance-routes.js";
import { openApiDocument } from "./openapi.js";
import { orchestratorRoutes } from "./orchestrator-routes.js";
import { purgeRoutes } from "./purge-routes.js";
import { defineRoute, type RouteSpec } from "./route-spec.js";
import { createRouter, type DurableHttpHandler } from "./router.js";
import { JsonValue } from "./schemas.js";
import { DurableHttpServices, type DurableHttpOptions } from "./services.js";

let document: string | undefined;

const openApi = defineRoute({
  method: "GET",
  path: "/openapi.json",
  operationId: "openApiDocument",
  tag: "meta",
  summary: "This OpenAPI 3.1 document",
  params: {},
  query: {},
  usesHub: false,
  responses: { 200: { description: "The document.", body: { schema: JsonValue } } },
  async handle() {
    document ??= JSON.stringify(openApiDocument(DURABLE_HTTP_ROUTES, packageVersion()));
    return { status: 200, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-cache" }, body: document };
  },
});

/** Every route of the API (the OpenAPI document names each). */
export const DURABLE_HTTP_ROUTES: readonly RouteSpec[] = [...orchestratorRoutes, ...instanceRoutes, ...purgeRoutes, ...entityRoutes, openApi];

/**
 * Durable Functions' HTTP management API (`/runtime/webhooks/durabletask/…`) over the server's task
 * hubs: one handler for both transports' HTTP requests below the prefix.
 */
export function durableHttpApi(options: DurableHttpOptions): DurableHttpHandler {
  return createRouter(DURABLE_HTTP_ROUTES, new DurableHttpServices(options));
}
