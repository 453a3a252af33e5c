import { connect } from "../../../clients/index.js";
import type { Worker } from "../children.js";
import { info, type Figure, type ScenarioResult } from "../report.js";
import type { ServerProcess } from "../server-process.js";

export interface ScenarioContext {
  readonly server: ServerProcess;
  readonly quick: boolean;
  /** What the signal load processes speak: the real client or the raw protocol driver. */
  readonly driver: Driver;
  /** Unacknowledged signals each connection of the signal scenarios keeps in flight. */
  readonly window: number;
  /** Open files a process may have (Node raises its soft limit to the hard one), when known. */
  readonly openFileLimit: number | undefined;
}

export type Driver = "client" | "raw";

export interface Scenario {
  readonly name: string;
  /** The scenario's load can go through either driver (it is run once per driver asked for). */
  readonly usesDriver?: boolean;
  /** The app module its server hosts (a path); default the demo app. */
  readonly app?: string;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}

/** Wall-clock time in ms, comparable with the load processes' clocks. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Waits for one message of `type` from every worker. */
export function all<T>(workers: readonly Worker[], type: string, timeoutMs: number): Promise<Array<T & { type: string }>> {
  return Promise.all(workers.map((worker) => worker.next<T & { type: string }>(type, timeoutMs)));
}

export async function stopWorkers(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.stop()));
}

/** CPU use of the server between two readings, in % of one core. */
export function cpuPercent(cpuBefore: number | undefined, cpuAfter: number | undefined, elapsedMs: number): number | undefined {
  return cpuBefore === undefined || cpuAfter === undefined ? undefined : (100 * (cpuAfter - cpuBefore)) / (elapsedMs / 1000);
}

/** Measures the server's CPU use (whole process and main thread) from now until `stop()`. */
export function serverCpuMeter(server: ServerProcess): () => { processPct: number | undefined; mainThreadPct: number | undefined } {
  const startedAt = now();
  const process0 = server.cpuSeconds();
  const main0 = server.mainThreadCpuSeconds();
  return () => {
    const elapsed = now() - startedAt;
    return { processPct: cpuPercent(process0, server.cpuSeconds(), elapsed), mainThreadPct: cpuPercent(main0, server.mainThreadCpuSeconds(), elapsed) };
  };
}

/** The figures and JSON fields of a server CPU reading. */
export function serverCpuFigures(cpu: { processPct: number | undefined; mainThreadPct: number | undefined }): { figures: Figure[]; json: Record<string, number | undefined> } {
  return {
    figures: [info("server CPU, process", cpu.processPct ?? Number.NaN, "% of a core"), info("server CPU, JS thread", cpu.mainThreadPct ?? Number.NaN, "% of a core")],
    json: {
      serverCpuPct: cpu.processPct === undefined ? undefined : Math.round(cpu.processPct),
      serverJsThreadCpuPct: cpu.mainThreadPct === undefined ? undefined : Math.round(cpu.mainThreadPct),
    },
  };
}

/**
 * Reads every counter back (with the real client, after the load) and compares it with what the load
 * processes saw acknowledged; returns one message per counter that differs (at most 10, then a count).
 */
export async function verifyCounters(url: string, expected: ReadonlyMap<string, number>): Promise<string[]> {
  const client = await connect(url);
  try {
    const ids = [...expected.keys()];
    const values = await Promise.all(ids.map((id) => client.get<number>(id)));
    const wrong: string[] = [];
    ids.forEach((id, i) => {
      const value = values[i] ?? 0;
      if (value !== expected.get(id)) wrong.push(`${id} is ${value}, but ${expected.get(id)} signals to it were acknowledged`);
    });
    if (wrong.length > 10) return [...wrong.slice(0, 10), `… and ${wrong.length - 10} more counters differ`];
    return wrong;
  } finally {
    await client.close();
  }
}
