/**
 * A minimal protocol caller over a raw `ws` socket: hello, then one `call` at a time, its `result`
 * (or `error`) back. The `raw` counterpart of the real client's `call` for load processes that make
 * sequential calls: no schema validation of answers, no request bookkeeping beyond the one call.
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";

type RawFrame = { type: string; id?: number; ids?: number[]; value?: unknown; code?: string; message?: string };

interface Waiting {
  readonly id: number;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** One connection that makes one call at a time (a second call before the first is answered throws). */
export class RawCaller {
  private nextId = 1;
  private waiting: Waiting | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data: Buffer) => this.receive(data));
    socket.on("close", (code) => this.fail(new Error(`socket closed (${code})`)));
  }

  /** Opens a socket to `url` (the server's http URL) and completes the handshake. */
  static open(url: string): Promise<RawCaller> {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      const onClose = (code: number) => reject(new Error(`socket closed during the handshake (${code})`));
      const onWelcome = (data: Buffer) => {
        const parsed = JSON.parse(data.toString("utf8")) as RawFrame | RawFrame[];
        const frames = Array.isArray(parsed) ? parsed : [parsed];
        const error = frames.find((frame) => frame.type === "error");
        if (error) return reject(new Error(`${error.code}: ${error.message}`));
        if (!frames.some((frame) => frame.type === "welcome")) return;
        socket.off("message", onWelcome);
        socket.off("close", onClose);
        socket.off("error", reject);
        resolve(new RawCaller(socket));
      };
      socket.once("open", () => socket.send(JSON.stringify({ type: "hello", version: 1, clientId: randomUUID() })));
      socket.on("error", reject);
      socket.on("close", onClose);
      socket.on("message", onWelcome);
    });
  }

  /** Calls `op` on `entity` and resolves with the value of its `result` (sent once the change is durable). */
  call(entity: string, op: string, input: unknown): Promise<unknown> {
    if (this.waiting) throw new Error("RawCaller makes one call at a time");
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting = { id, resolve, reject };
      this.socket.send(JSON.stringify({ type: "call", id, entity, op, input }));
    });
  }

  close(): void {
    this.socket.close(1000);
  }

  private receive(data: Buffer): void {
    const parsed = JSON.parse(data.toString("utf8")) as RawFrame | RawFrame[];
    for (const frame of Array.isArray(parsed) ? parsed : [parsed]) {
      const waiting = this.waiting;
      if (frame.type === "result" && waiting !== undefined && frame.id === waiting.id) {
        this.waiting = undefined;
        waiting.resolve(frame.value);
      } else if (frame.type === "error") {
        // An error names the requests it answers; one that names none is about the connection.
        const unnamed = frame.id === undefined && frame.ids === undefined;
        const answersCall = waiting !== undefined && (frame.id === waiting.id || frame.ids?.includes(waiting.id) === true);
        this.fail(new Error(`${frame.code}: ${frame.message}`), answersCall || unnamed);
      }
    }
  }

  private fail(error: Error, failCall = true): void {
    const waiting = this.waiting;
    if (!waiting || !failCall) return;
    this.waiting = undefined;
    waiting.reject(error);
  }
}
