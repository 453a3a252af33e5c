import { ErrorCode } from "../../protocol/index.js";
import { describeTarget, requestToken, type AccessPolicy, type AccessTarget, type Action, type OriginPolicy, type Principal } from "../security/index.js";
import { DASHBOARD_ASSETS } from "./dashboard-routes.js";
import { errorFor } from "./http-routes.js";
import type { HttpRequest, HttpResponse } from "./transport.js";

/**
 * Paths served to anyone: the health check, the browser client (it holds no secrets, and pages of other
 * origins load it), and the dashboard's code and style (no secrets either: its page, and every piece of
 * data it shows, need the token).
 */
const PUBLIC_PATHS = new Set(["/healthz", "/client.js", "/client.js.map", ...DASHBOARD_ASSETS]);
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A request let in, and who made it (undefined when the server runs without authentication). */
export type Admission = { readonly admitted: true; readonly principal: Principal | undefined } | { readonly admitted: false; readonly response: HttpResponse };

/**
 * The server's door: every WebSocket upgrade and HTTP request is authenticated here (when a policy is
 * configured) and checked for its origin; every request on a connection is then authorized through
 * `allows`.
 */
export class AccessGate {
  constructor(
    private readonly policy: AccessPolicy | undefined,
    private readonly origins: OriginPolicy,
    /** How long an authentication (an app's hook may be async) may take before the request is refused with 503. */
    private readonly authenticateTimeoutMs = DEFAULT_AUTHENTICATE_TIMEOUT_MS,
  ) {}

  /** True when requests must carry a token. */
  get authenticating(): boolean {
    return this.policy !== undefined;
  }

  /** A WebSocket upgrade: refused (401, 403) before a WebSocket exists. */
  async upgrade(request: HttpRequest): Promise<Admission> {
    const crossSite = this.origins.checkHost(request.headers) ?? this.origins.check(request.headers);
    if (crossSite !== undefined) return refuse(403, ErrorCode.forbidden, crossSite, request.path);
    return this.authenticate(request);
  }

  /** An HTTP request: public paths pass; requests to a Host the server does not answer to, and state-changing requests from other origins, are refused; the rest is authenticated. */
  async http(request: HttpRequest): Promise<Admission> {
    if (PUBLIC_PATHS.has(request.path)) return { admitted: true, principal: undefined };
    const otherHost = this.origins.checkHost(request.headers);
    if (otherHost !== undefined) return refuse(403, ErrorCode.forbidden, otherHost, request.path);
    if (!SAFE_METHODS.has(request.method)) {
      const crossSite = this.origins.check(request.headers);
      if (crossSite !== undefined) return refuse(403, ErrorCode.forbidden, crossSite, request.path);
    }
    return this.authenticate(request);
  }

  /** Whether `principal` may do `action` on `target` (always, without a policy). */
  allows(principal: Principal | undefined, action: Action, target: AccessTarget): boolean {
    if (this.policy === undefined) return true;
    return principal !== undefined && this.policy.authorize(principal, action, target);
  }

  /** False once the principal's credential was revoked (see AccessPolicy.stillValid). */
  stillValid(principal: Principal | undefined): boolean {
    return principal === undefined || this.policy?.stillValid?.(principal) !== false;
  }

  /** Reads the policy's configuration again (the tokens file); what it now says applies to open connections too. */
  async reload(): Promise<void> {
    await this.policy?.reload?.();
  }

  /** The message of a `forbidden` answer; `about` names the target instead of its description (an instance rather than its orchestration). */
  forbidden(principal: Principal | undefined, action: Action, target: AccessTarget, about?: string): string {
    return `${principalName(principal) ?? "this client"} may not ${action} ${about ?? describeTarget(target)}`;
  }

  private async authenticate(request: HttpRequest): Promise<Admission> {
    if (this.policy === undefined) return { admitted: true, principal: undefined };
    const token = requestToken(request.headers, request.query);
    const answer = await withTimeout(this.policy.authenticate({ method: request.method, path: request.path, query: request.query, headers: request.headers, token }), this.authenticateTimeoutMs);
    if (answer === TIMED_OUT) return refuse(503, ErrorCode.overloaded, `authentication did not answer within ${this.authenticateTimeoutMs} ms; try again later`, request.path);
    const principal = answer;
    if (principal !== undefined) return { admitted: true, principal };
    const message = token === undefined ? "this server needs a token: send Authorization: Bearer <token> (browsers: a token query parameter on /ws, or a bearer.<token> WebSocket protocol)" : "the token is not valid";
    return refuse(401, ErrorCode.unauthorized, message, request.path);
  }
}

/** An authentication that does not answer in this time holds no connection slot longer: the request is refused (503). */
const DEFAULT_AUTHENTICATE_TIMEOUT_MS = 10_000;
const TIMED_OUT = Symbol("timed out");

/** `value` when it settles within `ms`, else {@link TIMED_OUT}; a synchronous value is taken at once. */
async function withTimeout<T>(value: T | Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  if (!(value instanceof Promise)) return value;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)));
  try {
    return await Promise.race([value, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A principal's name for a message: an app's principal may have none, or one that throws when read. */
function principalName(principal: Principal | undefined): string | undefined {
  try {
    const name: unknown = principal?.name;
    return typeof name === "string" && name !== "" ? name.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

function refuse(status: number, code: ErrorCode, message: string, path: string): Admission {
  const response = errorFor(path, status, code, message);
  return { admitted: false, response: status === 401 ? { ...response, headers: { ...response.headers, "www-authenticate": 'Bearer realm="durable-entities"' } } : response };
}
