import type { HistoryEvent } from "./history-events.js";

/** Most history events one answer carries. */
export const HISTORY_PAGE_EVENTS = 1_000;
/** About the most bytes (of JSON) one page of history carries; a single larger event goes alone. */
export const HISTORY_PAGE_BYTES = 1024 * 1024;

/** A page of an instance's history, and where the next one starts (absent on the last). */
export interface HistoryPage {
  readonly history: HistoryEvent[];
  readonly historyNext?: number;
}

/**
 * The events from `from` on, up to a page's worth, read with `read(from, limit)` (the store's range
 * read): answers, and what the server reads for them, stay small however long a history grows.
 */
export function readHistoryPage(read: (from: number, limit: number) => HistoryEvent[], from: number, historyLength: number): HistoryPage {
  const start = Math.max(0, Math.floor(from));
  const events = start < historyLength ? read(start, HISTORY_PAGE_EVENTS) : [];
  const page: HistoryEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = JSON.stringify(event).length;
    if (page.length > 0 && bytes + size > HISTORY_PAGE_BYTES) break;
    page.push(event);
    bytes += size;
  }
  const next = start + page.length;
  return next < historyLength ? { history: page, historyNext: next } : { history: page };
}
