import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { existsSync } from "node:fs";
import { UsageError } from "./parse-args.js";

/** Imports the user's app module; TypeScript files load directly (through tsx's loader). */
export async function loadApp(file: string): Promise<Record<string, unknown>> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`app file ${path} does not exist`);
  if (/\.(c|m)?tsx?$/.test(path)) {
    const { register } = await import("tsx/esm/api");
    register();
  }
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}
