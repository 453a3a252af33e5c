import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const LOCK_FILE = "server.pid";

/**
 * One process per data directory. The single-writer guarantee rests on it: two processes would each
 * hold the same entities in memory and overwrite each other's commits. The file `server.pid` names
 * the owner; one left behind by a process that is gone (killed, crashed) is taken over.
 */
export class DataDirLock {
  private constructor(private readonly file: string) {}

  static acquire(dir: string): DataDirLock {
    const file = join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(file, String(process.pid), { flag: "wx" });
        return new DataDirLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const owner = readOwner(file);
      if (owner !== undefined && owner !== process.pid && isRunning(owner)) {
        throw new Error(`data directory ${dir} is in use by process ${owner} (another server?); stop it, or delete ${file} if no server runs there`);
      }
      rmSync(file, { force: true }); // left behind by a process that is gone
    }
    throw new Error(`could not take the lock file ${file}`);
  }

  release(): void {
    if (readOwner(this.file) === process.pid) rmSync(this.file, { force: true });
  }
}

function readOwner(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
