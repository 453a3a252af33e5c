import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF } from "../../../clients/backoff.js";

describe("backoffDelay", () => {
  it("doubles from 100 ms and caps at 5 s without jitter", () => {
    const options = { ...DEFAULT_BACKOFF, jitter: 0 };
    const delays = Array.from({ length: 9 }, (_, attempt) => backoffDelay(attempt, options));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });

  it("takes off at most the jitter fraction", () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0)).toBe(100);
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 1)).toBe(80);
    expect(backoffDelay(10, DEFAULT_BACKOFF, () => 0.5)).toBe(4500);
  });

  it("honours custom options", () => {
    const options = { initialDelayMs: 10, maxDelayMs: 50, factor: 3, jitter: 0 };
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, options))).toEqual([10, 30, 50, 50]);
  });
});
