import { resolve } from "node:path";
import { canonicalTaskHubName, TASK_HUB_NAME_RULE } from "../../protocol/index.js";
import { createLogger, errorMessage, isLogLevel, levelFromEnvironment, LOG_LEVELS, writeOrDrop, type Logger, type LogLevel } from "../log.js";
import { accessHooksOf, AppHooksPolicy, TokenPolicy, type AccessPolicy } from "../security/index.js";
import { CLUSTER_NAME } from "../cluster/index.js";
import { startServer, type ClusterServerOptions, type RunningServer, type TransportName } from "../server/index.js";
import * as demoApp from "../demo/app.js";
import { demoRoutes } from "../demo/demo-routes.js";
import { watchDataDirCreation } from "./data-dir-cleanup.js";
import { createFatalExit } from "./fatal-exit.js";
import { loadApp } from "./load-app.js";
import { integerOption, listOption, rejectUnknownOptions, stringOption, UsageError, type ParsedArgs } from "./parse-args.js";

/** `durable-entities serve`: runs until SIGINT/SIGTERM, then finishes queued work and makes it durable. */
export async function serveCommand(args: ParsedArgs): Promise<void> {
  rejectUnknownOptions(args, "serve", ["app", "data", "port", "host", "transport", "max-message-bytes", "partitions", "max-cached-entities", "max-buffered-bytes-total", "max-concurrent-activities", "activity-timeout", "max-history-events", "max-failures-per-type", "static", "hub", "max-hubs", "auth", "insecure", "allow-origin", "tls-cert", "tls-key", "heartbeat-interval", "max-connections", "rate-limit", "max-state-bytes", "log-level", "cluster", "node", "replicas", "lease-ms", "cluster-name", "snapshot-entries"]);
  const appFile = stringOption(args, "app");
  const hub = stringOption(args, "hub");
  if (hub !== undefined && canonicalTaskHubName(hub) === undefined) throw new UsageError(`--hub must be ${TASK_HUB_NAME_RULE}, got "${hub}"`);
  const transport = stringOption(args, "transport");
  if (transport !== undefined && transport !== "ws" && transport !== "uws") throw new UsageError(`--transport must be ws or uws, got "${transport}"`);
  const cluster = clusterOptions(args);
  const log = createLogger(logLevelOption(args));
  const app = appFile ? await loadApp(appFile) : demoApp;
  const access = await accessPolicy(args, app, log);
  let server: RunningServer | undefined;
  // An uncaught exception, an unhandled rejection or a failed commit: stop work, let the store settle, exit 1.
  const fatalExit = createFatalExit({
    log,
    settle: async () => {
      if (server === undefined) throw new Error("the server had not started");
      await server.abort();
    },
  });
  fatalExit.install();
  const dataDir = resolve(stringOption(args, "data") ?? "data");
  const staticDir = stringOption(args, "static");
  const created = watchDataDirCreation(dataDir);
  server = await startServer({
    app,
    dataDir,
    staticDir,
    hub,
    access,
    tls: tlsFiles(args),
    heartbeatSeconds: integerOption(args, "heartbeat-interval", 1, 3600),
    maxConnections: integerOption(args, "max-connections", 1, 10_000_000),
    rateLimit: integerOption(args, "rate-limit", 1, 100_000_000),
    maxStateBytes: integerOption(args, "max-state-bytes", 1024, 1024 * 1024 * 1024),
    ...(cluster ? { cluster } : {}),
    insecure: args.options.insecure === true,
    allowedOrigins: listOption(args, "allow-origin"),
    maxHubs: integerOption(args, "max-hubs", 1, 1000),
    host: stringOption(args, "host") ?? "127.0.0.1",
    port: integerOption(args, "port", 0, 65535) ?? 7071,
    transport: transport as TransportName | undefined,
    maxMessageBytes: integerOption(args, "max-message-bytes", 1024, 256 * 1024 * 1024),
    partitions: integerOption(args, "partitions", 1, 4096),
    maxCachedEntities: integerOption(args, "max-cached-entities", 1, 100_000_000),
    maxFailuresPerType: integerOption(args, "max-failures-per-type", 0, 100_000),
    maxBufferedBytesTotal: integerOption(args, "max-buffered-bytes-total", 1024 * 1024, 2 ** 45),
    orchestration: orchestrationOptions(args),
    httpRoutes: demoRoutes({ demoPage: appFile === undefined }),
    log,
    onFatal: (error) => fatalExit.fatal(error, "store failed"),
  }).catch((error: unknown) => {
    created.undo(); // a failed start leaves no data directory behind
    throw error;
  });
  const running = server;
  const stop = (signal: string) => {
    if (fatalExit.exiting) {
      log.warn("signal during a fatal exit; killing the process", { signal });
      fatalExit.kill();
    }
    log.info("stopping", { signal });
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error("stop failed", { error: errorMessage(error) });
        process.exit(1);
      },
    );
  };
  if (access?.reload) {
    process.on("SIGHUP", () => {
      running.reloadAccess().then(
        () => log.info("tokens file reloaded", { file: stringOption(args, "auth") }),
        (error: unknown) => log.error("tokens file not reloaded; the tokens in force stay", { error: errorMessage(error) }),
      );
    });
  }
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  // The banner is for a person (and for scripts that wait for it, and may send SIGTERM at once: so it comes
  // after the handlers); a stdout whose reader is gone (`serve | true`, a closed terminal) drops it: it must
  // never take the server down.
  writeOrDrop(process.stdout, `durable-entities serving ${server.url} (ws endpoint ${server.url.replace(/^http/, "ws")}/ws, transport ${server.transport})\n`);
  writeOrDrop(process.stdout, `dashboard: ${server.url}${staticDir === undefined ? "/" : "/dashboard/"}\n`);
  if (appFile === undefined) writeOrDrop(process.stdout, `demo page: ${server.url}/demo\n`);
}

