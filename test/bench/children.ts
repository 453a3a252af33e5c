/**
 * Every process the bench starts goes through here, so that all of them are killed when the bench
 * exits, fails or is interrupted (no stray servers or load generators).
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const children = new Set<ChildProcess>();
let hooksInstalled = false;

/** Remembers a child so that it is killed when the bench exits; forgets it once it exited. */
export function track(child: ChildProcess): ChildProcess {
  installExitHooks();
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Kills every child still running (by its own pid, nothing broader). */
export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  children.clear();
}

const cleanups: Array<() => void> = [];

/** Runs on exit, after the children are killed (e.g. removing the temporary data directory). */
export function onExit(cleanup: () => void): void {
  installExitHooks();
  cleanups.push(cleanup);
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    killAll();
    for (const cleanup of cleanups.splice(0)) {
      try {
        cleanup();
      } catch {
        // best effort: we are exiting
      }
    }
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      console.error(`bench: ${signal}, stopping`);
      process.exit(130);
    });
  }
}

/** A message a worker sent, by type. */
export type WorkerMessage = { type: string } & Record<string, unknown>;

/** A load process: a TypeScript module under workers/, run with tsx, talking over IPC. */
export class Worker {
  private readonly inbox: WorkerMessage[] = [];
  private readonly waiters: Array<{ type: string; resolve: (message: WorkerMessage) => void }> = [];
  private exited: string | undefined;
  private readonly exitWaiters: Array<(reason: string) => void> = [];

  constructor(readonly name: string, readonly child: ChildProcess) {
    child.on("message", (message: WorkerMessage) => {
      if (message.type === "fatal") {
        this.exited = `${name} failed: ${String(message.error)}`;
        for (const fail of this.exitWaiters.splice(0)) fail(this.exited);
        return;
      }
      const index = this.waiters.findIndex((waiter) => waiter.type === message.type);
      if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(message);
      else this.inbox.push(message);
    });
    child.once("exit", (code, signal) => {
      this.exited ??= `${name} exited (code ${code}, signal ${signal}) before it was done`;
      for (const fail of this.exitWaiters.splice(0)) fail(this.exited);
    });
  }

  send(message: object): void {
    this.child.send(message);
  }

  /** The next message of `type` from this worker; rejects when it exits first or the time runs out. */
  next<T = WorkerMessage>(type: string, timeoutMs: number): Promise<T> {
    const queued = this.inbox.findIndex((message) => message.type === type);
    if (queued >= 0) return Promise.resolve(this.inbox.splice(queued, 1)[0] as T);
    if (this.exited !== undefined) return Promise.reject(new Error(this.exited));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.findIndex((waiter) => waiter.resolve === done);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error(`${this.name}: no "${type}" message within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (message: WorkerMessage) => {
        clearTimeout(timer);
        resolve(message as unknown as T);
      };
      this.waiters.push({ type, resolve: done });
      this.exitWaiters.push((reason) => {
        clearTimeout(timer);
        reject(new Error(reason));
      });
    });
  }

  /** Asks the worker to exit (closing its IPC channel) and kills it if it has not within 5 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (child.connected) child.disconnect();
    else child.kill("SIGKILL");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

let workerProfileDir: string | undefined;

/** Profiles every load process started from now on (node --cpu-prof into `dir`). */
export function profileWorkersInto(dir: string | undefined): void {
  workerProfileDir = dir;
}

/** Starts `workers/<module>.ts` as its own Node process (with tsx), passing `config` as its first message. */
export function startWorker(module: string, name: string, config: object): Worker {
  const file = fileURLToPath(new URL(`./workers/${module}.ts`, import.meta.url));
  const execArgv = ["--import", "tsx"];
  if (workerProfileDir) execArgv.push("--cpu-prof", `--cpu-prof-dir=${workerProfileDir}`);
  const child = track(fork(file, [], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "advanced" }));
  const worker = new Worker(name, child);
  worker.send({ type: "config", ...config });
  return worker;
}
