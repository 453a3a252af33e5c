import { CloseCode, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_TASK_HUB, ErrorCode } from "../../protocol/index.js";
import { createLogger, errorMessage, newLogId, type Logger } from "../log.js";
import type { OrchestrationHost, OrchestrationHostOptions } from "../orchestration/index.js";
import type { Clock, EntityRuntime } from "../runtime/index.js";
import { collectDefinitions } from "./app-definitions.js";
import { ConnectionSession, type ConnectionContext } from "./connection-session.js";
import { browserClientRoutes } from "./browser-client.js";
import { dashboardRoutes } from "./dashboard-routes.js";
import { openStaticFiles } from "./static-files.js";
import { echo, errorFor, json, routeHttp } from "./http-routes.js";
import { FairInput } from "./fair-input.js";
import type { LiveStateHub, LiveStateOptions } from "./live-state/index.js";
import { MemoryBudget } from "./memory-budget.js";
import { createMetrics, type RuntimeMetrics } from "../observability/metrics.js";
import { HealthHistory } from "../observability/health-history.js";
import { healthRoutes } from "./health-routes.js";
import { METRICS_PATH, metricsRoute } from "./metrics-route.js";
import { checkAppRoutes, HEALTHZ_PATH } from "./reserved-paths.js";
import { serverGauges } from "./server-gauges.js";
import { TaskHubs } from "./task-hubs.js";
import type { TaskHub } from "./task-hub.js";
import type { NatsConnection } from "nats";
import { connectToNats, type ClusterOptions } from "../cluster/index.js";
import type { HttpHandler, HttpRequest, HttpResponse, TlsFiles, Transport, UpgradeDecision } from "./transport.js";
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { AccessGate } from "./access-gate.js";
import { durableHttpApi, isDurableHttpPath } from "./durable-http/index.js";
import { chosenProtocol, OriginPolicy, type AccessPolicy } from "../security/index.js";
import { loadUws, UwsTransport } from "./uws-transport.js";
import { WsTransport } from "./ws-transport.js";

export type TransportName = "ws" | "uws";

const DEFAULT_MAX_BUFFERED_BYTES_TOTAL = 512 * 1024 * 1024;
/** Task hubs one server serves at once by default (its own and those that connections and requests name). */
const DEFAULT_MAX_HUBS = 16;
/** Seconds between pings; a peer that answers none for two of them is dropped. */
const DEFAULT_HEARTBEAT_SECONDS = 30;
/** Requests per second one connection may send (it may save up two seconds' worth for a burst); more get `rate_limited`. */
const DEFAULT_RATE_LIMIT = 100_000;
/** Most WebSocket connections at once; more upgrades are answered 503. */
const DEFAULT_MAX_CONNECTIONS = 50_000;
/** Each connection's share of an event-loop turn: about this many bytes of its messages are handled per turn. */
const INPUT_BYTES_PER_TURN = 1024 * 1024;

