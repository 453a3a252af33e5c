/**
 * The bystander of `live-state`: its own connection (not subscribed to anything) calling `add 1` on
 * one counter, one call at a time, each awaited before the next, while the live entity's changes are
 * fanned out to every subscriber. Its round trips show whether the fan-out stalls everyone else.
 * Goes through the real client or the raw protocol caller, as the scenario's driver says.
 */
import { connect } from "../../../clients/index.js";
import { next, runWorker, send } from "./ipc.js";
import { RawCaller } from "./raw-caller.js";
import { sequentialCalls, type SequentialGo } from "./sequential-calls.js";

interface Config {
  readonly url: string;
  readonly entity: string;
  readonly driver: "client" | "raw";
}

runWorker(async () => {
  const config = await next<Config>("config");
  const { add, close } = config.driver === "raw" ? await rawAdder(config) : await clientAdder(config);
  // One call before the run: the connection works and the counter exists.
  const first = await add();
  send({ type: "ready" });

  const go = await next<SequentialGo>("go");
  const result = await sequentialCalls(add, go);
  // `calls` and `lastResult` count the call before the run too: the counter's value is every call.
  send({ type: "done", ...result, calls: result.calls + 1, lastResult: result.calls > 0 ? result.lastResult : first });
  await close();
});

interface Adder {
  /** One `add 1` call; resolves with the counter's value after it. */
  add(): Promise<number>;
  close(): Promise<void> | void;
}

async function clientAdder(config: Config): Promise<Adder> {
  const client = await connect(config.url);
  return { add: () => client.call<number>(config.entity, "add", 1), close: () => client.close() };
}

async function rawAdder(config: Config): Promise<Adder> {
  const caller = await RawCaller.open(config.url);
  return { add: async () => (await caller.call(config.entity, "add", 1)) as number, close: () => caller.close() };
}
