/**
 * Durable Functions' HTTP management API, served below `/runtime/webhooks/durabletask` from the same
 * server and port as the WebSocket. Everything not exported here is private to this folder.
 */
export { durableHttpApi, DURABLE_HTTP_ROUTES } from "./durable-http-api.js";
export type { DurableHttpHandler } from "./router.js";
export type { AccessCheck, DurableHttpOptions, HubSource } from "./services.js";
export { DURABLE_HTTP_PREFIX, isDurableHttpPath } from "./links.js";
export { createCheckStatusResponse, checkStatusPayload, type CheckStatusOptions } from "./check-status.js";
export { openApiDocument } from "./openapi.js";
export { historyRows } from "./history-rows.js";
export * as durableHttpSchemas from "./schemas.js";
