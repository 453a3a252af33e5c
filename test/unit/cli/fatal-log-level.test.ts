import { Writable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createFatalExit } from "../../../src/cli/fatal-exit.js";
import { createLogger } from "../../../src/log.js";

/**
 * `--log-level fatal` shows only why the process exits: the fatal exit's own line, "fatal error;
 * exiting", is logged at `fatal`, so a server run with it never dies without a word.
 */
describe("--log-level fatal", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("still logs why the process is exiting on a fatal error", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] }); // the fatal exit's kill deadline never fires here
    const exit = vi.spyOn(process, "exit").mockImplementation((() => undefined) as never);
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    const fatalExit = createFatalExit({ log: createLogger("fatal", stream), settle: () => Promise.resolve() });
    fatalExit.fatal(new Error("the store's map cannot grow"), "uncaught exception");
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(expect.objectContaining({ msg: "fatal error; exiting", error: "the store's map cannot grow" }));
  });
});
