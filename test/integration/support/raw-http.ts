import { connect } from "node:net";

/** What came back on one raw TCP connection. */
export interface RawExchange {
  /** Every byte the server sent, as latin1 text. */
  readonly reply: string;
  /** Whether the server closed the connection within the wait. */
  readonly closed: boolean;
}

/**
 * Sends `bytes` on a fresh TCP connection to 127.0.0.1:`port` and collects what the server sends until it
 * closes the connection, or `waitMs` passes (then the connection is dropped and `closed` is false).
 */
export function rawExchange(port: number, bytes: string | Buffer, waitMs: number): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ reply: Buffer.concat(chunks).toString("latin1"), closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("close", () => finish(true));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // A reset after the reply still counts as the server closing; a refused connection is a failure.
      if (error.code !== "ECONNRESET") {
        clearTimeout(timer);
        reject(error);
      }
    });
  });
}

/** One HTTP/1.1 response, parsed from raw text: status, lower-cased headers, and the body (chunked encoding undone). */
export function parseResponse(reply: string): { status: number; headers: Record<string, string>; body: string } {
  const end = reply.indexOf("\r\n\r\n");
  if (!reply.startsWith("HTTP/1.1 ") || end < 0) throw new Error(`not an HTTP/1.1 response: ${JSON.stringify(reply.slice(0, 200))}`);
  const [statusLine, ...lines] = reply.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = reply.slice(end + 4);
  if (headers["transfer-encoding"] === "chunked") body = unchunk(body);
  return { status: Number(statusLine!.split(" ")[1]), headers, body: Buffer.from(body, "latin1").toString("utf8") };
}

function unchunk(encoded: string): string {
  let body = "";
  for (let at = 0; ; ) {
    const lineEnd = encoded.indexOf("\r\n", at);
    const size = parseInt(encoded.slice(at, lineEnd), 16);
    if (!(size > 0)) return body;
    body += encoded.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}
