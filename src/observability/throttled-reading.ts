/** A reading is reused for this many times what it cost, so readings take at most about 1 % of the event loop. */
const REUSE_PER_COST = 100;

/**
 * A reading that costs time in proportion to what it counts (the durable timers, counted in the
 * store; the mailboxes of every cached entity): taken again only once the last one is older than 100
 * times what it took. A count of a few thousand keys (well under a millisecond) is fresh at every
 * scrape; a million (about 60 ms) is reused for a few seconds, so a scrape every second cannot stall
 * the server.
 */
export function throttledReading(read: () => number, now: () => number = () => performance.now()): () => number {
  let value = 0;
  let validUntil = -Infinity;
  return () => {
    const start = now();
    if (start < validUntil) return value;
    value = read();
    const end = now();
    validUntil = end + REUSE_PER_COST * (end - start);
    return value;
  };
}
