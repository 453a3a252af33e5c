import { CloseCode, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_TASK_HUB } from "../../protocol/index.js";
import { createLogger, type Logger } from "../log.js";
import type { OrchestrationHost, OrchestrationHostOptions } from "../orchestration/index.js";
import type { Clock, EntityRuntime } from "../runtime/index.js";
import { collectDefinitions } from "./app-definitions.js";
import { ConnectionSession, type ConnectionContext } from "./connection-session.js";
import { browserClientRoutes } from "./browser-client.js";
import { openStaticFiles } from "./static-files.js";
import { json, routeHttp } from "./http-routes.js";
import { FairInput } from "./fair-input.js";
import type { LiveStateHub, LiveStateOptions } from "./live-state/index.js";
import { MemoryBudget } from "./memory-budget.js";
import { TaskHubs } from "./task-hubs.js";
import type { HttpHandler, Transport } from "./transport.js";
import { loadUws, UwsTransport } from "./uws-transport.js";
import { WsTransport } from "./ws-transport.js";

export type TransportName = "ws" | "uws";

const DEFAULT_MAX_BUFFERED_BYTES_TOTAL = 512 * 1024 * 1024;
/** Task hubs one server serves at once by default (its own and those that connections and requests name). */
const DEFAULT_MAX_HUBS = 16;
/** Each connection's share of an event-loop turn: about this many bytes of its messages are handled per turn. */
const INPUT_BYTES_PER_TURN = 1024 * 1024;

export interface ServerOptions {
  /** Where the LMDB files live (created when missing). */
  readonly dataDir: string;
  /** The app: definitions, or a module's exports (every defineEntity, defineOrchestration and defineActivity result in it is hosted). */
  readonly app: Iterable<unknown> | Record<string, unknown>;
  /** Default 127.0.0.1: reachable from this machine only. */
  readonly host?: string;
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
  /** Extra HTTP routes, `"GET /path"` keys (the demo page and the browser client are added by the CLI). */
  readonly httpRoutes?: Record<string, HttpHandler>;
  /** A directory whose files are served at `/` paths (GET and HEAD) where no route answers; it may not hold `dataDir`. */
  readonly staticDir?: string;
  readonly log?: Logger;
  /** Called when the store fails and the server stops taking work (default: log it). */
  readonly onFatal?: (error: unknown) => void;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, what `connect()` takes. */
  readonly url: string;
  readonly transport: TransportName;
  /** Every task hub this server serves (its own, and those opened since for connections and requests naming them). */
  readonly hubs: TaskHubs;
  /** The entity runtime of the server's own hub. */
  readonly runtime: EntityRuntime;
  /** The orchestration host of the server's own hub, when the app defines orchestrations or activities. */
  readonly orchestrations: OrchestrationHost | undefined;
  readonly liveState: LiveStateHub;
  /** What connection buffers hold now against the server-wide budget, and how many connections the budget closed. */
  buffers(): { heldBytes: number; budgetBytes: number; closedForBudget: number };
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
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const app = collectDefinitions(options.app);
  if (app.entities.length + app.orchestrations.length + app.activities.length === 0) {
    throw new Error("the app defines nothing to host (export the results of defineEntity, defineOrchestration and defineActivity)");
  }

  const staticFiles = options.staticDir === undefined ? undefined : await openStaticFiles(options.staticDir, { private: [options.dataDir] });
  const transport = await chooseTransport(options.transport, log); // before the store: nothing to close if it fails
  const maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  const hubs = new TaskHubs({
    dataDir: options.dataDir,
    defaultHub: options.hub ?? DEFAULT_TASK_HUB,
    maxHubs: options.maxHubs ?? DEFAULT_MAX_HUBS,
    settings: { app, partitions: options.partitions, maxCachedEntities: options.maxCachedEntities, maxFailuresPerType: options.maxFailuresPerType, maxBufferedBytes, liveState: options.liveState, orchestration: options.orchestration, clock: options.clock, log, onFatal: options.onFatal },
  });
  const hub = await hubs.get(); // the server's own hub: its store must open for the server to start
  const budget = new MemoryBudget(options.maxBufferedBytesTotal ?? DEFAULT_MAX_BUFFERED_BYTES_TOTAL, log);
  const input = new FairInput(INPUT_BYTES_PER_TURN);
  const context: ConnectionContext = { hubs, maxMessageBytes, maxBufferedBytes, maxInflightRequests: options.maxInflightRequests ?? 250_000, input, budget, log };
  const onHttp = routeHttp({
    "GET /healthz": async () => json(200, { status: "ok", entities: hub.runtime.registry.names, orchestrations: [...(hub.orchestrationHost?.orchestrations.keys() ?? [])], hubs: hubs.list().map((open) => open.name) }),
    ...browserClientRoutes(),
    ...options.httpRoutes,
  }, staticFiles);

  let port: number;
  try {
    port = await transport.listen({
      host,
      port: options.port ?? 7071,
      maxMessageBytes,
      onConnection: (socket) => new ConnectionSession(socket, context),
      onHttp,
    });
  } catch (error) {
    budget.close();
    await hubs.close();
    throw error;
  }
  log.info("listening", { url: `http://${host}:${port}`, transport: transport.name, hub: hub.name, entities: hub.runtime.registry.names, partitions: hub.store.partitionCount });

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    transport: transport.name,
    hubs,
    runtime: hub.runtime,
    orchestrations: hub.orchestrationHost,
    liveState: hub.liveState,
    buffers: () => ({ heldBytes: budget.totalBytes, budgetBytes: budget.maxBytes, closedForBudget: budget.shedCount }),
    close: () =>
      (closing ??= (async () => {
        await transport.close(CloseCode.goingAway, "server shutting down");
        budget.close();
        await hubs.close();
      })()),
    abort: () => hubs.abort(),
  };
}

async function chooseTransport(name: TransportName | undefined, log: Logger): Promise<Transport> {
  if (name === "ws") return new WsTransport();
  const uws = await loadUws();
  if (uws) return new UwsTransport(uws);
  if (name === "uws") throw new Error("uWebSockets.js does not load on this platform; use --transport ws");
  log.warn("uWebSockets.js does not load here; using ws");
  return new WsTransport();
}
