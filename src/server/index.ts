export { startServer, type ClusterServerOptions, type RunningServer, type ServerOptions, type TransportName } from "./server.js";
export type { HttpHandler, HttpRequest, HttpResponse } from "./transport.js";
export { json } from "./http-routes.js";
export { createCheckStatusResponse, checkStatusPayload, DURABLE_HTTP_PREFIX, type CheckStatusOptions } from "./durable-http/index.js";
