/**
 * Cross-site requests. Browsers send `Origin` with every WebSocket upgrade and every state-changing
 * request, and apply no CORS to WebSockets: without this check any page a user visits could drive their
 * local server. A request with an `Origin` is accepted only from the server's own origin (the scheme and
 * the Host it was reached at) or an origin the operator allowed (`--allow-origin`); requests without one
 * (Node, curl, scripts) are not browsers' and are unaffected.
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(
    allowedOrigins: readonly string[],
    private readonly scheme: "http" | "https",
  ) {
    this.allowed = new Set(allowedOrigins.map(normalizeOrigin));
  }

  /** Undefined when the request may go on, else why not. */
  check(headers: Readonly<Record<string, string>>): string | undefined {
    const origin = headers.origin;
    if (origin === undefined) return undefined;
    const normalized = normalizeOrigin(origin);
    if (this.allowed.has("*") || this.allowed.has(normalized)) return undefined;
    const host = headers.host;
    if (host !== undefined && normalized === normalizeOrigin(`${this.scheme}://${host}`)) return undefined;
    return `requests from pages of ${origin.slice(0, 200)} are not accepted; the server accepts its own origin${this.allowed.size > 0 ? ` and ${[...this.allowed].join(", ")}` : ""} (allow more with --allow-origin)`;
  }
}

/** `scheme://host[:port]` in lowercase, without a default port or a trailing slash. */
export function normalizeOrigin(origin: string): string {
  if (origin === "*" || origin === "null") return origin;
  try {
    const url = new URL(origin);
    return `${url.protocol}//${url.host}`.toLowerCase(); // URL drops default ports
  } catch {
    return origin.toLowerCase();
  }
}
