/**
 * A minimal orchestration driver over a raw `ws` socket: hello, then `start`, `watch` and `unwatch`
 * frames in as few messages as the size limit allows, and the answers back as they come (`result`,
 * `instance`, `error`). No schema validation and no per-request promise: the least work on the load
 * side, so the figures are the server's (the orchestration counterpart of `raw-driver.ts`).
 */
import WebSocket from "ws";

/** The part of an instance's status the bench reads. */
export interface RawInstanceStatus {
  readonly runtimeStatus: string;
  readonly output?: unknown;
  readonly failureDetails?: { readonly errorType?: string; readonly message?: string };
}

/** What a connection reports; `at` is `performance.now()` when the message holding the frame arrived. */
export interface OrchestrationAnswers {
  /** An `instance` frame: the answer to a `watch` (with its id) or a committed change. */
  instance(instanceId: string, status: RawInstanceStatus | null, at: number): void;
  /** A `result` frame (a durable `start` answers `{ instanceId }`). */
  result(requestId: number, value: unknown, at: number): void;
  /** An `error` frame, with the request ids it answers (none: about the connection). */
  error(requestIds: readonly number[], message: string): void;
  /** The socket closed after the handshake. */
  closed(code: number): void;
}

/** Any request frame, without its id (the connection numbers them). */
export type RequestFrame = { readonly type: "start"; readonly name: string; readonly instanceId: string; readonly input?: unknown } | { readonly type: "watch" | "unwatch"; readonly instanceId: string };

type RawFrame = { type: string; id?: number; ids?: number[]; value?: unknown; code?: string; message?: string; instanceId?: string; status?: RawInstanceStatus | null; maxMessageBytes?: number };

/** One raw connection for orchestration requests. */
export class RawOrchestrationConnection {
  private nextId = 1;

  private constructor(
    private readonly socket: WebSocket,
    private readonly maxMessageBytes: number,
    answers: OrchestrationAnswers,
  ) {
    socket.on("message", (data: Buffer) => {
      const at = performance.now();
      const parsed = JSON.parse(data.toString("utf8")) as RawFrame | RawFrame[];
      for (const frame of Array.isArray(parsed) ? parsed : [parsed]) {
        if (frame.type === "instance") answers.instance(frame.instanceId!, frame.status ?? null, at);
        else if (frame.type === "result") answers.result(frame.id!, frame.value, at);
        else if (frame.type === "error") answers.error(frame.ids ?? (frame.id === undefined ? [] : [frame.id]), `${frame.code}: ${frame.message}`);
      }
    });
    socket.on("close", (code) => answers.closed(code));
  }

  /** Opens a socket to `url` (the server's http URL) and completes the handshake. */
  static open(url: string, clientId: string, answers: OrchestrationAnswers): Promise<RawOrchestrationConnection> {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      const onClose = (code: number) => reject(new Error(`socket closed during the handshake (${code})`));
      const onWelcome = (data: Buffer) => {
        const parsed = JSON.parse(data.toString("utf8")) as RawFrame | RawFrame[];
        const frames = Array.isArray(parsed) ? parsed : [parsed];
        const error = frames.find((frame) => frame.type === "error");
        if (error) return reject(new Error(`${error.code}: ${error.message}`));
        const welcome = frames.find((frame) => frame.type === "welcome");
        if (!welcome) return;
        socket.off("message", onWelcome);
        socket.off("close", onClose);
        socket.off("error", reject);
        resolve(new RawOrchestrationConnection(socket, welcome.maxMessageBytes ?? 1024 * 1024, answers));
      };
      socket.once("open", () => socket.send(JSON.stringify({ type: "hello", version: 1, clientId })));
      socket.on("error", reject);
      socket.on("close", onClose);
      socket.on("message", onWelcome);
    });
  }

  /**
   * Sends `frames` in order, numbered, as few messages as the size limit allows (each message at most
   * half of `welcome.maxMessageBytes`). Returns their request ids, in order.
   */
  send(frames: readonly RequestFrame[]): number[] {
    const ids: number[] = [];
    const limit = this.maxMessageBytes / 2;
    let parts: string[] = [];
    let bytes = 2;
    for (const frame of frames) {
      const id = this.nextId++;
      ids.push(id);
      const text = JSON.stringify({ ...frame, id });
      if (parts.length > 0 && bytes + text.length + 1 > limit) {
        this.socket.send(`[${parts.join(",")}]`);
        parts = [];
        bytes = 2;
      }
      parts.push(text);
      bytes += text.length + 1;
    }
    if (parts.length > 0) this.socket.send(`[${parts.join(",")}]`);
    return ids;
  }

  close(): void {
    this.socket.close(1000);
  }
}
