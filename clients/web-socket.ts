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

/** Opens a WebSocket to a `ws:` or `wss:` URL (it need not be open yet when returned). */
export type WebSocketFactory = (url: string) => WebSocketLike | Promise<WebSocketLike>;

type NodeWebSocketClass = new (url: string, options: { perMessageDeflate: boolean }) => WebSocketLike;

let nodeWebSocket: Promise<NodeWebSocketClass> | undefined;

/**
 * Opens a WebSocket with the platform's implementation: the `ws` package under Node (imported
 * lazily, so a browser bundle never needs it), the global WebSocket elsewhere.
 */
export async function openWebSocket(url: string): Promise<WebSocketLike> {
  if (isNode()) {
    nodeWebSocket ??= import("ws").then((module) => module.default as unknown as NodeWebSocketClass);
    const WebSocketClass = await nodeWebSocket;
    return new WebSocketClass(url, { perMessageDeflate: false });
  }
  if (typeof globalThis.WebSocket !== "function") throw new Error("this runtime has no WebSocket; pass the webSocket option to connect()");
  return new globalThis.WebSocket(url) as unknown as WebSocketLike;
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
