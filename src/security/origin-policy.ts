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
    /**
     * Serve only requests addressed to a loopback name (or to the host of an allowed origin): for a server
     * without authentication on loopback, where a page that re-points its own name at 127.0.0.1 (DNS
     * rebinding) would otherwise be its "own origin".
     */
    private readonly loopbackHostsOnly = false,
  ) {
    this.allowed = new Set(allowedOrigins.map(normalizeOrigin));
  }

  /** Undefined when the request's Host may be served, else why not. */
  checkHost(headers: Readonly<Record<string, string>>): string | undefined {
    const host = headers.host;
    if (!this.loopbackHostsOnly || host === undefined || this.allowed.has("*")) return undefined;
    if (isLoopbackHost(host) || this.allowed.has(normalizeOrigin(`${this.scheme}://${host}`))) return undefined;
    const shown = host.slice(0, 200);
    return `this server (without authentication, on loopback) answers requests addressed to localhost, 127.0.0.1 or [::1], not to ${shown} (a page of another site reaching it by DNS rebinding?); if ${shown} is a name of this machine, allow it with --allow-origin ${this.scheme}://${shown}`;
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

/** A Host header naming this machine by a name no other site can re-point: localhost (and *.localhost), 127.x.x.x, [::1]. */
function isLoopbackHost(host: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (hostname.endsWith(".")) hostname = hostname.slice(0, -1);
  return hostname === "localhost" || hostname.endsWith(".localhost") || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
