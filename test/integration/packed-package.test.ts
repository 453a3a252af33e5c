import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killAndWait } from "./support/server-process.js";

/**
 * The package as a user gets it: `npm pack` of this repository (its `dist/`, which `npm test` builds
 * first), installed into a fresh project in the OS temp directory, with no `@types/node`, as the
 * README's "Using it from your own project" says. Its files are below, as a user would write them.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

const APP = `import { defineEntity } from "durable-entities";
import { z } from "zod";

export const Item = z.object({ name: z.string().min(1), price: z.number().nonnegative() });

export const ShoppingCart = defineEntity("ShoppingCart", {
  initialState: () => ({ items: [] as Array<z.infer<typeof Item>> }),
  operations: {
    addItem: { input: Item, run: (ctx, item) => { ctx.state.items.push(item); return ctx.state.items.length; } },
    count: (ctx) => ctx.state.items.length,
  },
});

export const Leaderboard = defineEntity("Leaderboard", { initialState: () => [] as string[], operations: { top: (ctx) => ctx.state } });

// @ts-expect-error entity operations must be synchronous
const Slow = defineEntity("Slow", { initialState: () => 0, operations: { load: async () => 1 } });
`;

const TYPED_CLIENT = `import { connect, type Subscription } from "durable-entities/client";
import type { ShoppingCart } from "./app.js";

export async function addTea(url: string): Promise<number> {
  const client = await connect(url);
  const cart = client.entity<typeof ShoppingCart>("ShoppingCart/bob");
  const count: number = await cart.call.addItem({ name: "tea", price: 3 });
  // @ts-expect-error the input is checked against the schema's type
  await cart.call.addItem({ name: "tea" });
  // @ts-expect-error a Leaderboard id is not a ShoppingCart id
  client.entity<typeof ShoppingCart>("Leaderboard/global");
  const live: Subscription<{ items: Array<{ name: string; price: number }> }> = cart.subscribe((state, { version }) => {
    const names: string[] | undefined = state?.items.map((item) => item.name + version);
    void names;
  });
  await live.close();
  await client.close();
  return count;
}
`;

const BROWSER_CLIENT = `import { connect, isEntityError, type DurableClient } from "durable-entities/client";

export async function open(url: string): Promise<DurableClient> {
  const client = await connect(url, { onConnectionChange: (up) => void (document.title = up ? "connected" : "offline") });
  await client.call("Counter/page", "add", 1).catch((error: unknown) => {
    if (isEntityError(error)) console.warn(error.code, error.message);
  });
  return client;
}
`;

const SMOKE = `import { connect } from "durable-entities/client";
const client = await connect(process.argv[2]);
const out = {};
out.added = await client.call("ShoppingCart/smoke", "addItem", { name: "tea", price: 3 });
out.refused = await client.call("ShoppingCart/smoke", "addItem", "not an object").catch((e) => e.code + ": " + e.message);
out.notJson = await client.call("ShoppingCart/smoke", "addItem", () => 1).catch((e) => e.code + ": " + e.message);
out.state = await client.get("ShoppingCart/smoke");
await client.close();
console.log(JSON.stringify(out));
`;

const COMPILER_OPTIONS = { module: "nodenext", target: "es2022", strict: true, noEmit: true, types: [] };

/** This process's environment without npm's `npm_*` variables (under `npm test` they describe this repository). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...extra };
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key) && key !== "INIT_CWD") env[key] = value;
  return env;
}

/** Runs a command to its end: exit code, stdout, and stdout with stderr (never rejects). */
function run(command: string, args: string[], cwd: string, timeout = 120_000): Promise<{ code: number; stdout: string; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: cleanEnv(), timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, output: `${stdout}${stderr}` });
    });
  });
}

let dir: string;

beforeAll(async () => {
  if (!existsSync(join(ROOT, "dist", "clients", "index.d.ts"))) throw new Error("dist/ is missing: run `npm run build` first (`npm test` does)");
  dir = mkdtempSync(join(tmpdir(), "durable-entities-packed-"));
  const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT);
  expect(packed.code, packed.output).toBe(0);
  const tarball = join(dir, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "my-app", private: true, type: "module" }));
  const installed = await run("npm", ["install", tarball, "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", "--loglevel=error"], dir, 170_000);
  expect(installed.code, installed.output).toBe(0);
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src", "app.ts"), APP);
  writeFileSync(join(dir, "src", "typed-client.ts"), TYPED_CLIENT);
  writeFileSync(join(dir, "src", "browser-client.ts"), BROWSER_CLIENT);
  writeFileSync(join(dir, "smoke.mjs"), SMOKE);
  // The app and a typed client, with tsc --init's skipLibCheck (the server's declarations mention Node's types).
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...COMPILER_OPTIONS, skipLibCheck: true }, files: ["src/app.ts", "src/typed-client.ts"] }));
  // A browser script that imports only the client: every declaration it reaches is checked, with no Node types.
  writeFileSync(
    join(dir, "tsconfig.browser.json"),
    JSON.stringify({ compilerOptions: { ...COMPILER_OPTIONS, lib: ["es2022", "dom"], skipLibCheck: false, skipDefaultLibCheck: true }, files: ["src/browser-client.ts"] }),
  );
}, 180_000);

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("the packed package in a new TypeScript project", () => {
  it("installs without @types/node, and its client and definitions type-check without it", async () => {
    expect(existsSync(join(dir, "node_modules", "@types", "node"))).toBe(false);
    const [browser, typed] = await Promise.all([
      run(process.execPath, [TSC, "-p", "tsconfig.browser.json"], dir),
      run(process.execPath, [TSC, "-p", "tsconfig.json"], dir),
    ]);
    expect(browser.output, "durable-entities/client in a browser project (skipLibCheck off)").toBe("");
    expect(browser.code).toBe(0);
    expect(typed.output, "an app file and a typed client").toBe("");
    expect(typed.code).toBe(0);
  });

  it("serves the TypeScript app file, whose schema refuses a bad input, and whose client refuses a non-JSON one", async () => {
    const server = spawn(join(dir, "node_modules", ".bin", "durable-entities"), ["serve", "--app", "src/app.ts", "--port", "0", "--data", join(dir, "data")], {
      cwd: dir,
      env: cleanEnv({ DURABLE_ENTITIES_LOG: "warn" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let stderr = "";
      server.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        let stdout = "";
        server.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
          const match = /serving (http:\/\/\S+)/.exec(stdout);
          if (match) resolve(match[1]!);
        });
        server.once("exit", (code) => reject(new Error(`the server exited with ${code}: ${stderr}`)));
      });
      const smoke = await run(process.execPath, ["smoke.mjs", url], dir, 30_000);
      expect(smoke.code, smoke.output).toBe(0);
      expect(JSON.parse(smoke.stdout)).toEqual({
        added: 1,
        refused: "bad_request: ShoppingCart/smoke addItem: input rejected by the schema: Invalid input: expected object, received string",
        notJson: "bad_request: the input cannot be encoded as JSON: input is a function, which JSON cannot carry",
        state: { items: [{ name: "tea", price: 3 }] },
      });
    } finally {
      await killAndWait(server, "SIGTERM");
    }
  });
});
