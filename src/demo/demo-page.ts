/** A page that shows `Stats/demo` and `Counter/demo` live, with buttons that signal them. */
export const DEMO_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>durable-entities demo</title>
<link rel="icon" href="data:,">
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #1d2330; }
  h1 { font-size: 1.4rem; }
  section { border: 1px solid #d4d9e3; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
  .value { font-size: 2.5rem; font-variant-numeric: tabular-nums; }
  table { border-collapse: collapse; } td { padding: .1rem 1.25rem .1rem 0; font-variant-numeric: tabular-nums; }
  button { font: inherit; padding: .35rem .9rem; margin-right: .5rem; border-radius: 6px; border: 1px solid #8792a8; background: #f3f5f9; cursor: pointer; }
  .meta { color: #5d6880; font-size: .85rem; }
  #status[data-state="disconnected"], #action-error { color: #b3261e; }
  body.offline section { opacity: .55; }
</style>
</head>
<body>
<h1>durable-entities: live state</h1>
<p class="meta">Every committed change arrives here at once (snapshot, then JSON Patch). Try
<code>npx durable-entities signal Counter/demo add 5</code> or <code>npx durable-entities signal Stats/demo record 42</code>.</p>
<p id="status" class="meta" data-state="connecting" data-testid="status">connecting…</p>
<p id="action-error" class="meta" hidden></p>

<section>
  <h2>Counter/demo</h2>
  <div class="value" id="counter" data-testid="counter">…</div>
  <p class="meta">version <span id="counter-version">0</span></p>
  <button id="add-one" data-testid="add-one">+1</button>
  <button id="add-ten">+10</button>
  <button id="reset-counter">reset</button>
</section>

<section>
  <h2>Stats/demo</h2>
  <table>
    <tr><td>count</td><td id="stats-count" data-testid="stats-count">…</td></tr>
    <tr><td>sum</td><td id="stats-sum">…</td></tr>
    <tr><td>min</td><td id="stats-min">…</td></tr>
    <tr><td>max</td><td id="stats-max">…</td></tr>
    <tr><td>mean</td><td id="stats-mean">…</td></tr>
  </table>
  <p class="meta">version <span id="stats-version">0</span></p>
  <button id="record-random" data-testid="record-random">record a random value</button>
  <button id="reset-stats">reset</button>
</section>

<script type="module">
  import { connect } from "/client.js";
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const actionError = $("action-error");
  // The connection as the client reports it: "connected" only while a connection is open.
  const showConnection = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
    document.body.classList.toggle("offline", state !== "connected");
  };
  const show = (value) => (value === null || value === undefined ? "–" : typeof value === "number" ? String(Math.round(value * 1000) / 1000) : String(value));
  // What Stats/demo holds before its first record and after a reset (which deletes its state).
  const EMPTY_STATS = { count: 0, sum: 0, min: null, max: null, mean: null };
  try {
    // On a server with --auth, the page is opened as /demo?token=…: the same token opens the WebSocket.
    const token = new URLSearchParams(location.search).get("token") ?? undefined;
    const client = await connect(location.origin, {
      token,
      onConnectionChange: (connected) =>
        connected ? showConnection("connected", "connected") : showConnection("disconnected", "disconnected: the server is not reachable; reconnecting…"),
    });
    showConnection(client.connected ? "connected" : "disconnected", client.connected ? "connected" : "disconnected: reconnecting…");
    client.subscribe("Counter/demo", (state, info) => {
      $("counter").textContent = show(state ?? 0);
      $("counter-version").textContent = info.version;
    });
    client.subscribe("Stats/demo", (state, info) => {
      const stats = state ?? EMPTY_STATS;
      for (const key of ["count", "sum", "min", "max", "mean"]) $("stats-" + key).textContent = show(stats[key]);
      $("stats-version").textContent = info.version;
    });
    const act = (promise) => {
      actionError.hidden = true;
      promise.catch((error) => {
        actionError.textContent = error.message;
        actionError.hidden = false;
      });
    };
    $("add-one").onclick = () => act(client.signal("Counter/demo", "add", 1));
    $("add-ten").onclick = () => act(client.signal("Counter/demo", "add", 10));
    $("reset-counter").onclick = () => act(client.signal("Counter/demo", "reset"));
    $("record-random").onclick = () => act(client.signal("Stats/demo", "record", Math.round(Math.random() * 100)));
    $("reset-stats").onclick = () => act(client.signal("Stats/demo", "reset"));
  } catch (error) {
    showConnection("disconnected", "could not connect: " + error.message);
  }
</script>
</body>
</html>
`;
