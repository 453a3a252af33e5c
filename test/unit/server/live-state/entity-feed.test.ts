import { describe, expect, it } from "vitest";
import { EntityFeed } from "../../../../src/server/live-state/entity-feed.js";

/** A feed that recorded the given versions, each with message `m<version>`. */
function feedWith(ringSize: number, versions: number[]): EntityFeed {
  const feed = new EntityFeed("Doc/x", ringSize);
  for (const version of versions) expect(feed.record(version, { v: version }, `m${version}`)).toBe(true);
  return feed;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("EntityFeed.changesSince", () => {
  it("knows nothing before a read or a change", () => {
    const feed = new EntityFeed("Doc/x", 8);
    expect(feed.known).toBe(false);
    expect(feed.changesSince(0)).toBeUndefined();
  });

  it("replays a contiguous ring from any version it still covers", () => {
    const feed = feedWith(8, range(1, 5));
    expect(feed.changesSince(0)).toEqual(["m1", "m2", "m3", "m4", "m5"]);
    expect(feed.changesSince(3)).toEqual(["m4", "m5"]);
    expect(feed.changesSince(4)).toEqual(["m5"]);
    expect([feed.version, feed.state]).toEqual([5, { v: 5 }]);
  });

  it("answers [] when the subscriber is at the current version", () => {
    expect(feedWith(8, range(1, 3)).changesSince(3)).toEqual([]);
    const learned = new EntityFeed("Doc/x", 8);
    learned.learn(9, "s");
    expect(learned.changesSince(9)).toEqual([]);
  });

  it("answers undefined for a version newer than the feed's", () => {
    expect(feedWith(8, range(1, 3)).changesSince(4)).toBeUndefined();
  });

  it("drops the ring at a gap and replays only from after it", () => {
    const feed = feedWith(8, [1, 2, 3, 5, 6]);
    expect(feed.changesSince(4)).toEqual(["m5", "m6"]);
    expect(feed.changesSince(5)).toEqual(["m6"]);
    expect(feed.changesSince(3)).toBeUndefined();
    expect(feed.changesSince(0)).toBeUndefined();
  });

  it("keeps only the last ringSize changes", () => {
    const feed = feedWith(3, range(1, 10));
    expect(feed.changesSince(7)).toEqual(["m8", "m9", "m10"]);
    expect(feed.changesSince(9)).toEqual(["m10"]);
    expect(feed.changesSince(6)).toBeUndefined();
    expect(feed.changesSince(0)).toBeUndefined();
  });

  it("after a read (learn), replays only changes recorded after it", () => {
    const feed = new EntityFeed("Doc/x", 8);
    feed.learn(4, { v: 4 });
    expect(feed.changesSince(3)).toBeUndefined();
    feed.record(5, { v: 5 }, "m5");
    feed.record(6, { v: 6 }, "m6");
    expect(feed.changesSince(4)).toEqual(["m5", "m6"]);
    expect(feed.changesSince(3)).toBeUndefined();
  });
});

describe("EntityFeed.record and learn", () => {
  it("ignore what is not newer than the feed", () => {
    const feed = feedWith(8, [1, 2]);
    expect(feed.record(2, "again", "dup")).toBe(false);
    expect(feed.record(1, "old", "old")).toBe(false);
    feed.learn(2, "stale read");
    feed.learn(1, "older read");
    expect([feed.version, feed.state]).toEqual([2, { v: 2 }]);
    expect(feed.changesSince(0)).toEqual(["m1", "m2"]);
  });

  it("learn of a newer version replaces the state and empties the ring", () => {
    const feed = feedWith(8, [1, 2]);
    feed.learn(5, "read");
    expect([feed.known, feed.version, feed.state]).toEqual([true, 5, "read"]);
    expect(feed.changesSince(5)).toEqual([]);
    expect(feed.changesSince(2)).toBeUndefined();
  });

  it("keeps at most ringBytes of changes: older ones go first, and one larger than that is not kept", () => {
    const feed = new EntityFeed("Doc/x", 64, 30);
    for (const version of range(1, 5)) feed.record(version, { v: version }, "x".repeat(10) + version); // 11 bytes each
    expect(feed.changesSince(3)).toEqual(["x".repeat(10) + 4, "x".repeat(10) + 5]); // two fit in 30 bytes
    expect(feed.changesSince(2)).toBeUndefined();
    feed.record(6, { v: 6 }, "y".repeat(40));
    expect(feed.changesSince(5)).toBeUndefined(); // a snapshot instead
    expect(feed.version).toBe(6);
  });
});
