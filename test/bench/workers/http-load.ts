/**
 * Load process for the HTTP scenarios: `connections` keep-alive HTTP clients, each with one request
 * in flight at a time (HTTP/1.1 without pipelining), until the run ends. `signal`: POST
 * /entities/Counter/cN?op=add with body 1, round-robin over `targets`, counted when answered 202
 * (the server answers once the signal is durable). `start`: POST /orchestrators/{name}, counted when
 * answered 202 (durable), the instance ids kept for the runner's check.
 */
import { Agent, request } from "node:http";
import { Histogram } from "../histogram.js";
import { cpuSeconds, next, now, runWorker, send, sleepUntil } from "./ipc.js";
import { RawHttpConnection } from "./raw-http.js";

interface Config {
  readonly url: string;
  readonly connections: number;
  readonly kind: "signal" | "start";
  /** Entity ids (signal) or one orchestration name (start). */
  readonly targets: string[];
  readonly driver: "client" | "raw";
  readonly firstConnection: number;
}

interface Go {
  readonly startAt: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

const PREFIX = "/runtime/webhooks/durabletask";

/** Sends one request and resolves with its status and body. */
type Send = (path: string, body: string | undefined) => Promise<{ status: number; body: string }>;

runWorker(async () => {
  const config = await next<Config>("config");
  const senders: Array<{ send: Send; close(): void }> = [];
  if (config.driver === "raw") {
    for (let i = 0; i < config.connections; i++) {
      const connection = await RawHttpConnection.open(config.url);
      senders.push({ send: (path, body) => connection.send(connection.request("POST", path, body)), close: () => connection.close() });
    }
  } else {
    const agent = new Agent({ keepAlive: true, maxSockets: config.connections });
    const { hostname, port } = new URL(config.url);
    const send: Send = (path, body) =>
      new Promise((resolve, reject) => {
        const headers: Record<string, string> = body === undefined ? { "content-length": "0" } : { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) };
        const req = request({ host: hostname, port: Number(port), method: "POST", path, agent, headers }, (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on("error", reject);
        req.end(body);
      });
    for (let i = 0; i < config.connections; i++) senders.push({ send, close: () => agent.destroy() });
  }
  send({ type: "ready" });

  const go = await next<Go>("go");
  const windowStart = go.startAt + go.warmupMs;
  const stopAt = go.startAt + go.durationMs;
  const perTarget = new Array<number>(config.targets.length).fill(0);
  const instanceIds: string[] = [];
  const latency = new Histogram();
  let acked = 0;
  let inWindow = 0;
  let errors = 0;
  let firstError: string | undefined;
  await sleepUntil(go.startAt);
  const cpuBefore = cpuSeconds();
  await Promise.all(
    senders.map(async (sender, lane) => {
      let target = ((config.firstConnection + lane) * 997) % config.targets.length;
      const path = (index: number) => (config.kind === "signal" ? `${PREFIX}/entities/${config.targets[index]!}?op=add` : `${PREFIX}/orchestrators/${config.targets[0]}`);
      const paths = config.targets.map((_, index) => path(index));
      while (now() < stopAt) {
        const index = target;
        target = target + 1 === config.targets.length ? 0 : target + 1;
        const sentAt = now();
        try {
          const answer = await sender.send(paths[index]!, config.kind === "signal" ? "1" : undefined);
          if (answer.status !== 202) throw new Error(`answered ${answer.status}: ${answer.body.slice(0, 200)}`);
          acked++;
          const at = now();
          if (at >= windowStart && at <= stopAt) {
            inWindow++;
            latency.record(at - sentAt);
          }
          if (config.kind === "signal") perTarget[index]!++;
          else instanceIds.push((JSON.parse(answer.body) as { id: string }).id);
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message;
          if (errors > 100) break;
        }
      }
    }),
  );
  const cpu = cpuSeconds() - cpuBefore;
  send({ type: "done", acked, inWindow, perTarget, instanceIds, errors, firstError, cpuSeconds: cpu, latency: latency.toJSON() });
  for (const sender of senders) sender.close();
});
