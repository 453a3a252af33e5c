/**
 * Live-state's round-trip floor probe: the sequential caller's request/response over loopback, but
 * answered by a trivial echo peer (`echo-peer.ts`, another process) instead of our server. It runs in
 * the same measured window as the caller, so both share the machine's load; the caller's figures
 * minus these are what the server adds. Each request is the raw caller's `call` frame, sent on a `ws`
 * client, JSON-encoded and its echo parsed, one at a time, at most one every `periodMs` (so that the
 * probe's own CPU stays small).
 */
import WebSocket from "ws";
import { next, runWorker, send } from "./ipc.js";
import { sequentialCalls, type SequentialGo } from "./sequential-calls.js";

interface Config {
  /** The echo peer's ws:// URL. */
  readonly url: string;
  /** The entity named in the frames (the echo peer does not look). */
  readonly entity: string;
  readonly periodMs: number;
}

runWorker(async () => {
  const config = await next<Config>("config");
  const echo = await EchoRequester.open(config.url);
  const request = () => echo.request({ type: "call", entity: config.entity, op: "add", input: 1 });
  const first = await request();
  send({ type: "ready" });

  const go = await next<SequentialGo>("go");
  const result = await sequentialCalls(request, go, config.periodMs);
  send({ type: "done", ...result, calls: result.calls + 1, lastResult: result.calls > 0 ? result.lastResult : first });
  echo.close();
});

/** One `ws` connection to an echo peer; one request at a time, answered by its echo. */
class EchoRequester {
  private nextId = 1;
  private waiting: { id: number; resolve(id: number): void; reject(error: Error): void } | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data: Buffer) => this.receive(data));
    socket.on("close", (code) => this.fail(new Error(`echo socket closed (${code})`)));
    socket.on("error", (error) => this.fail(error));
  }

  static open(url: string): Promise<EchoRequester> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      socket.once("open", () => {
        socket.off("error", reject);
        resolve(new EchoRequester(socket));
      });
      socket.once("error", reject);
    });
  }

  /** Sends `frame` with the next id; resolves with that id when its echo arrives. */
  request(frame: object): Promise<number> {
    if (this.waiting) throw new Error("EchoRequester sends one request at a time");
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting = { id, resolve, reject };
      this.socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  close(): void {
    this.socket.close(1000);
  }

  private receive(data: Buffer): void {
    const { id } = JSON.parse(data.toString("utf8")) as { id?: number };
    const waiting = this.waiting;
    // Thrown from the socket's handler: the worker reports it as fatal.
    if (waiting === undefined || id !== waiting.id) throw new Error(`echo of request ${id}, expected ${waiting?.id ?? "none"}`);
    this.waiting = undefined;
    waiting.resolve(id);
  }

  private fail(error: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }
}