/** Who may do what: a tokens file (`--auth`), or the app module's own authenticate and authorize hooks; neither is open access. */
async function accessPolicy(args: ParsedArgs, app: Record<string, unknown>, log: Logger): Promise<AccessPolicy | undefined> {
  const file = stringOption(args, "auth");
  const hooks = accessHooksOf(app);
  if (file !== undefined && hooks !== undefined) throw new UsageError("the app exports authenticate and authorize hooks and --auth gives a tokens file: use one of them");
  if (file !== undefined) return TokenPolicy.fromFile(resolve(file));
  return hooks === undefined ? undefined : new AppHooksPolicy(hooks, log);
}

/** `--cluster URLS --node NAME [--replicas N] [--lease-ms N] [--cluster-name NAME] [--snapshot-entries N]`: cluster mode, or undefined. */
function clusterOptions(args: ParsedArgs): ClusterServerOptions | undefined {
  const servers = listOption(args, "cluster");
  const node = stringOption(args, "node");
  const replicas = integerOption(args, "replicas", 1, 5);
  const leaseMs = integerOption(args, "lease-ms", 500, 600_000);
  const name = stringOption(args, "cluster-name");
  const snapshotEntries = integerOption(args, "snapshot-entries", 1, 100_000_000);
  if (servers.length === 0) {
    if (node !== undefined || replicas !== undefined || leaseMs !== undefined || name !== undefined || snapshotEntries !== undefined) throw new UsageError("--node, --replicas, --lease-ms, --cluster-name and --snapshot-entries are for cluster mode: give --cluster nats://HOST:PORT too");
    return undefined;
  }
  for (const server of servers) {
    if (!/^(nats|tls):\/\/[^\s/]+$/.test(server)) throw new UsageError(`--cluster takes NATS URLs (nats://HOST:PORT), got "${server}"`);
  }
  if (node === undefined) throw new UsageError("--cluster needs --node NAME: a name for this node, unique in the cluster (letters, digits, - and _)");
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(node)) throw new UsageError(`--node must be 1 to 64 letters, digits, - or _, got "${node}"`);
  if (name !== undefined && !CLUSTER_NAME.test(name)) throw new UsageError(`--cluster-name must be 1 to 16 lowercase letters and digits, starting with a letter, got "${name}"`);
  return { servers, node, ...(replicas === undefined ? {} : { replicas }), ...(leaseMs === undefined ? {} : { leaseMs }), ...(name === undefined ? {} : { name }), ...(snapshotEntries === undefined ? {} : { snapshotEntries }) };
}

/** `--log-level` (absent: the level `DURABLE_ENTITIES_LOG` names, else info). */
function logLevelOption(args: ParsedArgs): LogLevel {
  const level = stringOption(args, "log-level");
  if (level === undefined) return levelFromEnvironment();
  if (!isLogLevel(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got "${level}"`);
  return level;
}

/** `--tls-cert` and `--tls-key`, both or neither. */
function tlsFiles(args: ParsedArgs): { certFile: string; keyFile: string } | undefined {
  const cert = stringOption(args, "tls-cert");
  const key = stringOption(args, "tls-key");
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) throw new UsageError("--tls-cert and --tls-key go together: give the certificate and its private key (PEM files)");
  return { certFile: resolve(cert), keyFile: resolve(key) };
}

/** Orchestration tuning from the command line (absent options keep their defaults). */
function orchestrationOptions(args: ParsedArgs) {
  const maxConcurrentActivities = integerOption(args, "max-concurrent-activities", 1, 100_000);
  const maxHistoryEvents = integerOption(args, "max-history-events", 100, 100_000_000);
  const activityTimeoutSeconds = integerOption(args, "activity-timeout", 1, 365 * 24 * 3600);
  return {
    ...(maxConcurrentActivities === undefined ? {} : { maxConcurrentActivities }),
    ...(activityTimeoutSeconds === undefined ? {} : { activityTimeoutMs: activityTimeoutSeconds * 1000 }),
    ...(maxHistoryEvents === undefined ? {} : { limits: { maxHistoryEvents } }),
  };
}
