import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { isListening, processesWith } from "./support/processes.js";
import { freePort, tempDataDir } from "./support/test-server.js";

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const README = readFileSync(join(PACKAGE_ROOT, "README.md"), "utf8");

/** A project that has this package installed (a link to this checkout) and an app file. */
function makeProject(): { dir: string; cleanup(): void } {
  const project = tempDataDir();
  mkdirSync(join(project.path, "node_modules", ".bin"), { recursive: true });
  symlinkSync(PACKAGE_ROOT, join(project.path, "node_modules", "durable-entities"));
  symlinkSync("../durable-entities/dist/src/cli/main.js", join(project.path, "node_modules", ".bin", "durable-entities"));
  writeFileSync(join(project.path, "package.json"), JSON.stringify({ name: "my-app", private: true, type: "module" }));
  writeFileSync(
    join(project.path, "app.ts"),
    `import { defineEntity } from "durable-entities";\nexport const Counter = defineEntity("Counter", { initialState: () => 0, operations: { add: (ctx, n: number) => (ctx.state += n) } });\n`,
  );
  return { dir: project.path, cleanup: project.cleanup };
}

/** Resolves once the server's banner is on `child`'s stdout. */
function banner(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("durable-entities serving")) resolve();
    });
    child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`exited with ${code} before serving: ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

async function stopsListening(port: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!(await isListening(port))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe("the README's instructions for long-running use", () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    while (cleanups.length > 0) cleanups.pop()!();
  });

  /** A data directory whose path marks the server's processes, so none outlives the test. */
  function dataDir(project: string): string {
    const path = join(project, `data-${process.pid}-${Date.now()}`);
    cleanups.unshift(() => {
      for (const pid of processesWith(path)) process.kill(pid, "SIGKILL");
    });
    return path;
  }

  it("the binary from node_modules/.bin stops on SIGTERM, exit code 0", async () => {
    expect(README).toContain("./node_modules/.bin/durable-entities serve");
    const project = makeProject();
    cleanups.push(project.cleanup);
    const port = await freePort();
    const child = spawn("./node_modules/.bin/durable-entities", ["serve", "--app", "app.ts", "--port", String(port), "--data", dataDir(project.dir)], {
      cwd: project.dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DURABLE_ENTITIES_LOG: "warn" },
    });
    await banner(child);
    child.kill("SIGTERM");
    expect(await exited(child)).toBe(0);
    expect(await stopsListening(port, 2_000)).toBe(true);
  });

  it("a package script in the README's form (exec) leaves no server behind when npm start gets SIGTERM", async () => {
    const script = /"start": "(exec durable-entities serve[^"]*)"/.exec(README)?.[1];
    expect(script, "the README shows a start script that execs the server").toBeDefined();
    const project = makeProject();
    cleanups.push(project.cleanup);
    writeFileSync(join(project.dir, "package.json"), JSON.stringify({ name: "my-app", private: true, type: "module", scripts: { start: script } }));
    const port = await freePort();
    const data = dataDir(project.dir);
    const npm = spawn("npm", ["start", "--silent", "--", "--port", String(port), "--data", data], {
      cwd: project.dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DURABLE_ENTITIES_LOG: "warn" },
    });
    await banner(npm);
    npm.kill("SIGTERM");
    await exited(npm);
    expect(await stopsListening(port, 5_000), "the server stopped with npm").toBe(true);
    expect(processesWith(data)).toEqual([]);
  });
});
