import { describeError, h, parseJsonInput, replace } from "./dom.js";
import { jsonTree } from "./json-tree.js";
import { instanceHash, type DashboardContext, type View } from "./view.js";

/**
 * How often the lock holder is asked for while the page is open. Taking or releasing a lock writes the
 * entity's record but makes no new version, and live state is a feed of versions: no change tells of it.
 */
const LOCK_POLL_MS = 2000;

/**
 * One entity: its state as a live JSON tree (the same subscription browsers use; the last change
 * marked), its version, which orchestration holds its lock, and a form to signal or call an operation.
 */
export function entityView(context: DashboardContext, type: string, key: string): View {
  const { client } = context;
  const entityId = `${type}/${key}`;
  const tree = h("div", { class: "state", "data-testid": "entity-state" }, h("span", { class: "meta" }, "loading…"));
  const version = h("span", { "data-testid": "entity-version" }, "–");
  const lock = h("span", { "data-testid": "entity-lock" }, "…");
  const collapsed = new Set<string>();
  let previous: { value: unknown } | undefined;
  let disposed = false;

  /** A listing under way; asking again meanwhile asks once more when it is answered (one request at a time). */
  let asking = false;
  let askAgain = false;
  const refreshLock = () => {
    if (asking) return void (askAgain = true);
    asking = true;
    // The listing carries the record's lock; an exact key sorts first among the keys it prefixes.
    client.listEntities({ type, prefix: key, pageSize: 1, includeDeleted: true }).then(
      (page) => {
        if (disposed) return;
        const holder = page.entities.find((entity) => entity.id === entityId)?.lockedBy;
        if (lock.textContent !== (holder ?? "nobody")) replace(lock, holder === undefined ? "nobody" : h("a", { href: instanceHash(holder) }, holder));
      },
      (error: unknown) => !disposed && replace(lock, describeError(error)),
    ).finally(() => {
      asking = false;
      if (askAgain && !disposed) {
        askAgain = false;
        refreshLock();
      }
    });
  };
  const lockPoll = setInterval(refreshLock, LOCK_POLL_MS);
  const subscription = client.subscribe(entityId, (state, info) => {
    replace(tree, state === null ? h("span", { class: "meta" }, "no state (the entity does not exist, or was deleted)") : jsonTree(state, previous, collapsed));
    previous = { value: state };
    version.textContent = String(info.version);
    refreshLock();
  });
  subscription.ready.catch((error: unknown) => replace(tree, h("span", { class: "error" }, describeError(error))));

  const operation = h("input", { name: "operation", placeholder: "operation", required: true, "data-testid": "operation" });
  const input = h("textarea", { name: "input", rows: 3, placeholder: "JSON input (empty for none), e.g. 5 or {\"name\":\"tea\"}", "data-testid": "operation-input" });
  const outcome = h("div", { class: "outcome", "data-testid": "operation-outcome" });
  const send = (kind: "signal" | "call") => {
    const parsed = parseJsonInput(input.value);
    if (!parsed.ok) return replace(outcome, h("span", { class: "error" }, parsed.message));
    if (operation.value.trim() === "") return replace(outcome, h("span", { class: "error" }, "name an operation"));
    replace(outcome, h("span", { class: "meta" }, `${kind === "call" ? "calling" : "signalling"}…`));
    const done = kind === "call" ? client.call(entityId, operation.value.trim(), parsed.value) : client.signal(entityId, operation.value.trim(), parsed.value);
    done.then(
      (result: unknown) => {
        if (disposed) return;
        if (kind === "signal") return replace(outcome, h("span", { class: "ok" }, "signal durable"));
        replace(outcome, h("span", { class: "ok" }, "result: "), result === undefined ? h("span", { class: "meta" }, "(none)") : jsonTree(result, undefined, new Set()));
      },
      (error: unknown) => !disposed && replace(outcome, h("span", { class: "error" }, describeError(error))),
    );
  };
  const form = h(
    "form",
    { class: "operation-form", onsubmit: (event: Event) => (event.preventDefault(), send("call")) },
    h("h3", null, "Signal or call an operation"),
    operation,
    input,
    h("div", null, h("button", { type: "button", "data-testid": "signal", onclick: () => send("signal") }, "signal"), h("button", { type: "submit", "data-testid": "call" }, "call")),
    outcome,
  );

  const element = h(
    "div",
    { class: "entity" },
    h("p", { class: "crumbs" }, h("a", { href: `#/entities/${encodeURIComponent(type)}` }, type), " / "),
    h("h2", { "data-testid": "entity-id" }, entityId),
    h("p", { class: "meta" }, "version ", version, " · lock held by ", lock),
    tree,
    form,
  );
  return {
    element,
    dispose: () => {
      disposed = true;
      clearInterval(lockPoll);
      void subscription.close();
    },
  };
}
