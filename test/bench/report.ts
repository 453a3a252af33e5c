/** What a scenario measured, and how it is printed: a table for people, one JSON line per scenario. */

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** e.g. ">= 200000"; absent for figures that are informative only. */
  readonly target?: string;
  readonly met?: boolean;
}

export interface ScenarioResult {
  readonly scenario: string;
  /** Which variant ran (e.g. the load driver), shown beside the scenario's name. */
  readonly variant?: string;
  readonly figures: Figure[];
  /** Correctness checks; a failed one fails the bench. */
  readonly failures: string[];
  /** The JSON line (scenario, target and met are added). */
  readonly json: Record<string, unknown>;
  readonly notes: string[];
  /**
   * The measured part of the run on the monotonic clock (`process.hrtime`, in µs, the clock V8's CPU
   * profiles use): with `--profile`, the server's profile is summarised over this window only (not its
   * startup or warm-up). Absent: the whole profile.
   */
  readonly profileWindowUs?: readonly [fromUs: number, toUs: number];
}

/** The monotonic clock in µs, comparable with CPU profile timestamps of any process on this machine. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function atLeast(name: string, value: number, unit: string, target: number): Figure {
  return { name, value, unit, target: `>= ${formatNumber(target)}`, met: value >= target };
}

export function atMost(name: string, value: number, unit: string, target: number): Figure {
  return { name, value, unit, target: `<= ${formatNumber(target)}`, met: value <= target };
}

export function info(name: string, value: number, unit: string): Figure {
  return { name, value, unit };
}

export function targetsMet(result: ScenarioResult): boolean {
  return result.failures.length === 0 && result.figures.every((figure) => figure.met !== false);
}

export function jsonLine(result: ScenarioResult): string {
  const targets = Object.fromEntries(result.figures.filter((f) => f.target).map((f) => [f.name, f.target]));
  return JSON.stringify({ scenario: result.scenario, ...result.json, target: targets, met: targetsMet(result), failures: result.failures });
}

export function printTable(results: readonly ScenarioResult[]): void {
  const rows: string[][] = [["scenario", "figure", "value", "target", "result"]];
  for (const result of results) {
    for (const figure of result.figures) {
      rows.push([
        label(result),
        figure.name,
        `${formatNumber(figure.value)} ${figure.unit}`.trim(),
        figure.target === undefined ? "" : `${figure.target} ${figure.unit}`.trim(),
        figure.met === undefined ? "" : figure.met ? "pass" : "MISS",
      ]);
    }
    for (const failure of result.failures) rows.push([label(result), "correctness", "FAILED", "", failure]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd();
  console.log(line(rows[0]!));
  console.log(widths.map((width) => "-".repeat(width)).join("  "));
  let previous = "";
  for (const row of rows.slice(1)) {
    console.log(line(row[0] === previous ? ["", ...row.slice(1)] : row));
    previous = row[0]!;
  }
}

export function label(result: ScenarioResult): string {
  return result.variant === undefined ? result.scenario : `${result.scenario} [${result.variant}]`;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(2);
}

/** Rounds for the JSON line. */
export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
