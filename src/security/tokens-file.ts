import { readFile } from "node:fs/promises";
import * as z from "zod";
import { ENTITY_ACTIONS, ORCHESTRATION_ACTIONS } from "./access.js";

const Pattern = z.string().min(1).max(512);
const EntityGrant = z.strictObject({
  entities: Pattern,
  actions: z.array(z.enum(["*", ...ENTITY_ACTIONS])).min(1),
});
const OrchestrationGrant = z.strictObject({
  orchestrations: Pattern,
  actions: z.array(z.enum(["*", ...ORCHESTRATION_ACTIONS])).min(1),
});
const TokenEntry = z.strictObject({
  /** Who holds the token, for logs. */
  name: z.string().min(1).max(200),
  grants: z.array(z.union([EntityGrant, OrchestrationGrant])),
});

/** The `--auth FILE` format: tokens (at least 16 characters each) and what each may do. */
export const TokensFile = z.strictObject({
  tokens: z.record(z.string().min(16, "a token must be at least 16 characters (guessable tokens are refused)").max(4096), TokenEntry),
});
export type TokensFile = z.infer<typeof TokensFile>;
export type TokenEntry = z.infer<typeof TokenEntry>;
export type Grant = TokenEntry["grants"][number];

/** Reads and checks a tokens file; the error says which file and what is wrong with it. */
export async function readTokensFile(path: string): Promise<TokensFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read the tokens file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`the tokens file ${path} is not JSON: ${jsonProblem(text, error as Error)}`);
  }
  const parsed = TokensFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // Paths through `tokens` name the token itself: show only its first characters.
    const where = issue.path.map((part, i) => (i === 1 && issue.path[0] === "tokens" ? `"${String(part).slice(0, 4)}…"` : String(part))).join(".");
    const nested = (issue as { issues?: Array<{ message: string }> }).issues?.[0]; // a bad record key (a token) says why inside
    // An unknown key may be a token put in the wrong place: keys as long as a token show their first characters only.
    const message = issue.code === "unrecognized_keys" ? `unknown ${issue.keys.length === 1 ? "key" : "keys"} ${issue.keys.map(shownKey).join(", ")}` : (nested?.message ?? issue.message);
    throw new Error(`the tokens file ${path} is not valid at ${where || "the top"}: ${message}`);
  }
  return parsed.data;
}

/** A key of the file as an error shows it: whole when shorter than any token, else its first four characters. */
function shownKey(key: string): string {
  return key.length < 16 ? JSON.stringify(key) : `"${key.slice(0, 4)}…"`;
}

/**
 * What is wrong with the file's JSON, and where, without the excerpt of the text that V8's message quotes
 * (it may be part of a token).
 */
function jsonProblem(text: string, error: Error): string {
  const problem = error.message.replace(/,? *(\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, "");
  const at = / in JSON at position (\d+)/.exec(problem);
  if (at === null) return problem;
  const before = text.slice(0, Number(at[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `${problem.slice(0, at.index)} at line ${line}, column ${column}`;
}
