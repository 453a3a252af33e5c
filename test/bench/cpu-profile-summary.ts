/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went: self time by function
 * (name + file + line) and by area (this project's src/, protocol/, each node_modules package,
 * Node internals, GC, idle).
 * Usage: node --import tsx test/bench/cpu-profile-summary.ts <file.cpuprofile> [top=25] [fromUs toUs]
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
  /** µs on the monotonic clock (process.hrtime's). */
  readonly startTime: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly functions: Array<{ name: string; where: string; area: string; selfMs: number }>;
  readonly areas: Array<{ area: string; selfMs: number }>;
}

/**
 * Self time by function and area; with `windowUs` (monotonic µs, see `monotonicUs` in report.ts),
 * only the samples taken within that window count.
 */
export function summarizeProfile(file: string, windowUs?: readonly [fromUs: number, toUs: number]): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  const [fromUs, toUs] = windowUs ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  let at = profile.startTime;
  // timeDeltas[i] is the time between sample i-1 and sample i; attribute it to sample i's node.
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromUs || at > toUs) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  const functions = new Map<string, { name: string; where: string; area: string; selfMs: number }>();
  const areas = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const ms = us / 1000;
    totalMs += ms;
    if (frame.functionName === "(idle)") idleMs += ms;
    const area = areaOf(frame.url, frame.functionName);
    // tsx emits each module on one line, so line 1 says nothing: then only the file is shown.
    const where = frame.url ? (frame.lineNumber > 0 ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : shortUrl(frame.url)) : "";
    const name = frame.functionName || "(anonymous)";
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, where, area, selfMs: 0 };
    entry.selfMs += ms;
    functions.set(key, entry);
    areas.set(area, (areas.get(area) ?? 0) + ms);
  }
  return {
    totalMs,
    idleMs,
    functions: [...functions.values()].sort((a, b) => b.selfMs - a.selfMs),
    areas: [...areas].map(([area, selfMs]) => ({ area, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

export function printProfileSummary(summary: ProfileSummary, top = 25): void {
  const busy = summary.totalMs - summary.idleMs;
  const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1)}%`.padStart(6);
  console.log(`profile: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (${((100 * busy) / summary.totalMs).toFixed(0)}%), percentages are of busy time`);
  console.log("self time by area:");
  for (const area of summary.areas.filter((a) => a.area !== "(idle)").slice(0, 15)) {
    console.log(`  ${pct(area.selfMs)} ${area.selfMs.toFixed(0).padStart(7)} ms  ${area.area}`);
  }
  console.log(`top ${top} functions by self time:`);
  for (const fn of summary.functions.filter((f) => f.name !== "(idle)").slice(0, top)) {
    console.log(`  ${pct(fn.selfMs)} ${fn.selfMs.toFixed(0).padStart(7)} ms  ${fn.name}  ${fn.where}`);
  }
}

function shortUrl(url: string): string {
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf("node_modules/");
  if (modules >= 0) return path.slice(modules + "node_modules/".length);
  const root = path.indexOf("/main/");
  return root >= 0 ? path.slice(root + "/main/".length) : path;
}

function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native / builtins)";
  if (url.startsWith("node:")) return "node internals";
  const short = shortUrl(url);
  if (url.includes("node_modules/")) {
    const parts = short.split("/");
    return `node_modules/${parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const dir = short.split("/").slice(0, short.startsWith("src/") ? 3 : 1).join("/");
  return dir.replace(/\.ts$/, "");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top, fromUs, toUs] = process.argv.slice(2);
  if (!file) {
    console.error("usage: cpu-profile-summary.ts <file.cpuprofile> [top] [fromUs toUs]");
    process.exit(2);
  }
  const window = fromUs !== undefined && toUs !== undefined ? ([Number(fromUs), Number(toUs)] as const) : undefined;
  printProfileSummary(summarizeProfile(file, window), Number(top ?? 25));
}