export interface ServerOptions {
  /** Where the LMDB files live (created when missing); in cluster mode, this node's materialization of its partitions. */
  readonly dataDir: string;
  /** Cluster mode: share every hub's partitions with other nodes through NATS JetStream (see src/cluster/). */
  readonly cluster?: ClusterServerOptions;
  /** The app: definitions, or a module's exports (every defineEntity, defineOrchestration and defineActivity result in it is hosted). */
  readonly app: Iterable<unknown> | Record<string, unknown>;
  /** Default 127.0.0.1: reachable from this machine only. */
  readonly host?: string;
  /** Who may do what (a tokens file's TokenPolicy, an app's hooks); without it every request is allowed, and only loopback may be bound. */
  readonly access?: AccessPolicy;
  /** Serve https and wss with this certificate and key (PEM files). */
  readonly tls?: TlsFiles;
  /** Seconds between pings (default 30): a peer that answers nothing for two of them is dropped (the client reconnects). */
  readonly heartbeatSeconds?: number;
  /** Most WebSocket connections at once (default 50,000); more upgrades are answered 503. */
  readonly maxConnections?: number;
  /** Requests per second per connection (default 100,000; a burst of twice that is allowed); more are answered `rate_limited`. */
  readonly rateLimit?: number;
  /** Bind a non-loopback host without `access` (a proxy in front authenticates). */
  readonly insecure?: boolean;
  /** Origins besides the server's own whose pages may open WebSockets and send state-changing requests (`*` for any). */
  readonly allowedOrigins?: readonly string[];
  /** Default 7071; 0 picks a free port. */
  readonly port?: number;
  /** Default "uws" where uWebSockets.js loads, else "ws". */
  readonly transport?: TransportName;
  /** Largest accepted WebSocket message (default 1 MiB); a larger one closes its connection with 1009. */
  readonly maxMessageBytes?: number;
  /** The task hub of connections and requests that name none (default `default`); others are opened when named. */
  readonly hub?: string;
  /** Most task hubs served at once (default 16). */
  readonly maxHubs?: number;
  /** Partitions of a new data directory (default 16). */
  readonly partitions?: number;
  readonly maxCachedEntities?: number;
  /** The most JSON characters an entity's state may take (default 16 MiB); an operation leaving more fails with `state_too_large`, rolled back. */
  readonly maxStateBytes?: number;
  /** Failed signals between entities kept per entity type, the newest (default 1,000), listed by `failures`. */
  readonly maxFailuresPerType?: number;
  /** Past this many unsent bytes a connection is closed with 4008 (default 16 MiB). */
  readonly maxBufferedBytes?: number;
  /** Most unanswered signals, calls and gets per connection (default 250,000); more get `overloaded`. */
  readonly maxInflightRequests?: number;
  /** Most bytes all connections' buffers (unsent output, unhandled input) may hold together (default 512 MiB); past it the largest are closed. */
  readonly maxBufferedBytesTotal?: number;
  readonly liveState?: LiveStateOptions;
  /** Orchestration tuning: activities at once, instances in memory, guard rails. */
  readonly orchestration?: Pick<OrchestrationHostOptions, "maxConcurrentActivities" | "activityTimeoutMs" | "maxCachedInstances" | "limits">;
  /** The clock timers and orchestration time read (default: the system's; tests inject their own). */
  readonly clock?: Clock;
  /**
   * Extra HTTP routes, `"GET /path"` keys (the demo page is added by the CLI). The server's own paths
   * (`/metrics`, `/api/health`, `/healthz`, below `/runtime/webhooks/durabletask`) are refused at start.
   */
  readonly httpRoutes?: Record<string, HttpHandler>;
  /** A directory whose files are served at `/` paths (GET and HEAD) where no route answers; it may not hold `dataDir`. */
  readonly staticDir?: string;
  /** Serve the dashboard (default true): at `/` and `/dashboard/`, or only at `/dashboard/` with a `staticDir`. */
  readonly dashboard?: boolean;
  readonly log?: Logger;
  /** The registry and meters to record into (default: new ones for this server); one server per RuntimeMetrics. */
  readonly metrics?: RuntimeMetrics;
  /** Called when the store fails and the server stops taking work (default: log it). */
  readonly onFatal?: (error: unknown) => void;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` (`https://` with TLS), what `connect()` takes. */
  readonly url: string;
  readonly transport: TransportName;
  /** Every task hub this server serves (its own, and those opened since for connections and requests naming them). */
  readonly hubs: TaskHubs;
  /** The entity runtime of the server's own hub. */
  readonly runtime: EntityRuntime;
  /** The orchestration host of the server's own hub, when the app defines orchestrations or activities. */
  readonly orchestrations: OrchestrationHost | undefined;
  readonly liveState: LiveStateHub;
  /** What `GET /metrics` serves: `metrics.registry` is this server's own prom-client registry. */
  readonly metrics: RuntimeMetrics;
  /** What connection buffers hold now against the server-wide budget, and how many connections the budget closed. */
  buffers(): { heldBytes: number; budgetBytes: number; closedForBudget: number };
  /** Reads the access policy again (the tokens file, on SIGHUP): new grants apply to open connections, and those whose token was revoked are closed (4401). */
  reloadAccess(): Promise<void>;
  /** Closes connections, finishes queued work, makes it durable and closes the store. */
  close(): Promise<void>;
  /**
   * For a fatal error in the host process: stops taking work at once (see `EntityRuntime.abort`),
   * waits for the commit in flight to settle, and closes the store. Leaves connections open (the
   * process is about to end). Safe to call more than once, and during or after `close`.
   */
  abort(): Promise<void>;
}

