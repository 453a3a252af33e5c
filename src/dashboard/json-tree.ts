import { h, type Child } from "./dom.js";

/**
 * A readable, collapsible JSON tree of `value`. Objects and arrays are `<details>` (the paths in
 * `collapsed` start closed, and toggling updates the set, so a re-render keeps what the reader closed).
 * Values that differ from `previous` at the same path are marked `changed` (pass undefined to mark nothing).
 */
export function jsonTree(value: unknown, previous: { value: unknown } | undefined, collapsed: Set<string>): HTMLElement {
  return h("div", { class: "json-tree" }, node(undefined, value, previous, "$", collapsed));
}

function node(key: string | undefined, value: unknown, previous: { value: unknown } | undefined, path: string, collapsed: Set<string>): HTMLElement {
  const label: Child = key === undefined ? null : h("span", { class: "json-key" }, key, ": ");
  if (typeof value !== "object" || value === null) {
    const changed = previous !== undefined && !sameJson(value, previous.value);
    return h("div", { class: `json-leaf${changed ? " changed" : ""}`, "data-path": path }, label, leaf(value));
  }
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((item, index) => [String(index), item]) : Object.entries(value);
  const before = previous?.value;
  const childPrevious = (name: string) => {
    if (previous === undefined) return undefined;
    if (typeof before !== "object" || before === null || Array.isArray(before) !== Array.isArray(value)) return { value: undefined };
    return { value: (before as Record<string, unknown>)[name] };
  };
  const summary = Array.isArray(value) ? `[ ${entries.length} ${entries.length === 1 ? "item" : "items"} ]` : `{ ${entries.length} ${entries.length === 1 ? "key" : "keys"} }`;
  // A new container is marked whole; one whose keys changed (one added or removed) marks its summary line;
  // a changed value inside marks only itself.
  const sameKind = typeof before === "object" && before !== null && Array.isArray(before) === Array.isArray(value);
  const added = previous !== undefined && before === undefined;
  const reshaped = previous !== undefined && (!sameKind || Object.keys(before as object).join("\u0000") !== Object.keys(value).join("\u0000"));
  const details = h(
    "details",
    { class: `json-node${added ? " changed" : ""}`, "data-path": path, open: !collapsed.has(path) },
    h("summary", { class: reshaped && !added ? "changed" : undefined }, label, h("span", { class: "json-summary" }, summary)),
    ...entries.map(([name, item]) => node(name, item, childPrevious(name), `${path}/${name}`, collapsed)),
  );
  details.addEventListener("toggle", () => (details.open ? collapsed.delete(path) : collapsed.add(path)));
  return details;
}

function leaf(value: unknown): HTMLElement {
  if (value === null) return h("span", { class: "json-null" }, "null");
  if (typeof value === "string") return h("span", { class: "json-string" }, JSON.stringify(value));
  if (typeof value === "number") return h("span", { class: "json-number" }, String(value));
  if (typeof value === "boolean") return h("span", { class: "json-boolean" }, String(value));
  return h("span", { class: "json-null" }, "undefined");
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
