/**
 * Input schemas of entity operations. A schema is anything that implements Standard Schema v1
 * (https://standardschema.dev): zod (3.24 and later, and 4), valibot, arktype. The interface is
 * restated here by hand, so a schema from any copy or version of those libraries fits.
 */

/** The part of a Standard Schema v1 that an operation's input check uses. */
export interface InputSchema<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => InputCheckResult<Output> | PromiseLike<InputCheckResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** What a schema's `validate` answers: the (possibly transformed) value, or the issues. */
export type InputCheckResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<InputIssue> };

/** One problem a schema found, where it is in the input. */
export interface InputIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** The type a schema accepts (what a client sends); `unknown` when the schema does not say. */
export type SchemaInput<T> = T extends { readonly "~standard": { readonly types?: infer X } }
  ? NonNullable<X> extends { readonly input: infer I }
    ? I
    : unknown
  : unknown;

/** The type a schema produces (what the operation receives, after the schema's defaults and transforms). */
export type SchemaOutput<T> = T extends { readonly "~standard": { readonly types?: infer X } }
  ? NonNullable<X> extends { readonly output: infer O }
    ? O
    : unknown
  : unknown;

/** True for a Standard Schema (a zod schema, for example). */
export function isInputSchema(value: unknown): value is InputSchema {
  const standard = (value as { "~standard"?: { validate?: unknown } } | null | undefined)?.["~standard"];
  return typeof standard === "object" && standard !== null && typeof standard.validate === "function";
}

/** How many of a schema's issues an error message lists, and how long each may be. */
const MAX_ISSUES = 5;
const MAX_ISSUE_CHARS = 200;

/**
 * Checks an input against a schema: `{ ok: true, value }` with the schema's output, or `{ ok: false,
 * message }` with the schema's own messages, each after the path of the value it is about
 * (`price: Invalid input: expected number, received string`). Throws for an asynchronous schema
 * (an async refinement or transform): operations run synchronously, so their input check does too.
 */
export function checkInput(schema: InputSchema, input: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  const result = schema["~standard"].validate(input);
  if (typeof (result as PromiseLike<unknown>).then === "function") {
    (result as PromiseLike<unknown>).then(undefined, () => {}); // its outcome is not awaited
    throw new TypeError("its input schema is asynchronous (an async refinement or transform); an operation's input is checked synchronously");
  }
  const checked = result as InputCheckResult<unknown>;
  if (checked.issues === undefined) return { ok: true, value: checked.value };
  return { ok: false, message: describeIssues(checked.issues) };
}

/** The issues as one line: at most `MAX_ISSUES`, each `path: message`. */
export function describeIssues(issues: ReadonlyArray<InputIssue>): string {
  if (issues.length === 0) return "input rejected by the schema";
  const shown = issues.slice(0, MAX_ISSUES).map((issue) => {
    const message = issue.message.length <= MAX_ISSUE_CHARS ? issue.message : `${issue.message.slice(0, MAX_ISSUE_CHARS)}…`;
    const path = issuePath(issue.path);
    return path === "" ? message : `${path}: ${message}`;
  });
  const more = issues.length - shown.length;
  return `input rejected by the schema: ${shown.join("; ")}${more > 0 ? `; and ${more} more` : ""}`;
}

/** `items[0].price`, from a schema issue's path. */
function issuePath(path: InputIssue["path"]): string {
  let text = "";
  for (const segment of path ?? []) {
    const key = typeof segment === "object" && segment !== null ? segment.key : segment;
    if (typeof key === "number") text += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) text += text === "" ? key : `.${key}`;
    else text += `[${JSON.stringify(String(key)).slice(0, MAX_ISSUE_CHARS)}]`;
  }
  return text;
}
