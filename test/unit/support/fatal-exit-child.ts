// Run as its own process by fatal-exit.test.ts: installs a fatal exit whose `settle` behaves as the
// mode (argv[2]) says, keeps the event loop alive as a server would, and then fails.
import { createFatalExit } from "../../../src/cli/fatal-exit.js";
import { createLogger } from "../../../src/log.js";

const mode = process.argv[2];
const fatalExit = createFatalExit({
  log: createLogger("info"),
  settleTimeoutMs: mode === "stuck" ? 300 : 20_000,
  settle: () => {
    if (mode === "stuck") return new Promise<void>(() => {}); // never settles
    if (mode === "failing") return Promise.reject(new Error("the store could not close"));
    return new Promise<void>((resolve) => setTimeout(resolve, 200));
  },
});
fatalExit.install();
setInterval(() => {}, 1_000);
if (mode === "rejection") {
  void Promise.reject(new Error("nobody handles this"));
} else {
  queueMicrotask(() => {
    throw new Error("boom");
  });
  if (mode === "twice") {
    setTimeout(() => {
      throw new Error("boom again, while settling");
    }, 20);
  }
}
