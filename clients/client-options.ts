import type { EntityError } from "../protocol/entity-error.js";
import { canonicalTaskHubName, TASK_HUB_NAME_RULE } from "../protocol/task-hub-name.js";
import { DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
import { openWebSocket, type WebSocketFactory } from "./web-socket.js";

/** Options of `connect()`. */
export interface ClientOptions {
  /**
   * A name for this client. The server de-duplicates resent signals by client id and signal number;
   * each client instance adds a random suffix to the name (`name/uuid`), so a restarted process,
   * which numbers its signals from 1 again, is never taken for its previous run. Default: a random UUID.
   */
  readonly clientId?: string;
  /**
   * The task hub to work in: all state of one deployment (entities, instances) lives in its hub, and two
   * hubs can hold the same ids side by side. Letters and digits, starting with a letter, 3 to 45 of them;
   * case does not matter. Default: the server's own (its `--hub`, `default` unless set).
   */
  readonly hub?: string;
  /**
   * The token of a server that authenticates (`serve --auth FILE`). Under Node it is sent as
   * `Authorization: Bearer`; in browsers, which cannot set headers on a WebSocket, as a `bearer.<token>`
   * protocol value (or a `token` query parameter when it holds characters a protocol value cannot).
   */
  readonly token?: string;
  /** How long connect() keeps trying before it rejects with `disconnected` (default 10,000 ms). */
  readonly connectTimeoutMs?: number;
  /** How long after a drop pending requests wait for a new connection before they fail with `disconnected` (default 10,000 ms). */
  readonly disconnectTimeoutMs?: number;
  /** Most requests that may wait for a connection; beyond it requests fail with `queue_full` (default 10,000). */
  readonly maxQueuedRequests?: number;
  /** How long one attempt may take to get the server's `welcome` (default 5,000 ms). */
  readonly handshakeTimeoutMs?: number;
  /** Spacing of reconnection attempts (defaults: 100 ms, doubling, capped at 5,000 ms, 20% jitter). */
  readonly reconnect?: Partial<BackoffOptions>;
  /** Errors that belong to no request (a server error without id, a listener that threw, a failed attempt). */
  readonly onError?: (error: EntityError) => void;
  /** Called with true when a connection is established (after its `welcome`) and false when it drops. */
  readonly onConnectionChange?: (connected: boolean) => void;
  /** Opens WebSockets (default: `ws` under Node, the global WebSocket elsewhere). */
  readonly webSocket?: WebSocketFactory;
}

/** Longest `clientId` name (the client adds `/` and a 36-character UUID; the server takes up to 200). */
const MAX_CLIENT_NAME_LENGTH = 128;

/** ClientOptions with every default filled in. */
export interface ResolvedClientOptions {
  readonly clientId: string;
  readonly hub: string | undefined;
  readonly token: string | undefined;
  readonly connectTimeoutMs: number;
  readonly disconnectTimeoutMs: number;
  readonly maxQueuedRequests: number;
  readonly handshakeTimeoutMs: number;
  readonly backoff: BackoffOptions;
  readonly onError: (error: EntityError) => void;
  readonly onConnectionChange: (connected: boolean) => void;
  readonly openSocket: WebSocketFactory;
}

/** Fills in the defaults. */
export function resolveClientOptions(options: ClientOptions = {}): ResolvedClientOptions {
  if (options.clientId !== undefined && (options.clientId.length === 0 || options.clientId.length > MAX_CLIENT_NAME_LENGTH)) {
    throw new RangeError(`clientId must be 1 to ${MAX_CLIENT_NAME_LENGTH} characters, got ${options.clientId.length}`);
  }
  if (options.hub !== undefined && canonicalTaskHubName(options.hub) === undefined) {
    throw new RangeError(`hub must be ${TASK_HUB_NAME_RULE}, got ${JSON.stringify(options.hub)}`);
  }
  return {
    clientId: options.clientId === undefined ? globalThis.crypto.randomUUID() : `${options.clientId}/${globalThis.crypto.randomUUID()}`,
    hub: options.hub,
    token: options.token,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    disconnectTimeoutMs: options.disconnectTimeoutMs ?? 10_000,
    maxQueuedRequests: options.maxQueuedRequests ?? 10_000,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5_000,
    backoff: { ...DEFAULT_BACKOFF, ...options.reconnect },
    onError: options.onError ?? logError,
    onConnectionChange: options.onConnectionChange ?? (() => {}),
    openSocket: options.webSocket ?? openWebSocket,
  };
}

function logError(error: EntityError): void {
  console.warn("durable-entities client error", { code: error.code, message: error.message });
}
