import type { FailureDetails, InstanceStatus } from "../../clients/index.js";

/** A JSON value on one line, cut to `max` characters. */
export function shortJson(value: unknown, max = 80): string {
  const text = value === undefined ? "undefined" : (JSON.stringify(value) ?? String(value));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** `ErrorType: message`, with the failure it wraps and the task's name, on one line. */
export function formatFailure(failure: FailureDetails, max = 160): string {
  let text = `${failure.errorType}: ${failure.message}`;
  if (failure.taskName !== undefined) text += ` (task ${failure.taskName})`;
  if (failure.inner !== undefined) text += ` <- ${failure.inner.errorType}: ${failure.inner.message}`;
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** An instance's status as labelled lines (what `status` prints without --json). */
export function formatStatus(status: InstanceStatus): string {
  const rows: Array<[string, string]> = [
    ["instance", status.instanceId],
    ["name", status.name],
    ["status", status.runtimeStatus],
    ["created", status.createdTime],
    ["updated", status.lastUpdatedTime],
    ["input", shortJson(status.input, 200)],
  ];
  if (status.runtimeStatus === "Completed") rows.push(["output", shortJson(status.output, 200)]);
  if (status.runtimeStatus === "Terminated") rows.push(["reason", shortJson(status.output, 200)]);
  if (status.failureDetails !== undefined) rows.push(["failure", formatFailure(status.failureDetails)]);
  if (status.customStatus !== null && status.customStatus !== undefined) rows.push(["custom", shortJson(status.customStatus, 200)]);
  if (status.parentInstanceId !== undefined) rows.push(["parent", status.parentInstanceId]);
  return rows.map(([label, value]) => `${label.padEnd(9)}${value}`).join("\n");
}

/** Instances as a table: id, name, status, created, last updated. */
export function formatInstanceTable(instances: readonly InstanceStatus[]): string {
  const header = ["INSTANCE", "NAME", "STATUS", "CREATED", "UPDATED"];
  const rows = instances.map((s) => [s.instanceId, s.name, s.runtimeStatus, s.createdTime, s.lastUpdatedTime]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows].map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ")).join("\n");
}
