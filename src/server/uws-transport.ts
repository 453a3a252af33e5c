import { STATUS_CODES } from "node:http";
import type * as Uws from "uWebSockets.js";
import { CloseCode } from "../../protocol/index.js";
import { bodyTooLarge } from "./http-routes.js";
import type { Principal } from "../security/index.js";
import { UwsShutdown } from "./uws-shutdown.js";
import { MAX_HTTP_BODY_BYTES, WS_PATH, type HttpRequest, type HttpResponse, type Transport, type TransportOptions, type SocketHandlers, type TransportSocket, type UpgradeDecision } from "./transport.js";

type UwsModule = typeof Uws;
/** uWebSockets.js 20.30's app has `close()` (every socket it holds: listen, HTTP, WebSocket), which its typings lack. */
type UwsApp = Uws.TemplatedApp & { close?(): void };
type SocketData = { principal?: Principal; handlers?: SocketHandlers; closed?: boolean };

/** uWebSockets.js's LIBUS_LISTEN_EXCLUSIVE_PORT (its typings lack the host + options form of `listen`). */
const LISTEN_EXCLUSIVE_PORT = 1;
/** What uWebSockets.js's `send` returns when the message was written out at once. */
const SENT = 1;

/** Most bytes uWebSockets.js may queue for one socket; past it the socket is closed rather than a message dropped. */
const MAX_BACKPRESSURE_BYTES = 256 * 1024 * 1024;
const OVERSIZE_GRACE_BYTES = 64 * 1024 * 1024;
const STATUS_TEXT: Record<number, string> = {
  200: "200 OK",
  202: "202 Accepted",
  204: "204 No Content",
  400: "400 Bad Request",
  401: "401 Unauthorized",
  403: "403 Forbidden",
  404: "404 Not Found",
  405: "405 Method Not Allowed",
  409: "409 Conflict",
  410: "410 Gone",
  413: "413 Payload Too Large",
  414: "414 URI Too Long",
  415: "415 Unsupported Media Type",
  426: "426 Upgrade Required",
  500: "500 Internal Server Error",
  503: "503 Service Unavailable",
};
const decoder = new TextDecoder();

/**
 * Loads uWebSockets.js; undefined when its native binary does not load on this platform. Where it has no
 * binary (this package ships them for Node 16, 18 and 20 only) the package quietly substitutes a JavaScript
 * stand-in built on `ws`, which this transport cannot run on (its listen callback lacks the port, and its
 * errors are thrown from event handlers): that counts as not loading, so the `ws` transport is used.
 */
export async function loadUws(): Promise<UwsModule | undefined> {
  try {
    const module = (await import("uWebSockets.js")) as UwsModule & { default?: UwsModule };
    const uws = module.default ?? module;
    return typeof uws.App === "function" && isNative(uws.App) ? uws : undefined;
  } catch {
    return undefined;
  }
}

function isNative(fn: (...args: never[]) => unknown): boolean {
  return Function.prototype.toString.call(fn).includes("[native code]");
}

/** uWebSockets.js: the fast transport, used by default where it loads. */
export class UwsTransport implements Transport {
  readonly name = "uws";
  private app: UwsApp | undefined;
  private listenSocket: Uws.us_listen_socket | undefined;
  private readonly sockets = new Set<Uws.WebSocket<SocketData>>();
  /** Once closing: upgrades decided since (an authenticate hook answering late) and new requests are refused. */
  private readonly shutdown = new UwsShutdown();

  constructor(private readonly uws: UwsModule) {}

