/** The part of the WebSocket API the client uses; browsers' WebSocket and the `ws` package both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** How a socket authenticates: the token it carries, if any. */
export interface SocketAuth {
  readonly token?: string;
}

/** Opens a WebSocket to a `ws:` or `wss:` URL (it need not be open yet when returned), carrying `auth.token` when given. */
export type WebSocketFactory = (url: string, auth?: SocketAuth) => WebSocketLike | Promise<WebSocketLike>;

type NodeWebSocketClass = new (url: string, options: { perMessageDeflate: boolean; headers?: Record<string, string> }) => WebSocketLike;

/** The protocol the server answers with when a token rides as a protocol value. */
const PROTOCOL_NAME = "durable-entities";
/** Characters a WebSocket protocol value may hold (an HTTP token). */
const PROTOCOL_VALUE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

let nodeWebSocket: Promise<NodeWebSocketClass> | undefined;

/**
 * Opens a WebSocket with the platform's implementation: the `ws` package under Node (imported
 * lazily, so a browser bundle never needs it), the global WebSocket elsewhere.
 */
export async function openWebSocket(url: string, auth: SocketAuth = {}): Promise<WebSocketLike> {
  const { token } = auth;
  if (isNode()) {
    nodeWebSocket ??= import("ws").then((module) => module.default as unknown as NodeWebSocketClass);
    const WebSocketClass = await nodeWebSocket;
    return new WebSocketClass(url, { perMessageDeflate: false, ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }) });
  }
  if (typeof globalThis.WebSocket !== "function") throw new Error("this runtime has no WebSocket; pass the webSocket option to connect()");
  // Browsers cannot set headers on a WebSocket: the token rides as a protocol value, or (when it has
  // characters a protocol value cannot hold) as a query parameter.
  if (token === undefined) return new globalThis.WebSocket(url) as unknown as WebSocketLike;
  if (PROTOCOL_VALUE.test(token)) return new globalThis.WebSocket(url, [PROTOCOL_NAME, `bearer.${token}`]) as unknown as WebSocketLike;
  const withToken = new URL(url);
  withToken.searchParams.set("token", token);
  return new globalThis.WebSocket(withToken.toString()) as unknown as WebSocketLike;
}

/** The HTTP status of a refused upgrade, from a `ws` error event ("Unexpected server response: 401"); browsers tell nothing. */
export function refusedUpgradeStatus(event: unknown): number | undefined {
  const message = (event as { message?: unknown } | null)?.message;
  if (typeof message !== "string") return undefined;
  const match = /Unexpected server response: (\d{3})/.exec(message);
  return match ? Number(match[1]) : undefined;
}

function isNode(): boolean {
  return typeof process === "object" && process !== null && typeof process.versions?.node === "string";
}

const textDecoder = new TextDecoder();

/** The text of a message event's data (`ws` may hand over a Buffer, browsers an ArrayBuffer). */
export function messageText(data: unknown): string | undefined {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return textDecoder.decode(data);
  return undefined;
}

/**
 * The WebSocket URL of a server: `http(s)://host:port` becomes `ws(s)://host:port/ws`; a `ws(s)` URL
 * is kept, with `/ws` added when it has no path.
 */
export function toWebSocketUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`cannot connect to "${url}": it is not a URL (for example http://127.0.0.1:7071)`);
  }
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  else if (parsed.protocol === "https:") parsed.protocol = "wss:";
  else if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new TypeError(`cannot connect to ${url}: the URL must start with http://, https://, ws:// or wss://`);
  }
  if (parsed.pathname === "/" || parsed.pathname === "") parsed.pathname = "/ws";
  else if (!parsed.pathname.endsWith("/ws") && url.startsWith("http")) parsed.pathname = `${parsed.pathname.replace(/\/$/, "")}/ws`;
  return parsed.toString();
}
