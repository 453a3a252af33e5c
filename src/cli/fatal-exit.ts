import { errorMessage, type Logger } from "../log.js";

export interface FatalExitOptions {
  readonly log: Logger;
  /**
   * Stops taking work and resolves once the store is quiescent: the commit in flight has settled and
   * the store is closed. Until then the event loop keeps running, so lmdb's write worker, which waits
   * for callbacks on the main thread, can finish.
   */
  readonly settle: () => Promise<void>;
  /** How long `settle` may take before the process is killed (default 5 s). */
  readonly settleTimeoutMs?: number;
}

/** The process's one way out after a fatal error (see `createFatalExit`). */
export interface FatalExit {
  /** True once a fatal error has started the exit. */
  readonly exiting: boolean;
  /**
   * Logs the error (message and stack, in the log only), settles the store and exits with code 1, or
   * kills the process if it does not settle in time. Never throws; a second fatal error while exiting
   * is logged and changes nothing.
   */
  fatal(error: unknown, source: string): void;
  /** Ends the process at once with SIGKILL, never waiting on any thread. */
  kill(): never;
  /** Routes `uncaughtException` and `unhandledRejection` of this process to `fatal`. */
  install(): void;
}

const DEFAULT_SETTLE_TIMEOUT_MS = 5_000;

/**
 * Ending the process without hanging. Node's own exit (an uncaught exception, or `process.exit`)
 * joins libuv's thread pool; while an LMDB commit is in flight, lmdb's write worker in that pool
 * waits for the main thread (a transaction callback), so that exit never completes, and the process
 * keeps its port and `server.lock` and ignores SIGTERM. So a fatal error first lets the store settle
 * with the event loop running, then exits normally; a store that does not settle in time ends with
 * SIGKILL, which waits on nothing. Both are safe: everything acknowledged is already flushed to disk.
 */
export function createFatalExit(options: FatalExitOptions): FatalExit {
  const { log } = options;
  const timeoutMs = options.settleTimeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS;
  let exiting = false;

  const kill = (): never => {
    process.kill(process.pid, "SIGKILL");
    // SIGKILL to this process ends it before kill() returns in practice; if it somehow did not, abort.
    process.abort();
  };

  const fatal = (error: unknown, source: string): void => {
    try {
      if (exiting) {
        log.error("another fatal error while exiting; ignored", { source, error: errorMessage(error), stack: stackOf(error) });
        return;
      }
      exiting = true;
      log.fatal("fatal error; exiting", { source, error: errorMessage(error), stack: stackOf(error) });
      // Not unref'd: the deadline must fire even if nothing else keeps the event loop alive.
      setTimeout(() => {
        log.fatal("the store did not settle in time; killing the process", { timeoutMs });
        kill();
      }, timeoutMs);
      let settled: Promise<void>;
      try {
        settled = options.settle();
      } catch (settleError) {
        settled = Promise.reject(settleError);
      }
      settled.then(
        () => process.exit(1), // quiescent: no thread-pool work waits on this thread, so exit cannot hang
        (settleError: unknown) => {
          log.fatal("the store could not settle; killing the process", { error: errorMessage(settleError) });
          kill();
        },
      );
    } catch {
      kill();
    }
  };

  return {
    get exiting() {
      return exiting;
    },
    fatal,
    kill,
    install() {
      process.on("uncaughtException", (error) => fatal(error, "uncaught exception"));
      process.on("unhandledRejection", (reason) => fatal(reason, "unhandled rejection"));
    },
  };
}

function stackOf(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
