import { describe, expect, it } from "vitest";
import { niceCeiling } from "../../../src/dashboard/line-chart.js";

describe("niceCeiling", () => {
  it("rounds a chart's top up to 1, 2 or 5 times a power of ten, for rates and for latencies of microseconds", () => {
    expect([0.0021, 0.3, 1, 1.2, 3, 7, 10170, 50].map(niceCeiling)).toEqual([0.005, 0.5, 1, 2, 5, 10, 20000, 50]);
    expect([0, -1, Number.NaN].map(niceCeiling)).toEqual([1, 1, 1]);
  });
});