  async listen(options: TransportOptions): Promise<number> {
    const app: UwsApp = options.tls ? this.uws.SSLApp({ cert_file_name: options.tls.certFile, key_file_name: options.tls.keyFile }) : this.uws.App();
    this.app = app;
    app.ws<SocketData>(WS_PATH, {
      // uWebSockets.js drops an oversized message's connection without a close frame (1006), so it gets a
      // larger limit and this transport closes messages over the real one with 1009 itself.
      maxPayloadLength: Math.max(4 * options.maxMessageBytes, OVERSIZE_GRACE_BYTES),
      maxBackpressure: MAX_BACKPRESSURE_BYTES,
      closeOnBackpressureLimit: 1,
      // Pings go out automatically before the timeout; a peer silent for the whole of it (two heartbeats) is dropped.
      idleTimeout: uwsIdleTimeout(options.heartbeatSeconds),
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        // The request is only readable now; the decision may come later (an app's authenticate hook is async).
        const key = req.getHeader("sec-websocket-key");
        const extensions = req.getHeader("sec-websocket-extensions");
        const request = readRequest(req);
        const settled = this.shutdown.begin();
        let aborted = false;
        res.onAborted(() => {
          aborted = true;
          settled();
        });
        const decide = (decision: UpgradeDecision) => {
          if (aborted) return;
          if (decision.admitted && this.shutdown.isClosing) decision = { admitted: false, response: SHUTTING_DOWN };
          res.cork(() => {
            if (decision.admitted) res.upgrade<SocketData>({ principal: decision.principal }, key, decision.protocol ?? "", extensions, context);
            else writeResponse(res, "GET", { ...decision.response, headers: { ...decision.response.headers, connection: "close" } });
          });
          settled();
        };
        if (this.shutdown.isClosing) decide({ admitted: false, response: SHUTTING_DOWN });
        else options.onUpgrade(request).then(decide, () => decide({ admitted: false, response: INTERNAL_ERROR }));
      },
      open: (ws) => {
        this.sockets.add(ws);
        const data = ws.getUserData();
        data.handlers = options.onConnection(new UwsSocket(ws, data), data.principal);
      },
      // uWebSockets.js checks that a text message is UTF-8 before this is called; on invalid UTF-8 it drops the TCP
      // connection itself, without a close frame (the client sees 1006, `close` below gets 1006 "Received invalid
      // UTF-8"), where `ws` closes with 1007. Every uWebSockets version to date does so (WebSocketContext.h, forceClose on
      // ERR_INVALID_TEXT) and none lets the application see the frame first, so text here is always valid UTF-8.
      message: (ws, message, isBinary) => {
        const handlers = ws.getUserData().handlers!;
        if (message.byteLength > options.maxMessageBytes) ws.end(CloseCode.messageTooBig, "message too big");
        else if (isBinary) handlers.onBinaryMessage();
        else handlers.onMessage(decoder.decode(message));
      },
      drain: (ws) => ws.getUserData().handlers?.onDrain(),
      close: (ws) => {
        this.sockets.delete(ws);
        const data = ws.getUserData();
        data.closed = true;
        data.handlers?.onClose();
      },
    });
    // Only requests uWebSockets.js's parser accepts reach this: "METHOD /path HTTP/1.1" with at least one header
    // line and a Host header. Its parser (this build, from before uWebSockets v20.44) takes any other request line
    // (absolute-form "GET http://host/path", "OPTIONS *", HTTP/1.0, HTTP/0.9, garbage) for an unfinished request:
    // no reply, the connection closed by its fixed 10 s HTTP idle timeout (about 12 s measured), or at once
    // without a reply once 4 KiB of unparsable bytes are buffered (or a parsed request lacks Host). It offers no
    // hook to answer them, nor a way to shorten that timeout. test/integration/http-edge-cases.test.ts pins this.
    app.any("/*", (res, req) => serveHttp(res, req, options, this.shutdown));
    return new Promise<number>((resolve, reject) => {
      // Exclusive: without it uWebSockets.js sets SO_REUSEPORT, and a second server on the port would share its connections.
      const listen = app.listen as unknown as (host: string, port: number, options: number, cb: (token: Uws.us_listen_socket | false) => void) => void;
      listen.call(app, options.host, options.port, LISTEN_EXCLUSIVE_PORT, (token) => {
        if (!token) return reject(new Error(`could not listen on ${options.host}:${options.port} (is the port in use, or the host not an address of this machine?)`));
        this.listenSocket = token;
        resolve(this.uws.us_socket_local_port(token as unknown as Uws.us_socket));
      });
    });
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  async close(code: number, reason: string): Promise<void> {
    if (this.listenSocket) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    for (const ws of [...this.sockets]) ws.end(code, reason);
    // The keep-alive HTTP connections: left open, they would go on reaching this closed server.
    const app = this.app;
    this.app = undefined;
    this.shutdown.close(() => app?.close?.());
  }
}

