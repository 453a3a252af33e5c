import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { mountSmallFileSystem, whyCannotMount, type SmallFileSystem } from "../../support/small-file-system.js";

/*
 * The server's stderr while its disk is full (README: "one JSON object a line on stderr"). A child
 * process (full-disk-stderr-child.ts) makes a commit that a full file system refuses, then logs the
 * line the pipeline logs; every line of its stderr parses as JSON, but the one LMDB's native code
 * prints. Needs root (mount; ext4 on a loop device), as .ci/run has.
 */

const CHILD = fileURLToPath(new URL("./full-disk-stderr-child.ts", import.meta.url));

const fileSystems: SmallFileSystem[] = [];
afterEach(() => {
  for (const fileSystem of fileSystems.splice(0)) fileSystem.remove();
});

describe.skipIf(whyCannotMount("ext4") !== undefined)("stderr after a commit a full disk refused", () => {
  it.each(["tmpfs", "ext4"] as const)("holds only JSON lines (%s)", async (fileSystem) => {
    const mounted = mountSmallFileSystem(fileSystem, fileSystem === "tmpfs" ? 8 : 16);
    fileSystems.push(mounted);
    const mountPoint = mounted.mountPoint;
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, mountPoint], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise((resolve) => child.once("exit", resolve));
    expect(stdout.trim()).toMatch(/^refused /);
    const notJson = stderr.split("\n").filter((line) => {
      if (line === "") return false;
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    // LMDB's native code prints "Write error: No space left on device position …, size …" with no newline
    // (no JavaScript can stop it); the store ends that line, so the next JSON line is not glued to it.
    expect(notJson.filter((line) => !/^Write error: [^{]*$/.test(line))).toEqual([]);
    expect(stderr).toMatch(/"level":"error"/);
  }, 60_000);
});
