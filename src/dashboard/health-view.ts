import type { HealthSample } from "../observability/health-sample.js";
import type { HealthHistoryBody } from "../server/health-routes.js";
import { describeError, formatDuration, h, replace } from "./dom.js";
import { lineChart, niceCeiling } from "./line-chart.js";
import type { DashboardContext, View } from "./view.js";

/** How often the view asks for the samples (the server takes one a second). */
const POLL_MS = 2000;
/** The charts show at least this much time, so the first samples do not fill the width. */
const MIN_SPAN_MS = 60_000;

/** One line of a chart: what it shows of a sample, and where its current value can be read (`data-testid`). */
interface SeriesDefinition {
  readonly label: string;
  readonly testId: string;
  readonly value: (sample: HealthSample) => number | null;
}

interface ChartDefinition {
  readonly title: string;
  /** Said after each current value ("" for a count of things). */
  readonly unit: string;
  readonly series: readonly SeriesDefinition[];
}

const CHARTS: readonly ChartDefinition[] = [
  { title: "Operations", unit: "/s", series: [{ label: "operations", testId: "health-operations", value: (s) => s.operationsPerSecond }] },
  {
    title: "Operation latency",
    unit: "ms",
    series: [
      { label: "p50", testId: "health-operation-p50", value: (s) => s.operationLatencyMs.p50 },
      { label: "p99", testId: "health-operation-p99", value: (s) => s.operationLatencyMs.p99 },
    ],
  },
  {
    title: "Commit latency",
    unit: "ms",
    series: [
      { label: "p50", testId: "health-commit-p50", value: (s) => s.commitLatencyMs.p50 },
      { label: "p99", testId: "health-commit-p99", value: (s) => s.commitLatencyMs.p99 },
    ],
  },
  { title: "Batch size", unit: "operations per commit", series: [{ label: "mean", testId: "health-batch-size", value: (s) => s.batchSize }] },
  { title: "Mailbox depth", unit: "messages", series: [{ label: "depth", testId: "health-mailbox-depth", value: (s) => s.mailboxDepth }] },
  {
    title: "Connections and subscriptions",
    unit: "",
    series: [
      { label: "connections", testId: "health-connections", value: (s) => s.connections },
      { label: "subscriptions", testId: "health-subscriptions", value: (s) => s.subscriptions },
    ],
  },
  {
    title: "Orchestrations",
    unit: "/s",
    series: [
      { label: "started", testId: "health-orchestrations-started", value: (s) => s.orchestrationsStartedPerSecond },
      { label: "finished", testId: "health-orchestrations-finished", value: (s) => s.orchestrationsFinishedPerSecond },
    ],
  },
];

/**
 * The server's last minutes as live charts (from `/api/health`, asked every two seconds while the view
 * is open): each chart with its current values as text, readable by tests through `data-testid`.
 */
export function healthView(context: DashboardContext): View {
  const message = h("p", { class: "meta", "data-testid": "health-message" }, "loading…");
  const charts = CHARTS.map(chartCard);
  const element = h("div", { class: "health" }, h("h2", null, "Health"), message, h("div", { class: "health-charts" }, ...charts.map((chart) => chart.element)));
  let disposed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const showError = (error: unknown) => replace(message, h("span", { class: "error" }, `cannot read the health samples: ${describeError(error)}`));
  const poll = async () => {
    try {
      const response = await fetch("/api/health", { headers: context.token === undefined ? {} : { authorization: `Bearer ${context.token}` }, cache: "no-store" });
      const body = (await response.json()) as Partial<HealthHistoryBody> & { code?: string; message?: string };
      if (disposed) return;
      if (!response.ok || body.samples === undefined || body.intervalMs === undefined) {
        showError({ code: body.code, message: body.message ?? `HTTP ${response.status}` });
      } else {
        const { samples, intervalMs } = body;
        message.textContent = samples.length === 0 ? "collecting the first samples…" : `the last ${formatDuration(samples.at(-1)!.t - samples[0]!.t + intervalMs)}, a sample every ${formatDuration(intervalMs)}`;
        for (const chart of charts) chart.show(samples);
      }
    } catch (error) {
      if (!disposed) showError(error);
    }
    if (!disposed) timer = setTimeout(() => void poll(), POLL_MS); // after the answer: a slow server gets no pile of requests
  };
  void poll();
  return {
    element,
    dispose: () => {
      disposed = true;
      clearTimeout(timer);
    },
  };
}

/** A chart's box: title, current values, the lines, and the scale's top and time span as text. */
function chartCard(definition: ChartDefinition): { element: HTMLElement; show(samples: readonly HealthSample[]): void } {
  const values = definition.series.map((series) => h("span", { class: "health-value", "data-testid": series.testId }, "–"));
  const legend = h(
    "div",
    { class: "health-legend" },
    ...definition.series.map((series, i) => h("span", null, h("span", { class: `swatch series-${i}` }), `${series.label} `, values[i], definition.unit === "" ? null : ` ${definition.unit}`)),
  );
  const plot = h("div", { class: "health-plot" });
  const top = h("span", null);
  const span = h("span", null);
  const element = h("section", { class: "health-chart" }, h("h3", null, definition.title), legend, h("div", { class: "health-scale" }, top), plot, h("div", { class: "health-axis" }, span, h("span", null, "now")));
  return {
    element,
    show: (samples) => {
      const last = samples.at(-1);
      definition.series.forEach((series, i) => {
        const value = last === undefined ? null : series.value(last);
        values[i]!.textContent = value === null ? "–" : formatQuantity(value);
        if (value === null) delete values[i]!.dataset.value;
        else values[i]!.dataset.value = String(value);
      });
      if (last === undefined) return replace(plot);
      const from = last.t - spanOf(samples);
      const yMax = niceCeiling(Math.max(0, ...samples.flatMap((sample) => definition.series.map((series) => series.value(sample) ?? 0))));
      const lines = definition.series.map((series, i) => ({ className: `series-${i}`, points: samples.map((sample) => [sample.t, series.value(sample)] as const) }));
      replace(plot, lineChart(lines, from, last.t, yMax));
      top.textContent = formatQuantity(yMax);
      span.textContent = `−${formatDuration(last.t - from)}`;
    },
  };
}

/** The time the samples cover, at least {@link MIN_SPAN_MS}. */
function spanOf(samples: readonly HealthSample[]): number {
  return samples.length === 0 ? MIN_SPAN_MS : Math.max(MIN_SPAN_MS, samples.at(-1)!.t - samples[0]!.t);
}

/** A value for a label: whole from 100, one decimal from 10, three significant digits below (a latency of microseconds is 0.00213 ms). */
function formatQuantity(value: number): string {
  if (Math.abs(value) >= 100) return String(Math.round(value));
  return String(Number(Math.abs(value) >= 10 ? value.toFixed(1) : value.toPrecision(3)));
}
