/** Every error code that crosses the wire. Codes are snake_case and stable; messages are for people. */
export const ErrorCode = {
  /** The frame is not JSON, has the wrong shape, or an unknown type. */
  bad_request: "bad_request",
  /** The entity id names an entity type the server does not host. */
  unknown_entity: "unknown_entity",
  /** The entity type has no operation of that name. */
  unknown_operation: "unknown_operation",
  /** The operation ran and threw; its state changes were rolled back. */
  operation_failed: "operation_failed",
  /** The frame is larger than the server accepts. */
  payload_too_large: "payload_too_large",
  /** The client speaks a protocol version this server does not. */
  unsupported_version: "unsupported_version",
  /** The first frame on a connection must be `hello`. */
  handshake_required: "handshake_required",
  /** The connection closed (or could not be re-established in time) before an answer came. */
  disconnected: "disconnected",
  /** The client's queue of requests waiting for a connection is full. */
  queue_full: "queue_full",
  /** The connection has too many requests waiting for answers; wait for some before sending more. */
  overloaded: "overloaded",
  /** The server is shutting down and takes no new work. */
  shutting_down: "shutting_down",
  /** The subscriber could not keep up and was disconnected. */
  slow_consumer: "slow_consumer",
  /** Nothing has that id (an orchestration instance), or, over HTTP, nothing is served at that path. */
  not_found: "not_found",
  /** An orchestration with that instance id is still running (a finished one's id may be reused). */
  instance_exists: "instance_exists",
  /** The orchestration instance has finished (completed, failed or terminated): it takes no more events. */
  instance_finished: "instance_finished",
  /** The orchestration instance's state does not allow the request (a rewind of an instance that has not failed, or cannot be rewound). */
  invalid_state: "invalid_state",
  /** The app defines no orchestration of that name. */
  unknown_orchestration: "unknown_orchestration",
  /** Replaying an orchestration's history, its code asked for something else than the history holds. */
  non_determinism: "non_determinism",
  /** An orchestration passed a guard rail (history length, pending tasks, sub-orchestration depth). */
  limit_exceeded: "limit_exceeded",
  /** Client only: what it waited for (an orchestration's completion) did not happen within the time it was given. */
  timeout: "timeout",
  /** The task hub cannot be served here: another server on the same data directory serves it, or this server has as many hubs open as it allows. */
  hub_unavailable: "hub_unavailable",
  /** The entity's stored record cannot be read (damaged, or not this server's); it is quarantined, the others keep serving. */
  entity_unavailable: "entity_unavailable",
  /** The operation would leave a state larger than an entity may hold; its changes were rolled back. */
  state_too_large: "state_too_large",
  /** The connection sent more requests a second than the server allows; `details.retryAfterMs` says when to send again. */
  rate_limited: "rate_limited",
  /** The request carries no token, or one the server does not know (HTTP 401; a WebSocket upgrade is refused). */
  unauthorized: "unauthorized",
  /** The token is known but does not allow this action on this target (HTTP 403); the connection stays open. */
  forbidden: "forbidden",
  /** The server could not write to its store (a full disk, a store map that cannot grow): nothing of the request was applied; reads keep working; retry later. */
  store_unavailable: "store_unavailable",
  /** Something failed inside the server; details are in its log, not on the wire. */
  internal: "internal",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_CODES = Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]];
