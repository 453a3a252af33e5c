import fc from "fast-check";
import { parseResponse, type RawExchange } from "./raw-http.js";
import { STACK_TRACE } from "./fuzz-peer.js";

/**
 * Random HTTP/1.1 requests for the fuzz test, rendered as raw bytes (every request line well-formed,
 * so that both transports parse it; every request ends its connection with `Connection: close`), and
 * the rules every answer must keep.
 */
export interface FuzzRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly target: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
  /** The request carries a token the server knows (header or query). */
  readonly authenticated: boolean;
}

/** Methods uWebSockets.js (this build) parses; any other request gets no answer there, its connection closed at once. */
const UWS_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"]);
/** Served without a token. */
const PUBLIC_PATHS = new Set(["/healthz", "/client.js", "/client.js.map", "/dashboard/dashboard.js", "/dashboard/dashboard.js.map", "/dashboard/dashboard.css"]);
const API = "/runtime/webhooks/durabletask";

/** Percent-encodes every byte of the UTF-8 form but unreserved characters (a lone surrogate becomes U+FFFD's bytes). */
function encode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** A path segment: plausible names, random text (encoded), and broken encodings. */
const segment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("HelloSequence", "Nope", "Counter", "Echo", "counter", "f0", "i0", "nope-instance", "Ping", "openapi.json") },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 12 }).map(encode) },
  { weight: 1, arbitrary: fc.constantFrom("%zz", "%", "%E", "%ED%A0%80", "%00", "%2F", "%2e%2e", "..", ".", "%C0%AF", "x".repeat(300), "%FF%FE", "%0D%0A") },
);

const API_ROUTES = [
  "",
  "/",
  "/openapi.json",
  "/instances",
  "/instances/{s}",
  "/instances/{s}/raiseEvent/{s}",
  "/instances/{s}/terminate",
  "/instances/{s}/suspend",
  "/instances/{s}/resume",
  "/instances/{s}/rewind",
  "/instances/{s}/restart",
  "/orchestrators/{s}",
  "/orchestrators/{s}/{s}",
  "/entities/{s}",
  "/entities/{s}/{s}",
  "/entities/{s}/{s}/{s}",
  "/{s}",
];

