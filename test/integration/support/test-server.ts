import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { startServer, type RunningServer, type ServerOptions } from "../../../src/server/index.js";
import * as demoApp from "../../../src/demo/app.js";
import { createLogger } from "../../../src/log.js";

export const TRANSPORTS = ["uws", "ws"] as const;

/** A temporary data directory, removed by `cleanup()`. */
export function tempDataDir(): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), "durable-entities-test-"));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Starts a real server on 127.0.0.1 and a free port, on a temporary data directory (demo app by default). */
export async function startTestServer(
  transport: "ws" | "uws",
  options: Partial<ServerOptions> = {},
): Promise<RunningServer & { dataDir: string; stop(): Promise<void> }> {
  const dir = options.dataDir === undefined ? tempDataDir() : undefined;
  const dataDir = options.dataDir ?? dir!.path;
  const cluster = conformanceCluster(dataDir);
  const server = await startServer({ app: demoApp, host: "127.0.0.1", port: 0, transport, log: createLogger("warn"), ...(cluster ? { cluster } : {}), ...options, dataDir });
  return Object.assign(server, {
    dataDir,
    stop: async () => {
      await server.close();
      dir?.cleanup();
    },
  });
}

/**
 * The cluster conformance run (`vitest.cluster.config.ts`) sets DE_TEST_CLUSTER to a NATS URL: every
 * test server is then a one-node cluster. Its cluster name follows from its data directory, so a
 * server restarted on the same directory finds the same partition logs, and servers of other tests
 * never share them.
 */
export function conformanceCluster(dataDir: string): { servers: string[]; node: string; name: string; leaseMs: number } | undefined {
  const url = process.env.DE_TEST_CLUSTER;
  if (url === undefined || url === "") return undefined;
  return { servers: [url], node: "conformance", name: `t${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 15)}`, leaseMs: 2_000 };
}

/** `conformanceCluster` as `serve` arguments. */
export function conformanceClusterArgs(dataDir: string): string[] {
  const cluster = conformanceCluster(dataDir);
  return cluster ? ["--cluster", cluster.servers.join(","), "--node", cluster.node, "--cluster-name", cluster.name, "--lease-ms", String(cluster.leaseMs)] : [];
}

/** A port that was free a moment ago (for tests that restart a server on the same port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
