import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "nats";
import { isListening } from "../integration/support/processes.js";

/** Real nats-server processes on loopback for the cluster tests; each keeps its JetStream store in a temp dir. */
export interface NatsServers {
  /** Client URLs, one per server (`nats://127.0.0.1:PORT`), in start order. */
  readonly urls: string[];
  /** SIGKILLs server `index` and waits for it to exit: a crash, not a shutdown. */
  kill(index: number): Promise<void>;
  /** SIGKILLs server `index` and starts it again on its port, with its store: its clients reconnect. */
  restart(index: number): Promise<void>;
  /** Kills every server still running and removes their store dirs. */
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 20_000;

/** One JetStream-enabled server. */
export async function startNatsServer(): Promise<NatsServers> {
  const [port] = await freePorts(1);
  const servers = new RunningServers(mkdtempSync(join(tmpdir(), "de-nats-")));
  servers.spawn("n0", port!, []);
  await servers.untilListening();
  return servers;
}

/**
 * `size` servers joined into one JetStream cluster by routes. Resolves once the cluster has elected
 * a meta leader and can place a stream with `size` replicas (until then stream creation fails).
 */
export async function startNatsCluster(size: number): Promise<NatsServers> {
  const ports = await freePorts(size * 2);
  const clientPorts = ports.slice(0, size);
  const routePorts = ports.slice(size);
  const routes = routePorts.map((port) => `nats://127.0.0.1:${port}`).join(",");
  const servers = new RunningServers(mkdtempSync(join(tmpdir(), "de-nats-cluster-")));
  for (let index = 0; index < size; index++) {
    servers.spawn(`n${index}`, clientPorts[index]!, ["--cluster_name", "de-test", "--cluster", `nats://127.0.0.1:${routePorts[index]}`, "--routes", routes]);
  }
  try {
    await servers.untilListening();
    await untilStreamPlaceable(servers.urls, size);
  } catch (error) {
    await servers.stop();
    throw error;
  }
  return servers;
}

class RunningServers implements NatsServers {
  readonly urls: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly args: string[][] = [];
  private readonly ports: number[] = [];
  private readonly output: string[] = [];

  constructor(private readonly root: string) {}

  spawn(name: string, port: number, extraArgs: string[]): void {
    const storeDir = join(this.root, name);
    const args = ["-a", "127.0.0.1", "-p", String(port), "-n", name, "-js", "-sd", storeDir, ...extraArgs];
    this.args.push(args);
    this.output.push("");
    this.ports.push(port);
    this.urls.push(`nats://127.0.0.1:${port}`);
    this.children.push(this.startProcess(this.children.length));
  }

  private startProcess(index: number): ChildProcess {
    const child = spawn(natsServerBinary(), this.args[index]!, { stdio: ["ignore", "pipe", "pipe"] });
    // Kept for the error message when a server does not come up.
    const keep = (chunk: Buffer) => (this.output[index] = (this.output[index]! + chunk.toString()).slice(-4_000));
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    return child;
  }

  async restart(index: number): Promise<void> {
    await this.kill(index);
    this.children[index] = this.startProcess(index);
    await this.untilListening();
  }

  async untilListening(): Promise<void> {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (const [index, port] of this.ports.entries()) {
      while (!(await isListening(port))) {
        const child = this.children[index]!;
        if (child.exitCode !== null || Date.now() > deadline) {
          await this.stop();
          throw new Error(`nats-server n${index} did not start: ${this.output[index]}`);
        }
        await delay(20);
      }
    }
  }

  async kill(index: number): Promise<void> {
    const child = this.children[index];
    if (!child) throw new Error(`no nats-server ${index}`);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((_, index) => this.kill(index)));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** nats-server from PATH, else where Debian installs it (/usr/sbin is not on every user's PATH). */
function natsServerBinary(): string {
  if (process.env.NATS_SERVER) return process.env.NATS_SERVER;
  for (const dir of (process.env.PATH ?? "").split(":").concat("/usr/sbin", "/usr/bin")) {
    const candidate = join(dir, "nats-server");
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error("nats-server not found: install it (apt-get install nats-server) or set NATS_SERVER");
}

/** Distinct free loopback ports, all held open together so that none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const listeners = await Promise.all(
    Array.from({ length: count }, () => {
      const server = createServer();
      return new Promise<typeof server>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve(server));
      });
    }),
  );
  const ports = listeners.map((server) => (server.address() as { port: number }).port);
  await Promise.all(listeners.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Retries creating a `replicas`-replica probe stream: it succeeds only once a meta leader exists and every peer is known. */
async function untilStreamPlaceable(urls: string[], replicas: number): Promise<void> {
  const connection = await connect({ servers: urls });
  try {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (;;) {
      try {
        const jsm = await connection.jetstreamManager({ timeout: 2_000 });
        await jsm.streams.add({ name: "readiness_probe", subjects: ["readiness.probe"], num_replicas: replicas });
        await jsm.streams.delete("readiness_probe");
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`the nats cluster formed no JetStream meta leader: ${String(error)}`);
        await delay(100);
      }
    }
  } finally {
    await connection.close();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
