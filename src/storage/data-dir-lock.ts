import { createHash } from "node:crypto";
import { mkdirSync, realpathSync, rmdirSync, rmSync, statSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Unix socket paths longer than this do not fit everywhere (Linux allows 107 bytes, macOS 103). */
const MAX_SOCKET_PATH_BYTES = 100;
/** A takeover mutex older than this was left by a starter that died while holding it. */
const TAKEOVER_STALE_MS = 10_000;

/** Another live server holds the directory. */
export class DataDirInUseError extends Error {
  constructor(readonly dir: string) {
    super(`data directory ${dir} is in use by another server; stop it first, or give this one another --data`);
  }
}

/**
 * One server per data directory. The single-writer guarantee rests on it: two servers would each hold
 * the same entities in memory and overwrite each other's commits. The lock is a Unix socket,
 * `server.lock` in the directory, that the server listens on: binding it is atomic (it fails while
 * the file exists), a server that holds it answers a connect, and one that died, however it died,
 * does not. A file nobody answers on is removed and bound again under a mutex (`mkdir`), so two
 * starters never remove each other's socket. The file lives in the directory itself, so servers in
 * other containers sharing the volume, or reaching it through another mount, see it too.
 */
export class DataDirLock {
  private constructor(
    private readonly server: Server,
    private readonly path: string,
    private readonly inode: number | undefined,
  ) {}

  static async acquire(dir: string): Promise<DataDirLock> {
    const real = realpathSync(dir);
    const path = socketPath(real);
    const inUse = () => new DataDirInUseError(dir);
    const bound = await tryListen(path);
    if (bound) return DataDirLock.held(bound, path);
    if (!(await isAbandoned(path))) throw inUse();
    // A server died without removing its socket: take it over, one starter at a time.
    const mutex = join(real, "server.lock.takeover");
    await takeMutex(mutex);
    try {
      if (!(await isAbandoned(path))) throw inUse();
      if (!path.startsWith("\0")) rmSync(path, { force: true });
      const retaken = await tryListen(path);
      if (!retaken) throw inUse();
      return DataDirLock.held(retaken, path);
    } finally {
      rmdirSync(mutex);
    }
  }

  private static held(server: Server, path: string): DataDirLock {
    server.unref(); // the lock never keeps the process alive
    return new DataDirLock(server, path, path.startsWith("\0") ? undefined : statSync(path).ino);
  }

  async release(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.inode === undefined) return;
    try {
      if (statSync(this.path).ino === this.inode) rmSync(this.path, { force: true });
    } catch {
      // already gone
    }
  }
}

/**
 * `server.lock` in the directory; when that path is too long for a socket, an abstract socket named
 * after the directory on Linux (no file, so only servers in the same network namespace see it), or
 * one in the temporary directory elsewhere.
 */
function socketPath(realDir: string): string {
  const inDir = join(realDir, "server.lock");
  if (Buffer.byteLength(inDir) <= MAX_SOCKET_PATH_BYTES) return inDir;
  const name = `durable-entities-${createHash("sha256").update(realDir).digest("hex").slice(0, 32)}.lock`;
  return process.platform === "linux" ? `\0${name}` : join(tmpdir(), name);
}

/** Listens on `path`; undefined when something already exists there. */
function tryListen(path: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", (error: NodeJS.ErrnoException) => (error.code === "EADDRINUSE" ? resolve(undefined) : reject(error)));
    server.listen(path, () => resolve(server));
  });
}

/** True when nothing answers on the socket any more (its server died without removing it). */
function isAbandoned(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(false);
    });
    probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED" || error.code === "ENOENT"));
  });
}

/** Creates the mutex directory, waiting while another starter holds it (and clearing one left by a dead starter). */
async function takeMutex(mutex: string): Promise<void> {
  for (;;) {
    try {
      mkdirSync(mutex);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    try {
      if (Date.now() - statSync(mutex).mtimeMs > TAKEOVER_STALE_MS) rmdirSync(mutex);
    } catch {
      // released meanwhile
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
