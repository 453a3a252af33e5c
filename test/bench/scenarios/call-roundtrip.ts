/** `call-roundtrip`: latency of sequential calls (one in flight) on one connection. */
import { startWorker } from "../children.js";
import { quantileOf } from "../histogram.js";
import { atMost, info, round, type ScenarioResult } from "../report.js";
import { serverCpuFigures, serverCpuMeter, verifyCounters, type Scenario } from "./scenario.js";

const ENTITY = "Counter/rt";

interface Done {
  latencies: number[];
  calls: number;
  lastResult: number;
  elapsedMs: number;
  cpuSeconds: number;
}

export const callRoundtrip: Scenario = {
  name: "call-roundtrip",
  async run({ server, quick }): Promise<ScenarioResult> {
    const worker = startWorker("call-roundtrip", "call-roundtrip load", { url: server.url, entity: ENTITY, warmupCalls: 500, durationMs: quick ? 3_000 : 10_000 });
    try {
      await worker.next("ready", 60_000);
      const cpuMeter = serverCpuMeter(server);
      worker.send({ type: "go" });
      const done = await worker.next<Done & { type: string }>("done", 120_000);
      const serverCpu = serverCpuFigures(cpuMeter());
      const { latencies } = done;
      const count = latencies.length;
      const p50 = quantileOf(latencies, 0.5);
      const p99 = quantileOf(latencies, 0.99);
      const max = latencies[count - 1]!;
      const mean = latencies.reduce((sum, l) => sum + l, 0) / count;
      const rssMb = (await server.peakRssBytes()) / 2 ** 20;

      const failures: string[] = [];
      if (done.lastResult !== done.calls) failures.push(`the last call returned ${done.lastResult}, but ${done.calls} calls were made`);
      failures.push(...(await verifyCounters(server.url, new Map([[ENTITY, done.calls]]))));
      return {
        scenario: "call-roundtrip",
        figures: [
          atMost("p50", p50, "ms", 1),
          atMost("p99", p99, "ms", 3),
          info("max", max, "ms"),
          info("calls/s", count / (done.elapsedMs / 1000), "/s"),
          ...serverCpu.figures,
        ],
        failures,
        json: {
          p50Ms: round(p50, 3),
          p99Ms: round(p99, 3),
          maxMs: round(max, 3),
          meanMs: round(mean, 3),
          calls: count,
          callsPerSec: Math.round(count / (done.elapsedMs / 1000)),
          ...serverCpu.json,
          serverRssMb: round(rssMb, 0),
          verified: failures.length === 0,
        },
        notes: [],
      };
    } finally {
      await worker.stop();
    }
  },
};
