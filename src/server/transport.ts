import type { Principal } from "../security/index.js";

/**
 * The small interface both WebSocket servers (uWebSockets.js and ws) implement: a WebSocket endpoint
 * at /ws carrying text messages, and plain HTTP for everything else.
 */

/** One open WebSocket, as the connection logic sees it. */
export interface TransportSocket {
  /** Sends a text message (a string, or its UTF-8 bytes when one encoding is shared by many sockets). */
  send(message: string | Uint8Array): void;
  /** Closes with a close frame, after what is already queued. */
  close(code: number, reason: string): void;
  /** Drops the connection at once, freeing what it had queued (for one that does not read its close frame). */
  terminate(): void;
  /** Runs `send`s in `fn` as one write to the network (one system call for many messages). */
  cork(fn: () => void): void;
  /** Bytes queued for sending and not yet written to the network. */
  readonly bufferedAmount: number;
}

/** What happens on one connection; returned by `onConnection` when a socket opens. */
export interface SocketHandlers {
  onMessage(message: string): void;
  /** A binary message (the protocol is text only). */
  onBinaryMessage(): void;
  /** The outgoing buffer drained below the transport's threshold. */
  onDrain(): void;
  onClose(): void;
}

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse>;

/** A TLS certificate (chain) and its private key, as PEM files. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** An upgrade admitted (who made it, and the WebSocket protocol to answer with), or refused with an HTTP response. */
export type UpgradeDecision =
  | { readonly admitted: true; readonly principal: Principal | undefined; readonly protocol: string | undefined }
  | { readonly admitted: false; readonly response: HttpResponse };

export interface TransportOptions {
  readonly host: string;
  readonly port: number;
  /** Largest accepted message; a larger one closes its connection with 1009. */
  readonly maxMessageBytes: number;
  /** Decides a WebSocket upgrade before the socket exists (the request's body is empty). */
  readonly onUpgrade: (request: HttpRequest) => Promise<UpgradeDecision>;
  /** A socket opened; `principal` is who the upgrade admitted. */
  readonly onConnection: (socket: TransportSocket, principal: Principal | undefined) => SocketHandlers;
  readonly onHttp: HttpHandler;
  /** Seconds between pings: a peer that answers nothing (no pong, no message) for two of them is dropped. */
  readonly heartbeatSeconds: number;
  /** Serve https and wss with this certificate and key (PEM files); plain http and ws without. */
  readonly tls?: TlsFiles;
}

export interface Transport {
  readonly name: "ws" | "uws";
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(options: TransportOptions): Promise<number>;
  /** WebSocket connections open now. */
  readonly connectionCount: number;
  /** Stops listening and closes every open connection with `code`. */
  close(code: number, reason: string): Promise<void>;
}

/** Bodies larger than this are refused by the HTTP side of both transports. */
export const MAX_HTTP_BODY_BYTES = 1024 * 1024;

export const WS_PATH = "/ws";
