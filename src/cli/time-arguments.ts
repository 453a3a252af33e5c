import { UsageError } from "./parse-args.js";

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const RELATIVE = /^([+-])(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
/** The largest time a JavaScript Date holds (about the year 275760). */
const MAX_DATE_MS = 8.64e15;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * A point in time on the command line (`--at`), as epoch ms: `+30s` or `-1h` (from now: ms, s, m, h or d),
 * digits (epoch milliseconds), or an ISO-8601 date and time (`2026-12-24T18:00:00Z`; without a zone
 * it is local time, as JavaScript reads it).
 */
export function parseTimeArgument(name: string, text: string, nowMs = Date.now()): number {
  const relative = RELATIVE.exec(text);
  let ms = Number.NaN;
  if (relative) ms = nowMs + (relative[1] === "-" ? -1 : 1) * Math.round(Number(relative[2]) * UNITS[relative[3]!]!);
  else if (/^\d+$/.test(text)) ms = Number(text);
  else if (ISO_DATE.test(text)) ms = Date.parse(text);
  if (Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS) return ms;
  throw new UsageError(`--${name} takes a time: +30s, +5m, +2h or +1d from now (-1h: an hour ago), epoch milliseconds, or an ISO date like 2026-12-24T18:00:00Z; got "${text}"`);
}
