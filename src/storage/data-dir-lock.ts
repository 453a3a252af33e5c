import { createHash } from "node:crypto";
import { realpathSync, rmSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";

/**
 * One server per data directory. The single-writer guarantee rests on it: two servers would each hold
 * the same entities in memory and overwrite each other's commits. The lock is a listening Unix socket
 * named after the directory: binding it is atomic, it is refused while another server (in this
 * process or another) holds it, and the kernel lets go of it when its process dies, however it dies.
 * On Linux the socket is abstract (no file); elsewhere it is `server.lock` in the directory, and a
 * file nobody listens on any more is taken over.
 */
export class DataDirLock {
  private constructor(
    private readonly server: Server,
    private readonly file: string | undefined,
  ) {}

  static async acquire(dir: string): Promise<DataDirLock> {
    const real = realpathSync(dir);
    if (process.platform === "linux") {
      const name = `\0durable-entities/${createHash("sha256").update(real).digest("hex").slice(0, 40)}`;
      return new DataDirLock(await listenOn(name, dir), undefined);
    }
    const file = join(real, "server.lock");
    try {
      return new DataDirLock(await listenOn(file, dir), file);
    } catch (error) {
      if (!(await isAbandoned(file))) throw error;
      rmSync(file, { force: true });
      return new DataDirLock(await listenOn(file, dir), file);
    }
  }

  async release(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.file !== undefined) rmSync(this.file, { force: true });
  }
}

function listenOn(path: string, dir: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EADDRINUSE") return reject(error);
      reject(new Error(`data directory ${dir} is in use by another server; stop it first, or give this one another --data`));
    });
    server.listen(path, () => {
      server.unref();
      resolve(server);
    });
  });
}

/** True when nothing listens on the lock file any more (its server died without removing it). */
function isAbandoned(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(file);
    probe.once("connect", () => {
      probe.destroy();
      resolve(false);
    });
    probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED" || error.code === "ENOENT"));
  });
}
