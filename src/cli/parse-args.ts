/** Short options and the long flags they stand for (`-h` is `--help`). */
const SHORT_FLAGS: Readonly<Record<string, string>> = { "-h": "help", "-v": "version" };

/** Command-line words split into positionals and `--name value` / `--name=value` / `--flag` options; `-h` and `-v` are `--help` and `--version`. */
export interface ParsedArgs {
  readonly positionals: string[];
  /** Each option's last value. */
  readonly options: Record<string, string | true>;
  /** Every value of options given more than once or not (`--allow-origin a --allow-origin b`). */
  readonly all: Record<string, Array<string | true>>;
}

export function parseArgs(argv: readonly string[], flags: ReadonlySet<string> = new Set()): ParsedArgs {
  const positionals: string[] = [];
  const options: Record<string, string | true> = {};
  const all: Record<string, Array<string | true>> = {};
  const set = (name: string, value: string | true) => {
    options[name] = value;
    (all[name] ??= []).push(value);
  };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const short = SHORT_FLAGS[word];
    if (short !== undefined) {
      set(short, true);
      continue;
    }
    if (!word.startsWith("--") || word.length === 2) {
      positionals.push(word);
      continue;
    }
    const eq = word.indexOf("=");
    if (eq > 0) {
      set(word.slice(2, eq), word.slice(eq + 1));
      continue;
    }
    const name = word.slice(2);
    const next = argv[i + 1];
    if (flags.has(name) || next === undefined || next.startsWith("--")) set(name, true);
    else {
      set(name, next);
      i++;
    }
  }
  return { positionals, options, all };
}

/** A CLI mistake: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Refuses options the command does not take (a typo would otherwise be ignored silently). */
export function rejectUnknownOptions(args: ParsedArgs, command: string, taken: readonly string[]): void {
  // Every client command (those taking --url) takes --hub (the task hub to work in) and --token too.
  const known = taken.includes("url") ? [...taken, "hub", "token"] : taken;
  for (const name of Object.keys(args.options)) {
    if (name === "help" || known.includes(name)) continue;
    const takes = known.length > 0 ? `${command} takes ${known.map((k) => `--${k}`).join(", ")}` : `${command} takes no options`;
    throw new UsageError(`unknown option --${name}; ${takes} (an input that starts with -- goes after a lone --)`);
  }
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.options[name];
  if (value === true) throw new UsageError(`--${name} needs a value`);
  return value;
}

/** Every value of a repeatable option (each may also list several, comma-separated). */
export function listOption(args: ParsedArgs, name: string): string[] {
  return (args.all[name] ?? []).flatMap((value) => {
    if (value === true) throw new UsageError(`--${name} needs a value`);
    return value.split(",").map((item) => item.trim()).filter((item) => item.length > 0);
  });
}

export function integerOption(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}
