export { connect } from "./connect.js";
export type { ClientOptions } from "./client-options.js";
export type { DurableClient, EntitySnapshot } from "./durable-client.js";
export type { EntityProxy, EntityCalls, EntitySignals, EntityStateOf, CallOf, SignalOf, UntypedOperations } from "./entity-proxy.js";
export type { Subscription, LiveStateListener, LiveStateInfo } from "./subscription.js";
export type { BackoffOptions } from "./backoff.js";
export type { WebSocketLike, WebSocketFactory } from "./web-socket.js";
export { EntityError, isEntityError, ErrorCode } from "../protocol/entity-error.js";
