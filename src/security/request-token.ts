/** The WebSocket subprotocol a client offers (and the server chooses) beside a token carried as a protocol. */
export const PROTOCOL_NAME = "durable-entities";
/** A token carried as a WebSocket protocol value: `bearer.<token>` (browsers cannot set headers on a WebSocket). */
export const TOKEN_PROTOCOL_PREFIX = "bearer.";

/**
 * The token a request carries: `Authorization: Bearer <token>`, else a `token` query parameter, else a
 * `bearer.<token>` value of `Sec-WebSocket-Protocol`.
 */
export function requestToken(headers: Readonly<Record<string, string>>, query: string): string | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const match = /^bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  if (query.includes("token=")) {
    const token = new URLSearchParams(query).get("token");
    if (token) return token;
  }
  for (const protocol of offeredProtocols(headers)) if (protocol.startsWith(TOKEN_PROTOCOL_PREFIX)) return protocol.slice(TOKEN_PROTOCOL_PREFIX.length);
  return undefined;
}

/** The values of `Sec-WebSocket-Protocol`. */
export function offeredProtocols(headers: Readonly<Record<string, string>>): string[] {
  const header = headers["sec-websocket-protocol"];
  return header === undefined ? [] : header.split(",").map((value) => value.trim()).filter((value) => value.length > 0);
}

/**
 * The protocol to answer an upgrade with: `durable-entities` when offered (a browser that carries its
 * token as a protocol offers it too, and must get one of its offers back), else none.
 */
export function chosenProtocol(headers: Readonly<Record<string, string>>): string | undefined {
  return offeredProtocols(headers).includes(PROTOCOL_NAME) ? PROTOCOL_NAME : undefined;
}
