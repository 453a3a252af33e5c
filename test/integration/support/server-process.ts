import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { conformanceClusterArgs } from "./test-server.js";

const CLI = fileURLToPath(new URL("../../../dist/src/cli/main.js", import.meta.url));

/** The built CLI (`npm run build` makes it), run as its own process. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs a CLI command to its end: exit code and output. */
const CLI_TIMEOUT_MS = 20_000;

export async function runCliToEnd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runCli(args);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  // A command that should end but does not (a server that started after all) is killed, not left behind.
  const killer = setTimeout(() => {
    stderr += `\n(still running after ${CLI_TIMEOUT_MS} ms: killed)`;
    child.kill("SIGKILL");
  }, CLI_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.on("exit", (exitCode) => resolve(exitCode)));
  clearTimeout(killer);
  return { code, stdout, stderr };
}

/** `durable-entities serve` as a child process; resolves once it prints its URL. */
export async function startServerProcess(args: string[]): Promise<{ child: ChildProcess; url: string; stderr(): string }> {
  const dataAt = args.indexOf("--data");
  const cluster = args.includes("--cluster") ? [] : conformanceClusterArgs(dataAt >= 0 ? args[dataAt + 1]! : "data");
  const child = runCli(["serve", ...args, ...cluster], { env: { DURABLE_ENTITIES_LOG: "warn" } });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /serving (https?:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code} before listening: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}

export async function killAndWait(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  await exited;
}
