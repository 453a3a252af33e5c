import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readTokensFile } from "../../../src/security/index.js";

const TOKEN = "s3cr3t-admin-0123456789";
const dir = mkdtempSync(join(tmpdir(), "tokens-file-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error reading `text` as a tokens file gives (it goes to the log, on start and on SIGHUP). */
async function errorOf(text: string): Promise<string> {
  const path = join(dir, `tokens-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, text);
  return readTokensFile(path).then(
    () => "no error",
    (error: Error) => error.message,
  );
}

/** True when `message` shows more of the token than its first four characters. */
function showsToken(message: string): boolean {
  for (let i = 0; i + 5 <= TOKEN.length; i++) if (message.includes(TOKEN.slice(i, i + 5))) return true;
  return false;
}

/**
 * A tokens file that does not read says where and why, and never shows a token: the message is logged
 * (at start, and on a SIGHUP that leaves the old tokens in force), and logs are read by more people
 * than the tokens file is.
 */
describe("errors of a tokens file", () => {
  it.each([
    ["a syntax error just after a token", `{ "tokens": { "${TOKEN}": x } }`],
    ["a syntax error in an entry", `{ "tokens": { "${TOKEN}": { "name": "admin" "grants": [] } } }`],
    ["a syntax error inside a token", `{ "tokens": { "${TOKEN.slice(0, 10)}\n${TOKEN.slice(10)}": {} } }`],
    ["a bare token", TOKEN],
    ["a token beside the tokens object", JSON.stringify({ tokens: {}, [TOKEN]: { name: "admin", grants: [] } })],
    ["a token in the wrong place of an entry", JSON.stringify({ tokens: { [TOKEN]: { name: "admin", grants: [], [`${TOKEN}-2`]: 1 } } })],
  ])("shows no token for %s", async (_case, text) => {
    const message = await errorOf(text);
    expect(message).toMatch(/tokens file .* (is not JSON|is not valid)/);
    expect(showsToken(message), message).toBe(false);
  });

  it("still says where a syntax error is", async () => {
    expect(await errorOf(`{\n  "tokens": {\n    "${TOKEN}": { "name": "admin" "grants": [] }\n  }\n}`)).toMatch(/line 3/);
  });
});
