/**
 * How long a thread was ready to run but waited for a core, from `/proc/<pid>/task/<tid>/schedstat`
 * (its second field, in ns). On a machine shared with other work, this separates "the server was
 * busy" from "the server waited for a CPU": a CPU profile counts both as busy.
 */
import { readFileSync } from "node:fs";

/** Seconds the thread `tid` of `pid` (the main thread when omitted) has spent waiting on a run queue; undefined where /proc has no schedstat. */
export function runQueueWaitSecondsOf(pid: number, tid: number = pid): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").trim().split(/\s+/);
    const waitNs = Number(fields[1]);
    return Number.isFinite(waitNs) ? waitNs / 1e9 : undefined;
  } catch {
    return undefined;
  }
}

/** Measures, from now until the returned function is called, the % of wall time the thread waited for a core. */
export function runQueueWaitMeter(pid: number, tid: number = pid): () => number | undefined {
  const startedAt = performance.now();
  const before = runQueueWaitSecondsOf(pid, tid);
  return () => {
    const after = runQueueWaitSecondsOf(pid, tid);
    if (before === undefined || after === undefined) return undefined;
    return (100 * (after - before)) / ((performance.now() - startedAt) / 1000);
  };
}
