import { CloseCode, DEFAULT_MAX_MESSAGE_BYTES } from "../../protocol/index.js";
import { createLogger, type Logger } from "../log.js";
import { OrchestrationHost, type OrchestrationHostOptions } from "../orchestration/index.js";
import { CommitPipeline, EntityRuntime, type Clock } from "../runtime/index.js";
import { collectDefinitions } from "./app-definitions.js";
import { InstanceWatchHub } from "./instance-watch-hub.js";
import { OrchestrationRequests } from "./orchestration-requests.js";
import { LmdbStore } from "../storage/index.js";
import { ConnectionSession } from "./connection-session.js";
import { browserClientRoutes } from "./browser-client.js";
import { openStaticFiles } from "./static-files.js";
import { json, routeHttp } from "./http-routes.js";
import { FairInput } from "./fair-input.js";
import { LiveStateHub, type LiveStateOptions } from "./live-state/index.js";
import { MemoryBudget } from "./memory-budget.js";
import type { HttpHandler, Transport } from "./transport.js";
import { loadUws, UwsTransport } from "./uws-transport.js";
import { WsTransport } from "./ws-transport.js";

export type TransportName = "ws" | "uws";

const DEFAULT_MAX_BUFFERED_BYTES_TOTAL = 512 * 1024 * 1024;
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
  readonly runtime: EntityRuntime;
  /** The orchestration host, when the app defines orchestrations or activities. */
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
  const store = await LmdbStore.open({ path: options.dataDir, partitionCount: options.partitions });
  let runtime: EntityRuntime;
  let orchestrationHost: OrchestrationHost | undefined;
  try {
    const pipeline = new CommitPipeline({ store, log, clock: options.clock, onFatal: options.onFatal });
    runtime = new EntityRuntime({ store, pipeline, entities: app.entities, maxCachedEntities: options.maxCachedEntities, maxFailuresPerType: options.maxFailuresPerType, log });
    if (app.orchestrations.length + app.activities.length > 0) {
      const host = new OrchestrationHost({ pipeline, ...app, ...options.orchestration, log });
      runtime.lockHolderCheck = (holder) => host.isRunning(holder);
      orchestrationHost = host;
    }
  } catch (error) {
    await store.close(); // frees the data directory for a retry
    throw error;
  }
  runtime.start();
  orchestrationHost?.start();
  const maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  const liveState = new LiveStateHub(runtime, { hardBufferBytes: maxBufferedBytes, ...options.liveState });
  const watches = orchestrationHost ? new InstanceWatchHub(orchestrationHost) : undefined;
  const orchestrations = orchestrationHost && watches ? new OrchestrationRequests(orchestrationHost, watches) : undefined;
  const budget = new MemoryBudget(options.maxBufferedBytesTotal ?? DEFAULT_MAX_BUFFERED_BYTES_TOTAL, log);
  const input = new FairInput(INPUT_BYTES_PER_TURN);
  const context = { runtime, subscriptions: liveState, orchestrations, maxMessageBytes, maxBufferedBytes, maxInflightRequests: options.maxInflightRequests ?? 250_000, input, budget, log };
  const onHttp = routeHttp({
    "GET /healthz": async () => json(200, { status: "ok", entities: runtime.registry.names, orchestrations: [...(orchestrationHost?.orchestrations.keys() ?? [])] }),
    ...browserClientRoutes(),
    ...options.httpRoutes,
  }, staticFiles);
  const stopHubs = () => {
    liveState.close();
    watches?.close();
    budget.close();
    orchestrationHost?.stop();
  };

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
    stopHubs();
    await runtime.close();
    await store.close();
    throw error;
  }
  log.info("listening", { url: `http://${host}:${port}`, transport: transport.name, entities: runtime.registry.names, partitions: store.partitionCount });

  let closing: Promise<void> | undefined;
  let aborting: Promise<void> | undefined;
  let storeClosed: Promise<void> | undefined;
  const closeStore = () => (storeClosed ??= store.close()); // shared by close and abort: the store closes once
  return {
    host,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    transport: transport.name,
    runtime,
    orchestrations: orchestrationHost,
    liveState,
    buffers: () => ({ heldBytes: budget.totalBytes, budgetBytes: budget.maxBytes, closedForBudget: budget.shedCount }),
    close: () =>
      (closing ??= (async () => {
        await transport.close(CloseCode.goingAway, "server shutting down");
        stopHubs();
        await runtime.close();
        await closeStore();
      })()),
    abort: () =>
      (aborting ??= (async () => {
        await runtime.abort();
        await closeStore();
      })()),
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
