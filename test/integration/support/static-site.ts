import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A temporary folder for `--static` tests: `site/` is the static directory (pages, a subfolder with an index,
 * a hidden file, symlinks in and out, files named like the server's own routes); `secret.txt` sits beside
 * it, outside, where no request may reach.
 */
export function makeStaticSite(): { root: string; site: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), "durable-entities-static-"));
  const site = join(root, "site");
  mkdirSync(join(site, "docs", "empty"), { recursive: true });
  writeFileSync(join(root, "secret.txt"), "SECRET outside the static directory");
  writeFileSync(join(site, "index.html"), "<!doctype html><title>home</title><p>my page</p>");
  writeFileSync(join(site, "app.js"), "export const answer = 42;\n");
  writeFileSync(join(site, "style.css"), "body { color: red }\n");
  writeFileSync(join(site, "data.json"), '{"ok":true}');
  writeFileSync(join(site, "logo.svg"), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(site, "blob.bin"), Buffer.from([0, 1, 2, 3]));
  writeFileSync(join(site, "name with space.txt"), "spaced");
  writeFileSync(join(site, ".env"), "TOKEN=hidden");
  writeFileSync(join(site, "docs", "index.html"), "<p>docs index</p>");
  writeFileSync(join(site, "docs", "guide.html"), "<p>guide</p>");
  // Files named like the server's routes: the server's own answers win.
  for (const name of ["healthz", "client.js", "client.js.map", "demo", "ws"]) writeFileSync(join(site, name), `static ${name}`);
  symlinkSync(join(root, "secret.txt"), join(site, "leak.txt"));
  symlinkSync(root, join(site, "up"));
  symlinkSync(join(site, "docs", "guide.html"), join(site, "guide-link.html"));
  return { root, site, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
