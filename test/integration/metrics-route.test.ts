import { Gauge } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { captureLog } from "../unit/support/capture-log.js";
import { startTestServer, tempDataDir, TRANSPORTS } from "./support/test-server.js";

/** How `GET /metrics` sits among the server's other routes. */

describe.each(TRANSPORTS)("GET /metrics among the routes (%s)", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /**
   * A scrape that throws (a metric whose collect fails: an embedder's own gauge in
   * `RunningServer.metrics.registry`) is answered like any route that throws: logged with a request id
   * that its 500 answer names (README, Logs).
   */
  it("a scrape that fails is logged with a request id that its 500 answer names", async () => {
    const log = captureLog();
    const server = await startTestServer(transport, { log });
    cleanups.push(() => server.stop());
    new Gauge({
      name: "app_queue_depth",
      help: "the embedding app's own gauge",
      registers: [server.metrics.registry],
      collect() {
        throw new Error("queue backend down");
      },
    });
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(500);
    const body = (await response.json()) as { code: string; message: string };
    expect(body.message).toMatch(/requestId \S+/);
    const requestId = /requestId (\S+?)\)?$/.exec(body.message)?.[1];
    expect(log.lines).toContainEqual(expect.objectContaining({ level: "error", fields: expect.objectContaining({ requestId, error: "queue backend down" }) }));
  });

  /**
   * The server answers `/metrics`, `/api/health`, `/healthz` and Durable Functions' HTTP API itself, so
   * an app's route there could never run: startServer refuses it, naming it, instead of leaving it dead
   * without a word.
   */
  it.each(["GET /metrics", "GET /api/health", "GET /healthz", "POST /metrics", "GET /runtime/webhooks/durabletask/orders"])("refuses to start with an app route %s on the server's own path", async (key) => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const route = async () => ({ status: 200, headers: { "content-type": "text/plain" }, body: "# the app's own registry\napp_requests_total 3\n" });
    const starting = startTestServer(transport, { dataDir: dir.path, httpRoutes: { [key]: route } });
    await expect(starting).rejects.toThrow(`httpRoutes["${key}"] cannot be served`);
  });
});