/** Starts the service: LMDB store, the runtime (entities and orchestrations), live state and a WebSocket endpoint at /ws. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const log = options.log ?? createLogger();
  const host = options.host ?? "127.0.0.1";
  if (options.access === undefined && !isLoopback(host) && options.insecure !== true) {
    throw new Error(`refusing to serve ${host} without authentication: anyone who reaches it could read and change every entity; give a tokens file (--auth FILE), bind 127.0.0.1, or pass --insecure if a proxy in front authenticates`);
  }
  checkAppRoutes(options.httpRoutes);
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const app = collectDefinitions(options.app);
  if (app.entities.length + app.orchestrations.length + app.activities.length === 0) {
    throw new Error("the app defines nothing to host (export the results of defineEntity, defineOrchestration and defineActivity)");
  }

  const staticFiles = options.staticDir === undefined ? undefined : await openStaticFiles(options.staticDir, { private: [options.dataDir] });
  if (options.tls) checkTlsFiles(options.tls); // before the store, like the transport: nothing to close if it fails
  const transport = await chooseTransport(options.transport, log); // before the store: nothing to close if it fails
  const maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  const metrics = options.metrics ?? createMetrics();
  const health = new HealthHistory(metrics.registry, { log }); // the dashboard's charts; started once listening
  const cluster = options.cluster && (await joinCluster(options.cluster, log));
  const hubs = new TaskHubs({
    dataDir: options.dataDir,
    defaultHub: options.hub ?? DEFAULT_TASK_HUB,
    maxHubs: options.maxHubs ?? DEFAULT_MAX_HUBS,
    settings: { app, partitions: options.partitions, maxCachedEntities: options.maxCachedEntities, maxFailuresPerType: options.maxFailuresPerType, maxStateBytes: options.maxStateBytes, maxBufferedBytes, liveState: options.liveState, orchestration: options.orchestration, clock: options.clock, log, onFatal: options.onFatal, metrics, ...(cluster ? { cluster } : {}) },
  });
  let hub: TaskHub;
  try {
    hub = await hubs.get(); // the server's own hub: its store must open for the server to start
  } catch (error) {
    await cluster?.connection.close();
    throw error;
  }
  const budget = new MemoryBudget(options.maxBufferedBytesTotal ?? DEFAULT_MAX_BUFFERED_BYTES_TOTAL, log);
  const input = new FairInput(INPUT_BYTES_PER_TURN);
  const scheme = options.tls ? "https" : "http";
  // Without authentication on loopback, only loopback Host names are served (DNS rebinding would make any site "same origin").
  const gate = new AccessGate(options.access, new OriginPolicy(options.allowedOrigins ?? [], scheme, options.access === undefined && isLoopback(host)));
  const rateLimit = { perSecond: options.rateLimit ?? DEFAULT_RATE_LIMIT, burst: 2 * (options.rateLimit ?? DEFAULT_RATE_LIMIT) };
  const sessions = new Set<ConnectionSession>();
  const context: ConnectionContext = { hubs, gate, sessions, rateLimit, maxMessageBytes, maxBufferedBytes, maxInflightRequests: options.maxInflightRequests ?? 250_000, input, budget, log };
  const routes = routeHttp({
    [`GET ${HEALTHZ_PATH}`]: async () => json(200, { status: "ok", entities: hub.runtime.registry.names, orchestrations: [...(hub.orchestrationHost?.orchestrations.keys() ?? [])], hubs: hubs.list().map((open) => open.name), ...(cluster && hub.cluster ? { cluster: { node: cluster.node, partitions: hub.cluster.owned } } : {}) }),
    ...browserClientRoutes(),
    ...healthRoutes(health),
    ...(options.dashboard === false ? {} : dashboardRoutes({ atRoot: options.staticDir === undefined })),
    ...options.httpRoutes,
  }, staticFiles);
  let origin = `${scheme}://${host.includes(":") ? `[${host}]` : host}:${options.port ?? 7071}`; // the bound port once listening
  const durableHttp = durableHttpApi({ hubs, log, access: gate, scheme, origin: () => origin });
  const scrape = metricsRoute(metrics.registry, gate);
  metrics.readGaugesFrom(serverGauges(hubs, transport));
  const onHttp = async (request: HttpRequest) => {
    const tooLong = urlTooLong(request);
    if (tooLong) return tooLong;
    const admission = await gate.http(request);
    if (!admission.admitted) return admission.response;
    if (isDurableHttpPath(request.path)) return durableHttp(request, admission.principal);
    try {
      if (request.path === METRICS_PATH) return await scrape(request, admission.principal);
      return await routes(request);
    } catch (error) {
      return routeFailed(request, error, log);
    }
  };
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  /** Upgrades being authenticated: they hold sockets, and may all be admitted, so they count against the cap. */
  let pendingUpgrades = 0;
  const onUpgrade = async (request: HttpRequest): Promise<UpgradeDecision> => {
    const tooLong = urlTooLong(request);
    if (tooLong) return { admitted: false, response: tooLong };
    if (transport.connectionCount + pendingUpgrades >= maxConnections) {
      return { admitted: false, response: json(503, { code: ErrorCode.overloaded, message: `the server holds ${maxConnections} connections, its most (--max-connections); try again later` }) };
    }
    pendingUpgrades++;
    let admission: Awaited<ReturnType<AccessGate["upgrade"]>>;
    try {
      admission = await gate.upgrade(request);
    } finally {
      pendingUpgrades--; // the transport opens an admitted socket before any other upgrade is decided
    }
    return admission.admitted ? { admitted: true, principal: admission.principal, protocol: chosenProtocol(request.headers) } : admission;
  };

  let port: number;
  try {
    port = await transport.listen({
      host,
      port: options.port ?? 7071,
      maxMessageBytes,
      onUpgrade,
      heartbeatSeconds: options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS,
      ...(options.tls ? { tls: options.tls } : {}),
      onConnection: (socket, principal) => new ConnectionSession(socket, context, principal),
      onHttp,
    });
  } catch (error) {
    budget.close();
    await hubs.close();
    await cluster?.connection.close();
    throw error;
  }
  const url = `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`;
  origin = url;
  health.start();
  log.info("listening", { url, transport: transport.name, hub: hub.name, entities: hub.runtime.registry.names, partitions: hub.store.partitionCount });

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url,
    transport: transport.name,
    hubs,
    runtime: hub.runtime,
    orchestrations: hub.orchestrationHost,
    liveState: hub.liveState,
    metrics,
    buffers: () => ({ heldBytes: budget.totalBytes, budgetBytes: budget.maxBytes, closedForBudget: budget.shedCount }),
    reloadAccess: async () => {
      await gate.reload();
      for (const session of [...sessions]) session.recheckAccess();
    },
    close: () =>
      (closing ??= (async () => {
        health.stop();
        await transport.close(CloseCode.goingAway, "server shutting down");
        budget.close();
        await hubs.close();
        await cluster?.connection.close();
      })()),
    abort: async () => {
      health.stop();
      await hubs.abort();
      await cluster?.connection.close();
    },
  };
}

