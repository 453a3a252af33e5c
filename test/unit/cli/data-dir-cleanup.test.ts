import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { watchDataDirCreation } from "../../../src/cli/data-dir-cleanup.js";

describe("watchDataDirCreation", () => {
  const root = mkdtempSync(join(tmpdir(), "durable-entities-cleanup-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("removes a directory it created, with the parents that were missing", () => {
    const dir = join(root, "a", "b", "data");
    const created = watchDataDirCreation(dir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "data.mdb"), "x");
    created.undo();
    expect(existsSync(join(root, "a"))).toBe(false);
    expect(existsSync(root)).toBe(true);
  });

  it("empties a directory that was empty, and leaves one that held files alone", () => {
    const empty = join(root, "empty");
    mkdirSync(empty);
    const fromEmpty = watchDataDirCreation(empty);
    writeFileSync(join(empty, "data.mdb"), "x");
    fromEmpty.undo();
    expect(readdirSync(empty)).toEqual([]);

    const used = join(root, "used");
    mkdirSync(used);
    writeFileSync(join(used, "data.mdb"), "old");
    const fromUsed = watchDataDirCreation(used);
    writeFileSync(join(used, "server.lock"), "x");
    fromUsed.undo();
    expect(readdirSync(used).sort()).toEqual(["data.mdb", "server.lock"]);
  });
});
