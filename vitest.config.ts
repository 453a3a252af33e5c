import { join } from "node:path";
import { defineConfig } from "vitest/config";

/** Where a run also writes its results as JSON (`.ci/run` sets it, to print one plain summary line for both runs). */
export function reporters(name: string): Array<string | [string, { outputFile: string }]> {
  const folder = process.env.DE_TEST_REPORT_DIR;
  return folder ? ["default", ["json", { outputFile: join(folder, `${name}.json`) }]] : ["default"];
}

export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and child processes; two cores are shared by all of them.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: reporters("main"),
  },
});
