import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import { ErrorCode } from "../../protocol/index.js";
import { answerClientError, requestProblem } from "./http-request-guards.js";
import { json } from "./http-routes.js";
import { MAX_HTTP_BODY_BYTES, WS_PATH, type HttpHandler, type Transport, type TransportOptions, type TransportSocket } from "./transport.js";

const DRAIN_POLL_MS = 50;
const CLOSE_GRACE_MS = 1000;

/** The `ws` package on Node's http server: the portable fallback. */
export class WsTransport implements Transport {
  readonly name = "ws";
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;

  async listen(options: TransportOptions): Promise<number> {
    // Its Host check is done by requestProblem, which answers in JSON.
    const server = createServer({ requireHostHeader: false }, (req, res) => void serveHttp(req, res, options.onHttp));
    // Malformed requests get a JSON 400 (431, 408) and a closed connection, like every other error of this server.
    server.on("clientError", answerClientError);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => resolve());
    }).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`could not listen on ${options.host}:${options.port} (${error.code ?? error.message})`);
    });
    // Attached once listening: ws re-emits the server's errors, and a failed listen must not become an unhandled 'error'.
    const wss = new WebSocketServer({ server, path: WS_PATH, maxPayload: options.maxMessageBytes, perMessageDeflate: false });
    wss.on("connection", (socket: WebSocket) => attach(socket, options));
    wss.on("error", () => {});
    this.server = server;
    this.wss = wss;
    const address = server.address();
    return typeof address === "object" && address ? address.port : options.port;
  }

  async close(code: number, reason: string): Promise<void> {
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

function attach(socket: WebSocket, options: TransportOptions): void {
  const wrapped = new WsSocket(socket);
  const handlers = options.onConnection(wrapped);
  wrapped.onDrain = () => handlers.onDrain();
  socket.on("message", (data, isBinary) => {
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
        res.writeHead(413, { "content-type": "application/json" }).end(JSON.stringify({ code: "payload_too_large", message: "body over 1 MiB" }));
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers[name] = value;
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
