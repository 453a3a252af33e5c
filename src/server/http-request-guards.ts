import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { ErrorCode } from "../../protocol/index.js";

/**
 * What the `ws` transport (Node's http server) answers to requests it will not serve, so that both kinds
 * end with a JSON `{ code, message }` error and a closed connection:
 * - requests Node's parser rejects (garbage bytes, a bad version like HTTP/1.2, oversized headers), seen as `clientError`;
 * - requests Node parses but this server does not serve: HTTP/0.9 and HTTP/2+ request lines, request targets
 *   that are not a path (absolute-form `GET http://host/path`, asterisk-form `OPTIONS *`), and HTTP/1.1 without Host.
 *
 * uWebSockets.js's own parser never hands any of these to the application (see uws-transport.ts).
 */

/** The parts of a parsed request that decide whether it is served. */
export interface RequestHead {
  readonly url?: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly headers: { readonly host?: string | undefined };
}

/**
 * Why a parsed request is not served (the message of a 400), or undefined when it is. It includes Node's own
 * Host check (RFC 9112: an HTTP/1.1 request without Host gets a 400), so that the server can be created with
 * `requireHostHeader: false` and this 400 has a JSON body too.
 */
export function requestProblem(request: RequestHead): string | undefined {
  if (request.httpVersionMajor !== 1) return "only HTTP/1.x requests are served";
  if (!request.url?.startsWith("/")) return "the request target must be a path starting with / (origin-form)";
  if (request.httpVersionMinor >= 1 && request.headers.host === undefined) return "an HTTP/1.1 request needs a Host header";
  return undefined;
}

/** A complete HTTP/1.1 error response that closes its connection, as raw bytes for a socket. */
function rawErrorResponse(status: number, reason: string, code: ErrorCode, message: string): string {
  const body = JSON.stringify({ code, message });
  return [
    `HTTP/1.1 ${status} ${reason}`,
    "Content-Type: application/json; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    "",
    body,
  ].join("\r\n");
}

/**
 * Node's `clientError` handler with JSON bodies: it answers like Node's default (431 for oversized headers, 413
 * for oversized chunk extensions, 408 for a request that timed out, 400 for anything else malformed) and closes
 * the connection. Nothing is
 * written when a response has already started on the connection or it can no longer be written to.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const started = ((socket as Partial<Socket>).bytesWritten ?? 0) > 0;
  if (error.code === "ECONNRESET" || !socket.writable || started) socket.destroy();
  else socket.end(clientErrorResponse(error), () => socket.destroy());
}

function clientErrorResponse(error: Error & { code?: string }): string {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return rawErrorResponse(431, "Request Header Fields Too Large", ErrorCode.bad_request, "request headers over the size limit");
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return rawErrorResponse(413, "Payload Too Large", ErrorCode.payload_too_large, "chunk extensions over the size limit");
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return rawErrorResponse(408, "Request Timeout", ErrorCode.bad_request, "the request did not arrive in time");
    default:
      return rawErrorResponse(400, "Bad Request", ErrorCode.bad_request, `malformed HTTP request${error.code ? ` (${error.code})` : ""}`);
  }
}
