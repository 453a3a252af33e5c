/**
 * `loopback-floor`: what this machine's kernel alone allows the live-state figure. Runs
 * `floor/loopback-fanout.c` (built with the system's C compiler) with live-state's shape: the same
 * connections, load processes and rhythm, but plain TCP messages and no Node, JSON or storage. The
 * live-state p99 cannot go below this figure on the same machine; skipped when there is no compiler.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { info, type ScenarioResult } from "../report.js";
import type { Scenario, ScenarioContext } from "./scenario.js";

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL("../floor/loopback-fanout.c", import.meta.url));
const RECEIVER_PROCESSES = 4;
const PORT = 47_391;

interface FloorOutput {
  connections: number;
  deliveries: number;
  expected: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export const loopbackFloor: Scenario = {
  name: "loopback-floor",
  run: runLoopbackFloor,
};

async function runLoopbackFloor({ quick }: ScenarioContext): Promise<ScenarioResult> {
  const connections = quick ? 1_000 : 10_000;
  const seconds = quick ? 3 : 10;
  const dir = mkdtempSync(join(tmpdir(), "durable-entities-floor-"));
  try {
    const binary = join(dir, "loopback-fanout");
    try {
      await run("cc", ["-O2", "-pthread", "-o", binary, SOURCE]);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      return { scenario: "loopback-floor", figures: [], failures: [], json: { skipped: true }, notes: [`skipped: no C compiler to build the floor probe (${reason})`] };
    }
    const { stdout } = await run(binary, [String(connections), String(RECEIVER_PROCESSES), String(seconds), String(PORT)], { timeout: (seconds + 60) * 1000 });
    const floor = JSON.parse(stdout) as FloorOutput;
    const failures = floor.deliveries < floor.expected ? [`the probe delivered ${floor.deliveries} of ${floor.expected} messages`] : [];
    return {
      scenario: "loopback-floor",
      figures: [
        info("p50 latency from send", floor.p50Ms, "ms"),
        info("p99 latency from send", floor.p99Ms, "ms"),
        info("max latency from send", floor.maxMs, "ms"),
        info("connections", floor.connections, ""),
      ],
      failures,
      json: { ...floor, receiverProcesses: RECEIVER_PROCESSES, seconds },
      notes: [`plain TCP over loopback, ${RECEIVER_PROCESSES} receiver processes, a 110-byte message to every connection every 100 ms: the live-state figures cannot beat these on this machine`],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
