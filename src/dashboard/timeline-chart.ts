import type { HistoryEvent } from "../../clients/index.js";
import { formatDuration, h } from "./dom.js";
import { buildTimeline, type TimelineBar } from "./timeline-model.js";

/**
 * An instance's history as a chart: one row per task (activity, timer, sub-orchestration, entity call
 * or lock; signals and events as points), a bar from when it was scheduled to when it ended, failures
 * in red with their message; a task still running reaches `now`, striped.
 */
export function timelineChart(events: readonly HistoryEvent[], now: number): HTMLElement {
  const timeline = buildTimeline(events, now);
  const span = Math.max(1, timeline.end - timeline.start);
  const at = (time: number) => `${(((time - timeline.start) / span) * 100).toFixed(3)}%`;
  const row = (bar: TimelineBar) => {
    const width = Math.max(0, ((bar.end - bar.start) / span) * 100);
    const title = `${bar.label}${bar.taskId === undefined ? "" : ` #${bar.taskId}`}: ${formatDuration(bar.end - bar.start)}${bar.running ? ", running" : ""}${bar.failure ? ` — failed: ${bar.failure.message}` : ""}`;
    return h(
      "div",
      { class: "timeline-row", "data-testid": "timeline-bar", "data-kind": bar.kind, "data-label": bar.label, "data-failed": bar.failure ? "true" : undefined, "data-running": bar.running ? "true" : undefined },
      h("div", { class: "timeline-label", title }, h("span", { class: `kind kind-${bar.kind}` }, bar.kind), " ", bar.label, bar.failure ? h("span", { class: "failed-mark", title: bar.failure.message }, " ✕") : null),
      h(
        "div",
        { class: "timeline-track" },
        h("div", {
          class: `timeline-bar kind-${bar.kind}${bar.failure ? " failed" : ""}${bar.running ? " running" : ""}${width === 0 ? " point" : ""}`,
          style: `left:${at(bar.start)};width:${width.toFixed(3)}%`,
          title,
        }),
      ),
    );
  };
  const failures = timeline.bars.filter((bar) => bar.failure !== undefined);
  return h(
    "div",
    { class: "timeline", "data-testid": "timeline" },
    h("div", { class: "timeline-axis" }, h("span", null, "0"), h("span", null, formatDuration(span))),
    timeline.bars.length === 0 ? h("p", { class: "meta" }, "no tasks yet") : null,
    ...timeline.bars.map(row),
    failures.length === 0
      ? null
      : h("ul", { class: "timeline-failures", "data-testid": "timeline-failures" }, ...failures.map((bar) => h("li", null, `${bar.kind} ${bar.label}${bar.taskId === undefined ? "" : ` #${bar.taskId}`} failed: ${bar.failure!.errorType}: ${bar.failure!.message}`))),
  );
}
