/** The worker side of the bench's IPC: the config, later messages by type, and fail-fast on errors. */

type Message = { type: string } & Record<string, unknown>;

const inbox: Message[] = [];
const waiters: Array<{ type: string; resolve: (message: Message) => void }> = [];

if (!process.send) {
  console.error("this is a bench worker; run it through test/bench/run.ts");
  process.exit(2);
}

process.on("message", (message: Message) => {
  const index = waiters.findIndex((waiter) => waiter.type === message.type);
  if (index >= 0) waiters.splice(index, 1)[0]!.resolve(message);
  else inbox.push(message);
});
// The runner went away (or closed the channel): stop at once.
process.on("disconnect", () => process.exit(0));

/** The next message of `type` from the runner. */
export function next<T>(type: string): Promise<T & Message> {
  const index = inbox.findIndex((message) => message.type === type);
  if (index >= 0) return Promise.resolve(inbox.splice(index, 1)[0] as T & Message);
  return new Promise((resolve) => waiters.push({ type, resolve: resolve as (message: Message) => void }));
}

export function send(message: Message): void {
  process.send!(message);
}

/** Runs the worker's body; any failure is reported to the runner as `fatal` and ends the process. */
export function runWorker(body: () => Promise<void>): void {
  const fail = (error: unknown) => {
    send({ type: "fatal", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    setTimeout(() => process.exit(1), 100);
  };
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
  // When the body is done the worker stays until the runner closes the channel (see "disconnect").
  body().catch(fail);
}

/** Wall-clock time in ms with sub-millisecond precision, comparable across processes on one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Waits until wall-clock time `at` (ms since the epoch). */
export function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - now())));
}

/** This process's CPU seconds so far (user + system). */
export function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
