import WebSocket from "ws";
import type { EntityError, WebSocketFactory, WebSocketLike } from "../../clients/index.js";

/** What the CLI's connection attempts ran into, to say why none succeeded. */
interface Attempt {
  /** The socket's error: its code (ECONNREFUSED, ENOTFOUND, …) and message. */
  error?: { code: string | undefined; message: string };
  /** The WebSocket opened (something speaks WebSocket at the URL). */
  opened: boolean;
  /** A problem the client reported (an unreadable frame, a refused handshake). */
  reported?: EntityError;
}

/**
 * Opens the CLI's WebSockets (with `ws`, as the client does under Node) and keeps what went wrong with the
 * last attempt, so that a failed `connect` can say which failure it was: nothing listening, a host that does
 * not resolve, or a server that is not a durable-entities server.
 */
export class ConnectionDiagnosis {
  private last: Attempt | undefined;

  /** The `webSocket` option of `connect`. */
  readonly openSocket: WebSocketFactory = (url, auth = {}) => {
    const attempt: Attempt = { opened: false };
    this.last = attempt;
    const socket = new WebSocket(url, { perMessageDeflate: false, ...(auth.token === undefined ? {} : { headers: { authorization: `Bearer ${auth.token}` } }) });
    socket.on("open", () => (attempt.opened = true));
    socket.on("error", (error: Error & { code?: string; errors?: Array<{ code?: string }> }) => {
      attempt.error = { code: error.code ?? error.errors?.[0]?.code, message: error.message };
    });
    return socket as unknown as WebSocketLike;
  };

  /** The `onError` option of `connect`: kept for the explanation, not printed. */
  readonly report = (error: EntityError): void => {
    if (this.last) this.last.reported = error;
  };

  /** Why no connection to `url` was made within `timeoutMs`, with what to do about it. */
  explain(url: string, timeoutMs: number): string {
    const { host, port } = address(url);
    const where = `${host}:${port}`;
    const attempt = this.last;
    const error = attempt?.error;
    const code = error?.code;
    if (code === "ECONNREFUSED") {
      return `nothing is listening at ${where} (connection refused); start a server with \`durable-entities serve\`, or point --url (or DURABLE_ENTITIES_URL) at a running one`;
    }
    if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_FAIL" || code === "EAI_NONAME") {
      return `the host "${host}" was not found (DNS lookup failed: ${code}); check the host name in --url (or DURABLE_ENTITIES_URL)`;
    }
    const status = /Unexpected server response: (\d+)/.exec(error?.message ?? "")?.[1];
    if (status !== undefined) {
      return `${where} is not a durable-entities server: it answered the WebSocket request for /ws with HTTP ${status}; check the port in --url (durable-entities serves /healthz and /ws)`;
    }
    if (attempt?.opened) {
      const why = attempt.reported ? ` (${attempt.reported.message})` : "";
      return `${where} accepted a WebSocket but did not answer the durable-entities handshake within ${timeoutMs} ms${why}; is it a durable-entities server?`;
    }
    if (error) return `could not connect to ${where}: ${error.message}${code && !error.message.includes(code) ? ` (${code})` : ""}`;
    return `no answer from ${where} within ${timeoutMs} ms; check that the host is reachable and the port is right`;
  }
}

function address(url: string): { host: string; port: string } {
  try {
    const parsed = new URL(url);
    const secure = parsed.protocol === "https:" || parsed.protocol === "wss:";
    return { host: parsed.hostname, port: parsed.port || (secure ? "443" : "80") };
  } catch {
    return { host: url, port: "?" };
  }
}
