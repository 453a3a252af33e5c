import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PROBE = 'import { loadUws } from "./src/server/uws-transport.ts"; console.log(JSON.stringify({ loaded: (await loadUws()) !== undefined }));';

/** Runs loadUws() in a fresh Node process (the package picks its implementation once, when first loaded). */
function loadUwsIn(env: NodeJS.ProcessEnv): Promise<{ loaded: boolean }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", PROBE], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout) => {
      if (error) return reject(error);
      resolve(JSON.parse(stdout.trim().split("\n").at(-1)!) as { loaded: boolean });
    });
  });
}

describe("loading uWebSockets.js", () => {
  it("loads the native binary on this Node", async () => {
    expect(await loadUwsIn({})).toEqual({ loaded: true });
  });

  it("refuses the package's JavaScript stand-in (used where it has no binary, e.g. Node 22), so the ws transport is chosen", async () => {
    expect(await loadUwsIn({ UWS_USE_FALLBACK: "1" })).toEqual({ loaded: false });
  });
});
