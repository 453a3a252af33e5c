/** Default largest WebSocket message the server accepts (1 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Most frames one message (a JSON array of frames) may carry. */
export const MAX_FRAMES_PER_MESSAGE = 10_000;

/** WebSocket close codes the server uses. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  /** The server refuses what the connection asked for in its hello (a task hub it cannot serve). */
  policyViolation: 1008,
  messageTooBig: 1009,
  /** The server failed on something of its own while answering. */
  internalError: 1011,
  /** The connection did not drain its outgoing buffer (live-state slow consumer past the hard cap). */
  slowConsumer: 4008,
  /** The connection sent more unanswered requests than `welcome.maxInflightRequests` allows. */
  overloaded: 4009,
  /** The token that opened the connection was revoked (the server's tokens file was reloaded without it). */
  tokenRevoked: 4401,
  /** The token's grants changed and no longer allow some of the connection's subscriptions or watches. */
  grantsChanged: 4403,
} as const;
