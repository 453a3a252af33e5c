import type * as Uws from "uWebSockets.js";
import { CloseCode } from "../../protocol/index.js";
import { MAX_HTTP_BODY_BYTES, WS_PATH, type HttpResponse, type Transport, type TransportOptions, type SocketHandlers, type TransportSocket } from "./transport.js";

type UwsModule = typeof Uws;
type SocketData = { handlers?: SocketHandlers; closed?: boolean };

/** uWebSockets.js's LIBUS_LISTEN_EXCLUSIVE_PORT (its typings lack the host + options form of `listen`). */
const LISTEN_EXCLUSIVE_PORT = 1;
/** What uWebSockets.js's `send` returns when the message was written out at once. */
const SENT = 1;

/** Most bytes uWebSockets.js may queue for one socket; past it the socket is closed rather than a message dropped. */
const MAX_BACKPRESSURE_BYTES = 256 * 1024 * 1024;
const OVERSIZE_GRACE_BYTES = 64 * 1024 * 1024;
const STATUS_TEXT: Record<number, string> = { 200: "200 OK", 204: "204 No Content", 400: "400 Bad Request", 404: "404 Not Found", 405: "405 Method Not Allowed", 413: "413 Payload Too Large", 500: "500 Internal Server Error" };
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
  private listenSocket: Uws.us_listen_socket | undefined;
  private readonly sockets = new Set<Uws.WebSocket<SocketData>>();

  constructor(private readonly uws: UwsModule) {}

  async listen(options: TransportOptions): Promise<number> {
    const app = this.uws.App();
    app.ws<SocketData>(WS_PATH, {
      // uWebSockets.js drops an oversized message's connection without a close frame (1006), so it gets a
      // larger limit and this transport closes messages over the real one with 1009 itself.
      maxPayloadLength: Math.max(4 * options.maxMessageBytes, OVERSIZE_GRACE_BYTES),
      maxBackpressure: MAX_BACKPRESSURE_BYTES,
      closeOnBackpressureLimit: 1,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        res.upgrade<SocketData>({}, req.getHeader("sec-websocket-key"), req.getHeader("sec-websocket-protocol"), req.getHeader("sec-websocket-extensions"), context);
      },
      open: (ws) => {
        this.sockets.add(ws);
        const data = ws.getUserData();
        data.handlers = options.onConnection(new UwsSocket(ws, data));
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
    app.any("/*", (res, req) => serveHttp(res, req, options));
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

  async close(code: number, reason: string): Promise<void> {
    if (this.listenSocket) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    for (const ws of [...this.sockets]) ws.end(code, reason);
  }
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

function serveHttp(res: Uws.HttpResponse, req: Uws.HttpRequest, options: TransportOptions): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const method = req.getMethod().toUpperCase();
  const path = req.getUrl();
  const query = req.getQuery() ?? "";
  const headers: Record<string, string> = {};
  req.forEach((key, value) => {
    headers[key] = value;
  });
  const chunks: Buffer[] = [];
  let size = 0;
  const respond = (response: HttpResponse) => {
    if (aborted) return;
    res.cork(() => {
      res.writeStatus(STATUS_TEXT[response.status] ?? String(response.status));
      for (const [name, value] of Object.entries(response.headers ?? {})) res.writeHeader(name, value);
      if (method === "HEAD") res.end(); // headers only (endWithoutBody leaves this uWS build expecting the body)
      else res.end(response.body);
    });
  };
  const handle = () =>
    options
      .onHttp({ method, path, query, headers, body: Buffer.concat(chunks) })
      .then(respond, () => respond({ status: 500, headers: { "content-type": "application/json" }, body: JSON.stringify({ code: "internal", message: "internal error" }) }));
  if (method === "GET" || method === "HEAD" || (!headers["content-length"] && !headers["transfer-encoding"])) {
    handle();
    return;
  }
  res.onData((chunk, isLast) => {
    size += chunk.byteLength;
    if (size > MAX_HTTP_BODY_BYTES) {
      if (size - chunk.byteLength <= MAX_HTTP_BODY_BYTES) {
        respond({ status: 413, headers: { "content-type": "application/json" }, body: JSON.stringify({ code: "payload_too_large", message: "body over 1 MiB" }) });
      }
      return;
    }
    chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast) handle();
  });
}
