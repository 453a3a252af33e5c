import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { readFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { WebSocketServer, type WebSocket } from "ws";
import { ErrorCode } from "../../protocol/index.js";
import { answerClientError, requestProblem } from "./http-request-guards.js";
import { bodyTooLarge, json } from "./http-routes.js";
import { PROTOCOL_NAME, type Principal } from "../security/index.js";
import { MAX_HTTP_BODY_BYTES, WS_PATH, type HttpHandler, type HttpResponse, type Transport, type TransportOptions, type TransportSocket, type UpgradeDecision } from "./transport.js";

const DRAIN_POLL_MS = 50;
const CLOSE_GRACE_MS = 1000;

/** The `ws` package on Node's http server: the portable fallback. */
export class WsTransport implements Transport {
  readonly name = "ws";
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  async listen(options: TransportOptions): Promise<number> {
    // Its Host check is done by requestProblem, which answers in JSON.
    const handler = (req: IncomingMessage, res: ServerResponse) => void serveHttp(req, res, options.onHttp);
    const server = options.tls
      ? createHttpsServer({ requireHostHeader: false, cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, handler)
      : createServer({ requireHostHeader: false }, handler);
    // Malformed requests get a JSON 400 (431, 408) and a closed connection, like every other error of this server.
    server.on("clientError", answerClientError);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => resolve());
    }).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`could not listen on ${options.host}:${options.port} (${error.code ?? error.message})`);
    });
    // Upgrades are decided here (authentication, origin) before ws answers them; a refused one gets its HTTP response.
    const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes, perMessageDeflate: false, handleProtocols: (offered) => (offered.has(PROTOCOL_NAME) ? PROTOCOL_NAME : false) });
    wss.on("error", () => {});
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => void upgrade(wss, req, socket, head, options));
    // Each interval: a socket that answered nothing since the last ping is dropped, the others pinged.
    this.heartbeat = setInterval(() => {
      for (const client of wss.clients) {
        if (!alive.has(client)) client.terminate();
        else {
          alive.delete(client);
          client.ping();
        }
      }
    }, options.heartbeatSeconds * 1000);
    this.heartbeat.unref();
    this.server = server;
    this.wss = wss;
    const address = server.address();
    return typeof address === "object" && address ? address.port : options.port;
  }

  get connectionCount(): number {
    return this.wss?.clients.size ?? 0;
  }

  async close(code: number, reason: string): Promise<void> {
    clearInterval(this.heartbeat);
    for (const client of this.wss?.clients ?? []) {
      client.close(code, reason);
      // A client that does not read never completes the closing handshake (ws would wait 30 s).
      setTimeout(() => client.terminate(), CLOSE_GRACE_MS).unref();
    }
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

async function upgrade(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer, options: TransportOptions): Promise<void> {
  socket.on("error", () => socket.destroy());
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  if (path !== WS_PATH) return refuseUpgrade(socket, json(404, { code: ErrorCode.not_found, message: `WebSocket upgrades are served at ${WS_PATH}` }));
  const broken = handshakeProblem(req);
  if (broken) return refuseUpgrade(socket, broken);
  let decision: UpgradeDecision;
  try {
    decision = await options.onUpgrade({ method: req.method ?? "GET", path, query: q < 0 ? "" : url.slice(q + 1), headers: stringHeaders(req), body: Buffer.alloc(0) });
  } catch {
    decision = { admitted: false, response: json(500, { code: ErrorCode.internal, message: "internal error" }) };
  }
  if (!decision.admitted) return refuseUpgrade(socket, decision.response);
  const { principal } = decision;
  wss.handleUpgrade(req, socket, head, (ws) => attach(ws, options, principal));
}

/** An HTTP token (RFC 9110), what each WebSocket protocol value must be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * What is wrong with a WebSocket handshake (RFC 6455, 4.2.1), answered in JSON like every other refusal
 * of this server (the `ws` library would answer these in plain text): undefined when it is well formed.
 */
function handshakeProblem(req: IncomingMessage): HttpResponse | undefined {
  const refuse = (message: string, status = 400, headers: Record<string, string> = {}) => {
    const response = json(status, { code: ErrorCode.bad_request, message });
    return { ...response, headers: { ...response.headers, ...headers } };
  };
  if (req.method !== "GET") return refuse(`a WebSocket upgrade is a GET, not ${String(req.method).slice(0, 20)}`);
  if (req.headers.upgrade?.toLowerCase() !== "websocket") return refuse("the Upgrade header must be websocket");
  const key = req.headers["sec-websocket-key"];
  if (typeof key !== "string" || !/^[+/0-9A-Za-z]{22}==$/.test(key.trim())) return refuse("Sec-WebSocket-Key must be 16 bytes in base64");
  const version = req.headers["sec-websocket-version"];
  if (version !== "13" && version !== "8") return refuse("this server speaks WebSocket version 13", 426, { "sec-websocket-version": "13, 8" });
  const protocols = req.headers["sec-websocket-protocol"];
  if (protocols !== undefined && !protocols.split(",").every((value) => TOKEN.test(value.trim()))) return refuse("Sec-WebSocket-Protocol must be a comma-separated list of tokens");
  return undefined;
}

/** Answers an upgrade that is not taken with an HTTP response, and closes the connection. */
function refuseUpgrade(socket: Duplex, response: HttpResponse): void {
  if (!socket.writable) return void socket.destroy();
  const body = typeof response.body === "string" ? Buffer.from(response.body) : response.body;
  const headers = Object.entries({ ...response.headers, "content-length": String(body.length), connection: "close" }).map(([name, value]) => `${name}: ${value}`);
  socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}\r\n${headers.join("\r\n")}\r\n\r\n`), body]));
}

function stringHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers[name] = value;
  return headers;
}

/** Sockets heard from (a pong or a message) since the last heartbeat. */
const alive = new WeakSet<WebSocket>();

function attach(socket: WebSocket, options: TransportOptions, principal: Principal | undefined): void {
  alive.add(socket);
  socket.on("pong", () => alive.add(socket));
  const wrapped = new WsSocket(socket);
  const handlers = options.onConnection(wrapped, principal);
  wrapped.onDrain = () => handlers.onDrain();
  socket.on("message", (data, isBinary) => {
    alive.add(socket);
    if (isBinary) handlers.onBinaryMessage();
    else handlers.onMessage(data.toString());
  });
  socket.on("close", () => {
    wrapped.stopDrainPoll();
    handlers.onClose();
  });
  socket.on("error", () => socket.terminate());
}

/** One `ws` socket as the connection logic sees it (a class: one hidden class for the live-state fan-out). */
class WsSocket implements TransportSocket {
  onDrain: () => void = () => {};
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(private readonly socket: WebSocket) {}

  send(message: string | Uint8Array): void {
    this.socket.send(message, { binary: false });
    // ws has no drain event of its own: poll while data is queued so the connection can learn it drained.
    if (this.drainTimer === undefined && this.socket.bufferedAmount > 0) {
      this.drainTimer = setInterval(() => {
        if (this.socket.bufferedAmount > 0) return;
        this.stopDrainPoll();
        this.onDrain();
      }, DRAIN_POLL_MS);
    }
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  terminate(): void {
    this.socket.terminate();
  }

  cork(fn: () => void): void {
    // ws writes each message to the net.Socket; corked, they leave in one writev when uncorked.
    const net = (this.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    net?.cork();
    try {
      fn();
    } finally {
      net?.uncork();
    }
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  stopDrainPoll(): void {
    if (this.drainTimer !== undefined) clearInterval(this.drainTimer);
    this.drainTimer = undefined;
  }
}

async function serveHttp(req: IncomingMessage, res: ServerResponse, onHttp: HttpHandler): Promise<void> {
  const problem = requestProblem(req);
  if (problem) {
    const refusal = json(400, { code: ErrorCode.bad_request, message: problem });
    res.writeHead(refusal.status, { ...refusal.headers, connection: "close" }).end(refusal.body);
    return;
  }
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_HTTP_BODY_BYTES) {
        const tooLarge = bodyTooLarge((req.url ?? "/").split("?", 1)[0]!, MAX_HTTP_BODY_BYTES);
        res.writeHead(tooLarge.status, tooLarge.headers).end(tooLarge.body);
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const headers = stringHeaders(req);
    const response = await onHttp({
      method: req.method ?? "GET",
      path: q < 0 ? url : url.slice(0, q),
      query: q < 0 ? "" : url.slice(q + 1),
      headers,
      body: Buffer.concat(chunks),
    });
    res.writeHead(response.status, response.headers).end(response.body);
  } catch {
    if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ code: "internal", message: "internal error" }));
  }
}
