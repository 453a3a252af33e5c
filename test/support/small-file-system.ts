import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Small file systems that tests fill up, to see what a full disk does: a tmpfs, or ext4 on a loop
 * device (a real disk's file system). Mounting needs root, as .ci/run has.
 */
export type FileSystemKind = "tmpfs" | "ext4";

export interface SmallFileSystem {
  readonly kind: FileSystemKind;
  readonly mountPoint: string;
  /** Unmounts it (lazily: a store that never closed may still hold it) and removes its directory and image. */
  remove(): void;
}

/** Mounts a new file system of `kind` and `sizeMb`; throws when it cannot be (not root, no mkfs.ext4). */
export function mountSmallFileSystem(kind: FileSystemKind, sizeMb: number): SmallFileSystem {
  const mountPoint = mkdtempSync(join(tmpdir(), `durable-entities-${kind}-`));
  const image = `${mountPoint}.img`;
  const removeFiles = () => {
    rmSync(mountPoint, { recursive: true, force: true });
    rmSync(image, { force: true });
  };
  try {
    if (kind === "tmpfs") {
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMb}m`, "tmpfs", mountPoint], { stdio: "pipe" });
    } else {
      execFileSync("dd", ["if=/dev/zero", `of=${image}`, "bs=1M", `count=${sizeMb}`, "status=none"], { stdio: "pipe" });
      execFileSync("mkfs.ext4", ["-q", "-F", image], { stdio: "pipe" });
      execFileSync("mount", ["-o", "loop", image, mountPoint], { stdio: "pipe" });
    }
  } catch (error) {
    removeFiles();
    throw error;
  }
  return {
    kind,
    mountPoint,
    remove: () => {
      try {
        execFileSync("umount", ["-l", mountPoint], { stdio: "pipe" });
      } finally {
        removeFiles();
      }
    },
  };
}

/** Why a file system of `kind` cannot be mounted here (its first line), undefined when it can: a probe is mounted and removed. */
export function whyCannotMount(kind: FileSystemKind): string | undefined {
  try {
    mountSmallFileSystem(kind, 4).remove();
    return undefined;
  } catch (error) {
    return (error as Error).message.split("\n")[0];
  }
}

/** Fills the file system at `mountPoint` with a file `filler`, in ever smaller writes, until it refuses even a small one. */
export function fillFileSystem(mountPoint: string): void {
  const fd = openSync(join(mountPoint, "filler"), "a");
  try {
    for (const size of [256 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch {
        // full at this size: try a smaller one
      }
    }
  } finally {
    closeSync(fd);
  }
}
