/**
 * A minimal HTTP/1.1 keep-alive client for the bench's `raw` driver: one socket, one request at a
 * time, requests written as prepared bytes and answers parsed only as far as the status code and the
 * end of the body (Content-Length or chunked). It does almost no work per request, so the figures say
 * what the server takes rather than what an HTTP client library costs.
 */
import { connect, type Socket } from "node:net";

export interface RawAnswer {
  readonly status: number;
  readonly body: string;
}

export class RawHttpConnection {
  private buffer = "";
  private waiting: ((answer: RawAnswer) => void) | undefined;
  private failed: ((error: Error) => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly host: string,
  ) {
    socket.setNoDelay(true);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      this.parse();
    });
    const fail = (error: Error) => {
      const failed = this.failed;
      this.waiting = this.failed = undefined;
      failed?.(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("the server closed the connection")));
  }

  static open(url: string): Promise<RawHttpConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.off("error", reject);
        resolve(new RawHttpConnection(socket, `${hostname}:${port}`));
      });
      socket.once("error", reject);
    });
  }

  /** A request's bytes: method, path (with its query), a JSON body (or none). */
  request(method: string, path: string, body?: string): string {
    const head = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}\r\n`;
    if (body === undefined) return `${head}Content-Length: 0\r\n\r\n`;
    return `${head}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  }

  /** Sends prepared request bytes and resolves with the answer (one request at a time). */
  send(request: string): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
      this.socket.write(request, "latin1");
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private parse(): void {
    const headEnd = this.buffer.indexOf("\r\n\r\n");
    if (headEnd < 0) return;
    const head = this.buffer.slice(0, headEnd).toLowerCase();
    const status = Number(head.slice(9, 12));
    const bodyStart = headEnd + 4;
    let body: string;
    let end: number;
    const length = /\r\ncontent-length: *(\d+)/.exec(head);
    if (length) {
      end = bodyStart + Number(length[1]);
      if (this.buffer.length < end) return;
      body = this.buffer.slice(bodyStart, end);
    } else if (head.includes("transfer-encoding: chunked")) {
      const last = this.buffer.indexOf("0\r\n\r\n", bodyStart);
      if (last < 0) return;
      end = last + 5;
      body = dechunk(this.buffer.slice(bodyStart, last));
    } else {
      end = bodyStart;
      body = "";
    }
    this.buffer = this.buffer.slice(end);
    const waiting = this.waiting;
    this.waiting = this.failed = undefined;
    waiting?.({ status, body: Buffer.from(body, "latin1").toString("utf8") });
  }
}

function dechunk(chunks: string): string {
  let out = "";
  let at = 0;
  while (at < chunks.length) {
    const lineEnd = chunks.indexOf("\r\n", at);
    if (lineEnd < 0) break;
    const size = parseInt(chunks.slice(at, lineEnd), 16);
    if (!(size > 0)) break;
    out += chunks.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
  return out;
}
