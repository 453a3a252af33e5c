/**
 * The server under test in its own process (server-entry.ts), with what the bench reads from the
 * outside: its resident memory (peak and sampled) and the CPU time it used.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { track } from "./children.js";

export type TransportName = "ws" | "uws";

export interface ServerProcessOptions {
  readonly dataDir: string;
  readonly transport: TransportName;
  /** The app module the server hosts (a path); default the demo app. */
  readonly app?: string;
  /** Write a V8 CPU profile of the server into this directory (node --cpu-prof). */
  readonly cpuProfileDir?: string;
}

/**
 * CPU seconds (user + system) a process has used (all its threads), or one of its threads when `tid`
 * is given (the main thread's tid is the pid), read from /proc; undefined off Linux.
 */
export function cpuSecondsOf(pid: number, tid?: number): number | undefined {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[11] and fields[12] are utime and stime (fields 14 and 15 of proc(5)), in clock ticks (100 Hz on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

export class ServerProcess {
  /** Largest RSS seen, in bytes: the kernel's high-water mark when /proc has it, else the largest sample. */
  private peakRss = 0;
  private sampler: NodeJS.Timeout | undefined;

  /** Resolves, with a description, when the server process exits (for whatever reason). */
  readonly exited: Promise<string>;

  private constructor(
    readonly child: ChildProcess,
    readonly pid: number,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(`exited (code ${child.exitCode}, signal ${child.signalCode})`);
      else child.once("exit", (code, signal) => resolve(`exited (code ${code}, signal ${signal})`));
    });
  }

  static async start(options: ServerProcessOptions): Promise<ServerProcess> {
    const entry = fileURLToPath(new URL("./server-entry.ts", import.meta.url));
    const execArgv = ["--import", "tsx"];
    if (options.cpuProfileDir) execArgv.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`);
    const child = track(
      spawn(process.execPath, [...execArgv, entry, options.dataDir, options.transport, ...(options.app ? [options.app] : [])], {
        stdio: ["ignore", "pipe", "inherit", "ipc"],
        env: { ...process.env, DURABLE_ENTITIES_LOG: process.env.DURABLE_ENTITIES_LOG ?? "warn" },
      }),
    );
    const line = await new Promise<string>((resolve, reject) => {
      let buffered = "";
      const timer = setTimeout(() => reject(new Error("the server did not report its port within 30 s")), 30_000);
      child.stdout!.on("data", (chunk: Buffer) => {
        buffered += chunk.toString("utf8");
        const newline = buffered.indexOf("\n");
        if (newline >= 0) {
          clearTimeout(timer);
          resolve(buffered.slice(0, newline));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the server exited (code ${code}) before it listened`));
      });
    });
    const { port, pid } = JSON.parse(line) as { port: number; pid: number };
    const server = new ServerProcess(child, pid, `http://127.0.0.1:${port}`);
    server.sampler = setInterval(() => void server.rss(), 250);
    return server;
  }

  /** The server's resident memory now, in bytes (also updates the peak). */
  async rss(): Promise<number> {
    const fromProc = readProcStatus(this.pid);
    if (fromProc) {
      this.peakRss = Math.max(this.peakRss, fromProc.hwm, fromProc.rss);
      return fromProc.rss;
    }
    const rss = await new Promise<number>((resolve) => {
      const onMessage = (message: { type?: string; rss?: number }) => {
        if (message.type !== "rss") return;
        this.child.off("message", onMessage);
        resolve(message.rss ?? 0);
      };
      this.child.on("message", onMessage);
      this.child.send({ type: "rss" });
    });
    this.peakRss = Math.max(this.peakRss, rss);
    return rss;
  }

  /** Peak RSS so far, in bytes. */
  async peakRssBytes(): Promise<number> {
    await this.rss();
    return this.peakRss;
  }

  /** CPU seconds of the whole server process (JS thread, LMDB writer, libuv pool, GC helpers). */
  cpuSeconds(): number | undefined {
    return cpuSecondsOf(this.pid);
  }

  /** CPU seconds of the server's main (JavaScript) thread alone: at 100 % of a core it is the bottleneck. */
  mainThreadCpuSeconds(): number | undefined {
    return cpuSecondsOf(this.pid, this.pid);
  }

  /** Asks the server to close cleanly (it flushes and, when profiling, writes its profile); kills it after 15 s. */
  async stop(): Promise<void> {
    clearInterval(this.sampler);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.send({ type: "stop" });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

function readProcStatus(pid: number): { rss: number; hwm: number } | undefined {
  const path = `/proc/${pid}/status`;
  if (!existsSync(path)) return undefined;
  try {
    const status = readFileSync(path, "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
  } catch {
    return undefined;
  }
}
