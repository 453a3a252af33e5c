/**
 * The disk's share of a durable commit: how long writing 4 KiB and `fdatasync` take in the bench's
 * temporary directory (the file system the servers' data directories are on). A commit the server
 * acknowledges waits for at least one such flush, so a sequential chain of N commits cannot beat N
 * times this floor; like `loopback-floor`, it has no target.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quantileOf } from "./histogram.js";

/** p50 and p99 (ms) of `count` sequential 4 KiB writes each followed by fdatasync. */
export function measureFsyncFloor(count = 200): { p50: number; p99: number } {
  const dir = mkdtempSync(join(tmpdir(), "durable-entities-fsync-"));
  const fd = openSync(join(dir, "probe"), "w");
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const startedAt = performance.now();
      writeSync(fd, block, 0, block.length, (i % 16) * block.length);
      fdatasyncSync(fd);
      times.push(performance.now() - startedAt);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  return { p50: quantileOf(times, 0.5), p99: quantileOf(times, 0.99) };
}