/** A route that threw (the app's own `httpRoutes` among them, a scrape whose metric failed to collect): logged with a request id the answer names; the stack stays in the log. */
function routeFailed(request: HttpRequest, error: unknown, log: Logger): HttpResponse {
  const requestId = newLogId();
  log.child({ requestId }).error("http request failed", { method: request.method, path: echo(request.path), error: errorMessage(error), stack: error instanceof Error ? error.stack : undefined });
  return json(500, { code: ErrorCode.internal, message: `internal error (details are in the server's log, requestId ${requestId})` });
}

/** Reads the certificate and key and checks that they belong together, so a mistake is told before listening. */
function checkTlsFiles(tls: TlsFiles): void {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read the TLS ${what} file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  const cert = read(tls.certFile, "certificate");
  const key = read(tls.keyFile, "key");
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new Error(`the TLS certificate ${tls.certFile} and key ${tls.keyFile} cannot be used: ${(error as Error).message}`);
  }
}

/** Longest request target (path and query) served; headers are bounded by the transports (16 KiB with ws, 4 KiB with uWebSockets.js). */
const MAX_URL_CHARS = 8192;

function urlTooLong(request: HttpRequest): HttpResponse | undefined {
  const length = request.path.length + request.query.length;
  if (length <= MAX_URL_CHARS) return undefined;
  return errorFor(request.path, 414, ErrorCode.bad_request, `the URL is ${length} characters; the most served is ${MAX_URL_CHARS}`);
}

export interface ClusterServerOptions {
  /** NATS server URLs (`nats://host:port`): any of the cluster's. */
  readonly servers: readonly string[];
  /** This node's name, unique in the cluster. */
  readonly node: string;
  /** Copies of each partition's log and inbox (default 3 when NATS is a cluster, else 1). */
  readonly replicas?: number;
  /** How long a partition's lease lasts without renewal (default 5 s): about how long a dead node's partitions wait for a new owner. */
  readonly leaseMs?: number;
  /** The cluster's name, when several clusters share the NATS servers. */
  readonly name?: string;
  /** Log entries between a partition's snapshots (default 10,000). */
  readonly snapshotEntries?: number;
}

/** Connects to NATS (giving up with a clear error when no server answers at start). */
async function joinCluster(options: ClusterServerOptions, log: Logger): Promise<ClusterOptions> {
  let connection: NatsConnection;
  try {
    connection = await connectToNats([...options.servers], options.node);
  } catch (error) {
    throw new Error(`cannot reach NATS at ${options.servers.join(", ")} (--cluster): ${errorMessage(error)}`);
  }
  const replicas = options.replicas ?? (connection.info?.cluster ? 3 : 1);
  log.info("joined the cluster", { node: options.node, nats: connection.getServer(), replicas });
  const { leaseMs, name, snapshotEntries } = options;
  return { connection, node: options.node, replicas, ...(leaseMs === undefined ? {} : { leaseMs }), ...(name === undefined ? {} : { name }), ...(snapshotEntries === undefined ? {} : { snapshotEntries }) };
}

/** Addresses only this machine can reach. */
function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

async function chooseTransport(name: TransportName | undefined, log: Logger): Promise<Transport> {
  if (name === "ws") return new WsTransport();
  const uws = await loadUws();
  if (uws) return new UwsTransport(uws);
  if (name === "uws") throw new Error("uWebSockets.js does not load on this platform; use --transport ws");
  log.warn("uWebSockets.js does not load here; using ws");
  return new WsTransport();
}
