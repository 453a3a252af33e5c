import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

/*
 * The server's stderr while its disk is full (README: "one JSON object a line on stderr"). A child
 * process (full-disk-stderr-child.ts) makes a commit that a full file system refuses, then logs the
 * line the pipeline logs; every line of its stderr parses as JSON, but the one LMDB's native code
 * prints. Needs root (mount; ext4 on a loop device), as .ci/run has.
 */

const CHILD = fileURLToPath(new URL("./full-disk-stderr-child.ts", import.meta.url));

function canMountExt4(): boolean {
  const probe = mkdtempSync(join(tmpdir(), "durable-entities-probe-"));
  try {
    execFileSync("dd", ["if=/dev/zero", `of=${probe}.img`, "bs=1M", "count=4", "status=none"], { stdio: "pipe" });
    execFileSync("mkfs.ext4", ["-q", "-F", `${probe}.img`], { stdio: "pipe" });
    execFileSync("mount", ["-o", "loop", `${probe}.img`, probe], { stdio: "pipe" });
    execFileSync("umount", [probe], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
    rmSync(`${probe}.img`, { force: true });
  }
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch {}
  }
});

function mount(fileSystem: "tmpfs" | "ext4"): string {
  const mountPoint = mkdtempSync(join(tmpdir(), "durable-entities-stderr-"));
  cleanups.push(() => rmSync(mountPoint, { recursive: true, force: true }));
  if (fileSystem === "tmpfs") {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mountPoint], { stdio: "pipe" });
  } else {
    const image = `${mountPoint}.img`;
    cleanups.push(() => rmSync(image, { force: true }));
    execFileSync("dd", ["if=/dev/zero", `of=${image}`, "bs=1M", "count=16", "status=none"], { stdio: "pipe" });
    execFileSync("mkfs.ext4", ["-q", "-F", image], { stdio: "pipe" });
    execFileSync("mount", ["-o", "loop", image, mountPoint], { stdio: "pipe" });
  }
  cleanups.push(() => execFileSync("umount", ["-l", mountPoint], { stdio: "pipe" }));
  return mountPoint;
}

describe.skipIf(!canMountExt4())("stderr after a commit a full disk refused", () => {
  it.each(["tmpfs", "ext4"] as const)("holds only JSON lines (%s)", async (fileSystem) => {
    const mountPoint = mount(fileSystem);
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
