// Run as its own process by log.test.ts: prints "ready", waits for a line on stdin (by then the parent
// has closed the read end of this process's stderr), logs, and prints "alive" if it is still running.
import { createLogger } from "../../../src/log.js";

const log = createLogger("info");
process.stdout.write("ready\n");
process.stdin.once("data", () => {
  for (let i = 0; i < 100; i++) log.error("a log line nobody reads", { i });
  setTimeout(() => {
    log.info("one more, after the error was reported");
    process.stdout.write("alive\n");
    process.exit(0);
  }, 100);
});