/** uWebSockets.js counts idle time in steps of 4 seconds, from 8 (0 would turn it off). */
function uwsIdleTimeout(heartbeatSeconds: number): number {
  return Math.max(8, Math.round((2 * heartbeatSeconds) / 4) * 4);
}

/**
 * One uWebSockets.js socket as the connection logic sees it. A class, so that the live-state fan-out
 * reads the same hidden class on every socket.
 */
class UwsSocket implements TransportSocket {
  /** A send was queued rather than written out at once; until then nothing is buffered. */
  private backpressured = false;

  constructor(
    private readonly ws: Uws.WebSocket<SocketData>,
    private readonly data: SocketData,
  ) {}

  send(message: string | Uint8Array): void {
    if (!this.data.closed && this.ws.send(message, false) !== SENT) this.backpressured = true;
  }

  close(code: number, reason: string): void {
    if (!this.data.closed) this.ws.end(code, reason);
  }

  cork(fn: () => void): void {
    if (this.data.closed) fn();
    else this.ws.cork(fn);
  }

  /** uWebSockets.js's `close()`: no close frame, and its `close` handler runs before this returns. */
  terminate(): void {
    if (!this.data.closed) this.ws.close();
  }

  get bufferedAmount(): number {
    if (this.data.closed || !this.backpressured) return 0;
    const amount = this.ws.getBufferedAmount();
    if (amount === 0) this.backpressured = false;
    return amount;
  }
}

const SHUTTING_DOWN: HttpResponse = { status: 503, headers: { "content-type": "application/json" }, body: JSON.stringify({ code: "shutting_down", message: "the server is shutting down" }) };
const INTERNAL_ERROR: HttpResponse = { status: 500, headers: { "content-type": "application/json" }, body: JSON.stringify({ code: "internal", message: "internal error" }) };

/** What a request says, read while uWebSockets.js lets it be read (in its handler, before any await). */
function readRequest(req: Uws.HttpRequest): HttpRequest {
  const headers: Record<string, string> = {};
  req.forEach((key, value) => {
    headers[key] = value;
  });
  return { method: req.getMethod().toUpperCase(), path: req.getUrl(), query: req.getQuery() ?? "", headers, body: EMPTY_BODY };
}
const EMPTY_BODY = Buffer.alloc(0);

function writeResponse(res: Uws.HttpResponse, method: string, response: HttpResponse): void {
  res.writeStatus(STATUS_TEXT[response.status] ?? `${response.status} ${STATUS_CODES[response.status] ?? "Unknown"}`);
  for (const [name, value] of Object.entries(response.headers ?? {})) res.writeHeader(name, value);
  if (method === "HEAD") res.end(); // headers only (endWithoutBody leaves this uWS build expecting the body)
  else res.end(response.body);
}

function serveHttp(res: Uws.HttpResponse, req: Uws.HttpRequest, options: TransportOptions, shutdown: UwsShutdown): void {
  const settled = shutdown.begin();
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
    settled();
  });
  const { method, path, query, headers } = readRequest(req);
  const chunks: Buffer[] = [];
  let size = 0;
  const respond = (response: HttpResponse) => {
    if (aborted) return;
    res.cork(() => writeResponse(res, method, response));
    settled();
  };
  if (shutdown.isClosing) {
    // A keep-alive connection still open while the app closes: the server behind it takes no more work.
    respond({ ...SHUTTING_DOWN, headers: { ...SHUTTING_DOWN.headers, connection: "close" } });
    return;
  }
  const handle = () => options.onHttp({ method, path, query, headers, body: Buffer.concat(chunks) }).then(respond, () => respond(INTERNAL_ERROR));
  if (method === "GET" || method === "HEAD" || (!headers["content-length"] && !headers["transfer-encoding"])) {
    handle();
    return;
  }
  res.onData((chunk, isLast) => {
    size += chunk.byteLength;
    if (size > MAX_HTTP_BODY_BYTES) {
      if (size - chunk.byteLength <= MAX_HTTP_BODY_BYTES) {
        respond(bodyTooLarge(path, MAX_HTTP_BODY_BYTES));
      }
      return;
    }
    chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast) handle();
  });
}