const path = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...API_ROUTES), fc.array(segment, { minLength: 3, maxLength: 3 })).map(([route, parts]) => API + route.replace(/\{s\}/g, () => parts.shift()!)) },
  { weight: 2, arbitrary: fc.constantFrom("/ws", "/ws/", "/ws/x", "/WS", "/healthz", "/healthz/", "/client.js", "/client.js.map", "/demo", "/", "//", "/.env", "/%2e%2e/%2e%2e/etc/passwd", "/runtime", "/runtime/webhooks") },
  { weight: 2, arbitrary: fc.webPath().map((p) => (p.startsWith("/") ? p : `/${p}`)) },
  { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join("/")}`) },
);

/** Query keys the API reads (not `timeout`, `pollingInterval` or `returnInternalServerErrorOnFailure`: a wait, and the documented 500 of a failed instance). */
const queryKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("taskHub", "connection", "code", "op", "top", "showInput", "showHistory", "showHistoryOutput", "createdTimeFrom", "createdTimeTo", "runtimeStatus", "instanceIdPrefix", "reason", "fetchState", "continuationToken", "restartWithNewInstanceId", "lastOperationTimeFrom", "token", "instanceId") },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map(encode) },
);
const queryValue = fc.oneof(
  fc.constantFrom("", "true", "false", "1", "-1", "0", "1e309", "abc", "Running", "Running,Nope", "2026-01-01T00:00:00Z", "not-a-date", "%zz", "%00", "HelloSequence", "add", "x".repeat(300)),
  fc.string({ unit: "binary", maxLength: 16 }).map(encode),
  fc.integer().map(String),
);
const query = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  { weight: 5, arbitrary: fc.array(fc.tuple(queryKey, queryValue), { maxLength: 5 }).map((pairs) => (pairs.length === 0 ? "" : `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`)) },
  { weight: 1, arbitrary: fc.constantFrom("?", "??", "?&&", "?=", "?a", "?a=1&a=2", `?x=${"y".repeat(8300)}`) },
);

const method = fc.oneof(
  { weight: 5, arbitrary: fc.constant("GET") },
  { weight: 4, arbitrary: fc.constant("POST") },
  { weight: 2, arbitrary: fc.constant("DELETE") },
  { weight: 3, arbitrary: fc.constantFrom("PUT", "PATCH", "HEAD", "OPTIONS", "TRACE") },
  { weight: 1, arbitrary: fc.constantFrom("PROPFIND", "QUERY", "SEARCH", "PURGE", "MKCOL", "FOO", "get") },
);

/** Header values: printable ASCII and spaces (what both parsers take). */
const headerValue = fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, "").trim());
const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,19}$/).filter((name) => !/^(host|connection|content-length|transfer-encoding|upgrade|expect|authorization|sec-websocket-.*|te|trailer|keep-alive|proxy-.*)$/i.test(name));

function headers(ownOrigin: string) {
  return fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.tuple(headerName, headerValue) },
      { weight: 1, arbitrary: fc.tuple(fc.constant("Content-Type"), fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "garbage", "")) },
      { weight: 1, arbitrary: fc.tuple(fc.constant("Origin"), fc.constantFrom(ownOrigin, "http://evil.example", "null", "https://127.0.0.1")) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom("Upgrade"), fc.constantFrom("websocket", "h2c", "")) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom("Accept", "Cookie", "X-Forwarded-For", "X-Forwarded-Proto", "Forwarded", "Sec-WebSocket-Protocol"), headerValue) },
      { weight: 1, arbitrary: fc.tuple(fc.constant("X-Long"), fc.integer({ min: 1000, max: 3000 }).map((n) => "v".repeat(n))) },
    ),
    { maxLength: 5 },
  ).filter((list) => list.reduce((bytes, [name, value]) => bytes + name.length + value.length + 4, 0) <= 3_200); // uWebSockets.js drops requests whose headers pass 4 KiB
}

function nestedJson(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

const body = fc.oneof(
  { weight: 5, arbitrary: fc.constant("") },
  { weight: 4, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 100 }) },
  { weight: 1, arbitrary: fc.constantFrom("{", "[1,", '{"a":}', "nul", '"\\ud800"', "1e999", '{"__proto__":{"x":1}}') },
  { weight: 1, arbitrary: fc.constantFrom(300, 5_000, 100_000).map(nestedJson) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => JSON.stringify("b".repeat(n))) },
);

/** Who the request says it is. */
function authentication(tokens: { admin: string; app: string }) {
  type Auth = { readonly header?: readonly [string, string]; readonly query?: string; readonly authenticated: boolean };
  return fc.oneof<fc.Arbitrary<Auth>[]>(
    fc.constant({ authenticated: false }),
    fc.constant({ header: ["Authorization", `Bearer ${tokens.admin}`] as const, authenticated: true }),
    fc.constant({ header: ["Authorization", `Bearer ${tokens.app}`] as const, authenticated: true }),
    fc.constant({ query: `token=${tokens.admin}`, authenticated: true }),
    fc.constantFrom<Auth>(
      { header: ["Authorization", "Bearer wrong-token-0123456789"], authenticated: false },
      { header: ["Authorization", "Bearer"], authenticated: false },
      { header: ["Authorization", `Basic ${Buffer.from(`x:${tokens.admin}`).toString("base64")}`], authenticated: false },
      { header: ["Authorization", `bearer  ${tokens.admin.slice(1)}`], authenticated: false },
      { query: "token=wrong-token-0123456789", authenticated: false },
      { query: "token=", authenticated: false },
    ),
  );
}

/** A random request, with a token about half the time. */
export function fuzzRequest(tokens: { admin: string; app: string }, ownOrigin: string): fc.Arbitrary<FuzzRequest> {
  return fc.record({ method, path, query, headers: headers(ownOrigin), body, auth: authentication(tokens) }).map(({ method, path, query, headers, body, auth }) => {
    const target = auth.query === undefined ? `${path}${query}` : `${path}${query === "" || query === "?" ? "?" : `${query}&`}${auth.query}`;
    const all = auth.header ? [...headers, auth.header] : headers;
    return Object.assign(
      { method, target, headers: all, body, authenticated: auth.authenticated },
      { [fc.toStringMethod]: () => JSON.stringify(`${method} ${target.length > 200 ? `${target.slice(0, 200)}…` : target} ${JSON.stringify(all).slice(0, 200)} body ${body.length > 80 ? `${body.slice(0, 80)}…(${body.length})` : body}`) },
    );
  });
}

/** The request's bytes: one HTTP/1.1 request to `host` that asks the server to close the connection after answering. */
export function render(request: FuzzRequest, host: string): string {
  const lines = [`${request.method} ${request.target} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  if (request.body !== "" || !["GET", "HEAD"].includes(request.method)) lines.push(`Content-Length: ${Buffer.byteLength(request.body)}`);
  lines.push("Connection: close", "", request.body);
  return lines.join("\r\n");
}

/** Answers with no response at all: the documented uWebSockets.js limit on methods. */
export function unanswered(transport: "ws" | "uws", request: FuzzRequest): boolean {
  return transport === "uws" && !UWS_METHODS.has(request.method);
}

/** What is wrong with the answer to `request` (empty when nothing is). */
export function answerProblems(transport: "ws" | "uws", request: FuzzRequest, exchange: RawExchange): string[] {
  if (!exchange.closed) return ["the server did not close the connection (Connection: close) within the wait"];
  if (exchange.reply === "") return unanswered(transport, request) ? [] : ["no response"];
  let response: ReturnType<typeof parseResponse>;
  try {
    response = parseResponse(exchange.reply);
  } catch (error) {
    return [(error as Error).message];
  }
  const problems: string[] = [];
  const { status, headers, body } = response;
  const path = request.target.split("?")[0]!;
  if (status >= 500) problems.push(`status ${status} for a client's request`);
  if (status < 200 || status >= 600) problems.push(`status ${status}`);
  if (STACK_TRACE.test(body)) problems.push(`a stack trace in the body: ${body.slice(0, 300)}`);
  if (!request.authenticated && !PUBLIC_PATHS.has(path) && status < 400) problems.push(`status ${status} without a valid token`);
  if (status === 401 && !/^Bearer/.test(headers["www-authenticate"] ?? "")) problems.push("a 401 without WWW-Authenticate: Bearer");
  if (status >= 400 && request.method !== "HEAD") {
    if (!/^application\/json/.test(headers["content-type"] ?? "")) problems.push(`an error answered with content-type ${headers["content-type"]}: ${body.slice(0, 200)}`);
    let error: unknown;
    try {
      error = JSON.parse(body);
    } catch {
      return [...problems, `an error body that is not JSON: ${JSON.stringify(body.slice(0, 200))}`];
    }
    const { code, error: named, message } = (error ?? {}) as { code?: unknown; error?: unknown; message?: unknown };
    if (typeof (code ?? named) !== "string" || typeof message !== "string") problems.push(`an error body without code (or error) and message: ${body.slice(0, 200)}`);
  }
  return problems;
}
