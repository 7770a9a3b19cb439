// Operator console: a small vanilla script (no build step). Data comes from the /v1 API with
// the operator token from sessionStorage as a bearer header; nothing sensitive goes in a URL.
const TOKEN_KEY = "tenancy.operatorToken";
const view = document.getElementById("view");
const status = document.getElementById("status");
let tenantCache; // { columns, rows, haystack } for the tenant list
let stream; // AbortController of the live event stream of the open tenant page

/** Builds an element; strings become text nodes (never HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) el.append(child);
  }
  return el;
}

class ApiError extends Error {
  constructor(problem) {
    super(problem.detail ?? problem.title ?? "request failed");
    this.problem = problem;
  }
}

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { authorization: `Bearer ${token}`, ...(options.headers ?? {}) };
  if (options.json !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method: options.method ?? "GET",
    headers,
    ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
  });
  if (response.status === 401) {
    signOut("Your token was refused. Sign in again.");
    throw new ApiError({ reason: "unauthenticated", detail: "signed out" });
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(body);
  return body;
}

function announce(text) {
  status.textContent = text;
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  tenantCache = undefined;
  stream?.abort();
  view.replaceChildren();
  view.hidden = true;
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-in").hidden = false;
  document.getElementById("sign-in-error").textContent = message ?? "";
  document.getElementById("token").focus();
}

document.getElementById("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("token");
  const response = await fetch("/v1/fleet", {
    headers: { authorization: `Bearer ${input.value}` },
  });
  if (!response.ok) {
    document.getElementById("sign-in-error").textContent =
      response.status === 401 ? "That token was refused." : `Sign-in failed (${response.status}).`;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, input.value);
  input.value = "";
  route();
});
document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out."));

/** Asks for confirmation in a modal dialog; `check` may refuse (returns an error text). */
function confirmDialog(title, body, { okLabel = "Confirm", danger = false, check } = {}) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").replaceChildren(body);
  document.getElementById("confirm-error").textContent = "";
  const ok = document.getElementById("confirm-ok");
  ok.textContent = okLabel;
  ok.className = danger ? "danger" : "";
  return new Promise((resolve) => {
    const form = document.getElementById("confirm-form");
    const cancel = document.getElementById("confirm-cancel");
    const done = (value) => {
      form.removeEventListener("submit", onSubmit);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      dialog.close();
      resolve(value);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const refusal = check?.();
      if (refusal) document.getElementById("confirm-error").textContent = refusal;
      else done(true);
    };
    const onCancel = () => done(false);
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
  });
}

/** Runs an action once (the button stays disabled while it runs); shows the API's reason. */
async function act(button, errorEl, work) {
  if (button.disabled) return;
  button.disabled = true;
  errorEl.textContent = "";
  try {
    await work();
  } catch (error) {
    // The API's words: its detail, the fields it refused and why, and its reason.
    const fields = (error.problem?.errors ?? []).map((e) => `${e.path}: ${e.message}`).join("; ");
    const reason = error.problem?.reason ? ` (${error.problem.reason})` : "";
    errorEl.textContent = `${error.message}${fields ? `: ${fields}` : ""}${reason}`;
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- fleet
async function fleetPage() {
  const fleet = await api("/v1/fleet");
  const counts = (title, record) =>
    h(
      "div",
      { class: "card" },
      h("h2", {}, title),
      h(
        "table",
        {},
        h(
          "tbody",
          {},
          ...Object.entries(record).map(([k, n]) =>
            h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, String(n))),
          ),
        ),
      ),
    );
  const states = Object.fromEntries(
    Object.entries(fleet.byState).sort(([a], [b]) =>
      a === "failed" ? -1 : b === "failed" ? 1 : a.localeCompare(b),
    ),
  );
  const layers = Object.entries(fleet.isolation);
  return [
    h("h1", {}, `Fleet: ${fleet.tenants} tenants`),
    fleet.failures.length
      ? h(
          "section",
          { "aria-labelledby": "failures" },
          h("h2", { id: "failures", class: "state-failed" }, `Failures (${fleet.failures.length})`),
          h(
            "table",
            {},
            h(
              "thead",
              {},
              h("tr", {}, h("th", {}, "Tenant"), h("th", {}, "Tier"), h("th", {}, "Last error")),
            ),
            h(
              "tbody",
              {},
              fleet.failures.map((f) =>
                h(
                  "tr",
                  {},
                  h("td", {}, h("a", { href: `#/tenants/${f.slug}` }, f.slug)),
                  h("td", {}, f.tier),
                  h("td", {}, f.lastError ?? ""),
                ),
              ),
            ),
          ),
        )
      : h("p", {}, "No failed tenants."),
    h(
      "div",
      { class: "cards" },
      counts("By state", states),
      counts("By tier", fleet.byTier),
      counts("Operations", {
        "queue depth": fleet.operations.queueDepth,
        queued: fleet.operations.queued,
        "waiting for engine": fleet.operations.waitingForEngine,
        running: fleet.operations.running,
      }),
    ),
    h("h2", {}, "Isolation per layer"),
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", {}, "Layer"),
          h("th", {}, "pool"),
          h("th", {}, "bridge"),
          h("th", {}, "silo"),
        ),
      ),
      h(
        "tbody",
        {},
        layers.map(([layer, byIso]) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, layer),
            ...["pool", "bridge", "silo"].map((i) => h("td", {}, String(byIso[i] ?? 0))),
          ),
        ),
      ),
    ),
  ];
}

// ---------------------------------------------------------------- tenant list
const SHOWN = 200;

async function tenantsPage(params) {
  if (!tenantCache) {
    const list = await api("/v1/fleet/tenants");
    // One lowercased string per row: search is a substring test over 5,000 of them.
    list.haystack = list.rows.map((row) => `${row[0]} ${row[1]}`.toLowerCase());
    tenantCache = list;
  }
  const { rows, haystack } = tenantCache;
  const distinct = (i) => [...new Set(rows.map((r) => r[i]))].sort();
  const select = (id, label, index) =>
    h(
      "div",
      {},
      h("label", { for: id }, label),
      h(
        "select",
        { id, oninput: update },
        h("option", { value: "" }, "any"),
        distinct(index).map((v) => h("option", { value: v }, v)),
      ),
    );
  const search = h("input", {
    id: "search",
    type: "search",
    value: params.get("q") ?? "",
    oninput: update,
    autocomplete: "off",
  });
  const count = h("p", { id: "count", role: "status" });
  const body = h("tbody", {});
  function update() {
    const q = search.value.trim().toLowerCase();
    const [tier, state, region] = ["filter-tier", "filter-state", "filter-region"].map(
      (id) => document.getElementById(id)?.value ?? "",
    );
    const matches = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (
        (q && !haystack[i].includes(q)) ||
        (tier && r[2] !== tier) ||
        (state && r[3] !== state) ||
        (region && r[4] !== region)
      )
        continue;
      matches.push(r);
    }
    body.replaceChildren(
      ...matches
        .slice(0, SHOWN)
        .map((r) =>
          h(
            "tr",
            {},
            h("td", {}, h("a", { href: `#/tenants/${r[0]}` }, r[0])),
            h("td", {}, r[1]),
            h("td", {}, r[2]),
            h("td", { class: `state-${r[3]}` }, r[3]),
            h("td", {}, r[4]),
            h("td", {}, r.slice(5).join(" / ")),
          ),
        ),
    );
    count.textContent =
      `${matches.length} of ${rows.length} tenants` +
      (matches.length > SHOWN ? ` (first ${SHOWN} shown; narrow the search)` : "");
    performance.mark("tenants-rendered");
  }
  const page = [
    h("h1", {}, "Tenants"),
    h(
      "div",
      { class: "filters" },
      h("div", {}, h("label", { for: "search" }, "Search by slug or name"), search),
      select("filter-tier", "Tier", 2),
      select("filter-state", "State", 3),
      select("filter-region", "Region", 4),
    ),
    count,
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          [
            "Slug",
            "Name",
            "Tier",
            "State",
            "Region",
            "Isolation (db / storage / compute / identity)",
          ].map((c) => h("th", { scope: "col" }, c)),
        ),
      ),
      body,
    ),
  ];
  queueMicrotask(update);
  return page;
}

// ---------------------------------------------------------------- tenant page
async function tenantPage(slug, params = new URLSearchParams()) {
  let tenant;
  try {
    tenant = await api(`/v1/tenants/${encodeURIComponent(slug)}`);
  } catch (error) {
    if (error.problem?.reason === "tenant-not-found") {
      return [
        h("h1", {}, "Tenant not found"),
        h(
          "p",
          {},
          `No tenant named "${slug}". `,
          h("a", { href: "#/tenants" }, "Back to the list"),
        ),
      ];
    }
    throw error;
  }
  const { operations } = await api(`/v1/tenants/${encodeURIComponent(slug)}/operations`);
  const latest = operations[0];
  // The first failing resource and the engine's message, from the tenant itself.
  const failure = tenant.lastFailure;
  const error = h("p", { class: "error", role: "alert", id: "action-error" });
  const reload = () => route();
  // After an action: the tenant page following the operation the API returned.
  const showOperation = (operation) => {
    const target = `#/tenants/${slug}?operation=${operation.id}`;
    if (location.hash === target) route();
    else location.hash = target;
  };

  const actions = h("div", { class: "actions" });
  if (tenant.state !== "deleted" && tenant.state !== "offboarding") {
    const tierSelect = h(
      "select",
      { id: "new-tier", "aria-describedby": "tier-error" },
      (window.__tiers ?? []).map((t) => h("option", { value: t, selected: t === tenant.tier }, t)),
    );
    const tierError = h("span", { class: "error", id: "tier-error" });
    const change = h(
      "button",
      {
        type: "button",
        onclick: () =>
          act(change, tierError, async () => {
            const patch = { tier: tierSelect.value };
            const { before, after } = await api(`/v1/tenants/${slug}/change-preview`, {
              method: "POST",
              json: patch,
            });
            const rows = ["database", "storage", "compute", "identity"].map((l) =>
              h(
                "tr",
                {},
                h("th", { scope: "row" }, l),
                h("td", {}, before.layers[l]),
                h("td", {}, after.layers[l]),
              ),
            );
            for (const [k, v] of Object.entries(after.quotas))
              if (before.quotas[k] !== v)
                rows.push(
                  h(
                    "tr",
                    {},
                    h("th", { scope: "row" }, k),
                    h("td", {}, String(before.quotas[k])),
                    h("td", {}, String(v)),
                  ),
                );
            const ok = await confirmDialog(
              `Change ${slug} to tier ${patch.tier}?`,
              h(
                "table",
                {},
                h(
                  "thead",
                  {},
                  h("tr", {}, h("th", {}, ""), h("th", {}, "now"), h("th", {}, "after")),
                ),
                h("tbody", {}, rows),
              ),
            );
            if (!ok) return;
            const { operation } = await api(`/v1/tenants/${slug}`, {
              method: "PATCH",
              json: patch,
            });
            announce(
              `Tier change of ${slug} accepted: ${operation.kind} operation ${operation.state}`,
            );
            showOperation(operation);
          }),
      },
      "Change tier…",
    );
    actions.append(
      h(
        "div",
        {},
        h("label", { for: "new-tier" }, "Tier"),
        tierSelect,
        " ",
        change,
        " ",
        tierError,
      ),
    );
    const suspended = tenant.state === "suspended";
    const lifecycle = h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: () =>
          act(lifecycle, error, async () => {
            if (
              !(await confirmDialog(
                `${suspended ? "Resume" : "Suspend"} ${slug}?`,
                h(
                  "p",
                  {},
                  suspended
                    ? "The tenant becomes active again."
                    : "The tenant's workloads are stopped; its data is kept.",
                ),
              ))
            )
              return;
            const { operation } = await api(`/v1/tenants/${slug}`, {
              method: "PATCH",
              json: { lifecycle: suspended ? "active" : "suspended" },
            });
            showOperation(operation);
          }),
      },
      suspended ? "Resume…" : "Suspend…",
    );
    actions.append(lifecycle);
  }
  if (latest?.state === "failed" && tenant.state !== "deleted") {
    const retry = h(
      "button",
      {
        type: "button",
        onclick: () =>
          act(retry, error, async () => {
            if (
              !(await confirmDialog(
                `Retry the failed ${latest.kind} of ${slug}?`,
                h("p", {}, latest.error ?? ""),
              ))
            )
              return;
            const { operation } = await api(`/v1/operations/${latest.id}/retry`, {
              method: "POST",
            });
            announce(`Retry of ${slug} accepted`);
            showOperation(operation);
          }),
      },
      "Retry…",
    );
    actions.append(retry);
  }
  if (
    tenant.state !== "deleted" &&
    tenant.state !== "offboarding" &&
    Object.values(tenant.layers).some((l) => l.isolation !== "pool")
  ) {
    const refresh = h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: () =>
          act(refresh, error, async () => {
            if (
              !(await confirmDialog(
                `Refresh the stack of ${slug}?`,
                h(
                  "p",
                  {},
                  "The engine reads every resource; the stack's state takes what it finds and the drift report lists what differed. Nothing outside the state is changed.",
                ),
              ))
            )
              return;
            const { operation } = await api(`/v1/tenants/${slug}/refresh`, { method: "POST" });
            announce(`Refresh of ${slug} accepted`);
            showOperation(operation);
          }),
      },
      "Refresh…",
    );
    actions.append(refresh);
  }
  if (tenant.state !== "deleted") {
    const offboard = h(
      "button",
      {
        type: "button",
        class: "danger",
        onclick: () =>
          act(offboard, error, async () => {
            const typed = h("input", { id: "confirm-slug", autocomplete: "off" });
            const ok = await confirmDialog(
              `Offboard ${slug}?`,
              h(
                "div",
                {},
                h("p", {}, "This destroys the tenant's infrastructure and purges its data."),
                h("label", { for: "confirm-slug" }, `Type ${slug} to confirm`),
                typed,
              ),
              {
                okLabel: "Offboard",
                danger: true,
                check: () =>
                  typed.value === slug ? undefined : `Type ${slug} exactly to confirm.`,
              },
            );
            if (!ok) return;
            const { operation } = await api(`/v1/tenants/${slug}`, { method: "DELETE" });
            showOperation(operation);
          }),
      },
      "Offboard…",
    );
    actions.append(offboard);
  }

  const layerRows = Object.entries(tenant.layers).map(([layer, l]) =>
    h("tr", {}, h("th", { scope: "row" }, layer), h("td", {}, l.isolation), h("td", {}, l.mode)),
  );
  const dl = (record) =>
    h(
      "dl",
      {},
      Object.entries(record).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]),
    );
  const events = h("div", {
    class: "events",
    id: "events",
    "aria-live": "polite",
    "aria-label": "Live events",
  });
  const timeline = h(
    "table",
    { id: "operations" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Created", "Kind", "State", "Attempts", "Error"].map((c) => h("th", { scope: "col" }, c)),
      ),
    ),
    h(
      "tbody",
      {},
      operations.map((o) =>
        h(
          "tr",
          { "data-operation": o.id },
          h("td", {}, new Date(o.createdAt).toLocaleString()),
          h("td", {}, o.kind),
          h("td", { class: `state-${o.state}` }, o.state),
          h("td", {}, String(o.attempts)),
          h("td", {}, o.error ?? ""),
        ),
      ),
    ),
  );
  const isOpen = (o) => ["queued", "waiting-for-engine", "running"].includes(o.state);
  // The operation an action just started (named in the URL), else the open one, live;
  // otherwise the latest one's events (replayed, then the stream ends).
  const followed =
    operations.find((o) => o.id === params.get("operation")) ?? operations.find(isOpen) ?? latest;
  if (followed) {
    follow(followed.id, events, isOpen(followed) ? reload : () => undefined);
    timeline
      .querySelector(`tr[data-operation="${followed.id}"]`)
      ?.setAttribute("aria-current", "true");
  }
  return [
    h("h1", {}, `${tenant.name} `, h("small", {}, `(${tenant.slug})`)),
    h(
      "p",
      {},
      "State: ",
      h("strong", { id: "tenant-state", class: `state-${tenant.state}` }, tenant.state),
      ` · tier ${tenant.tier} · region ${tenant.region} · ${tenant.source}`,
    ),
    tenant.lastError
      ? h(
          "section",
          { "aria-labelledby": "last-error" },
          h("h2", { id: "last-error", class: "state-failed" }, "Last error"),
          failure
            ? h(
                "p",
                {},
                "Failing resource: ",
                h("strong", { id: "failing-resource" }, `${failure.type} "${failure.resource}"`),
                h("br", {}),
                h("code", { id: "failing-urn" }, failure.urn),
              )
            : null,
          failure
            ? [h("h3", {}, "Engine message"), h("pre", { id: "failing-message" }, failure.message)]
            : null,
          h("pre", { id: "last-error-text" }, tenant.lastError),
        )
      : null,
    tenant.drift ? driftSection(tenant.drift) : null,
    h("h2", {}, "Actions"),
    actions,
    error,
    h("h2", {}, "Layers"),
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h("tr", {}, h("th", {}, "Layer"), h("th", {}, "Isolation"), h("th", {}, "Mode")),
      ),
      h("tbody", {}, layerRows),
    ),
    h("h2", {}, "Quotas"),
    dl(tenant.quotas),
    h("h2", {}, "Tags"),
    dl(tenant.tags ?? {}),
    h("h2", {}, "Routing record"),
    h("pre", {}, JSON.stringify(tenant.routing, null, 2)),
    tenant.deletionReport
      ? [
          h("h2", {}, "Offboarding report"),
          h("pre", {}, JSON.stringify(tenant.deletionReport, null, 2)),
        ]
      : null,
    h("h2", {}, "Operations"),
    timeline,
    h("h2", {}, "Live events"),
    followed
      ? h(
          "p",
          { id: "followed-operation", "data-operation": followed.id },
          `${followed.kind} operation ${followed.id} · `,
          h("span", { class: `state-${followed.state}` }, followed.state),
        )
      : null,
    events,
  ];
}

/** The latest refresh's drift report: what differed between the stack's state and reality. */
function driftSection({ operationId, report }) {
  const value = (p, side) => (side in p ? JSON.stringify(p[side]) : "(absent)");
  const rows = report.drifted.flatMap((r) =>
    r.drift === "deleted"
      ? [
          h(
            "tr",
            {},
            h("td", {}, `${r.type} "${r.name}"`),
            h("td", { colspan: "3" }, "deleted out of band"),
          ),
        ]
      : r.properties.map((p) =>
          h(
            "tr",
            {},
            h("td", {}, `${r.type} "${r.name}"`),
            h("td", {}, h("code", {}, p.path)),
            h("td", {}, value(p, "state")),
            h("td", {}, value(p, "live")),
          ),
        ),
  );
  return h(
    "section",
    { "aria-labelledby": "drift-title", id: "drift", "data-operation": operationId },
    h(
      "h2",
      { id: "drift-title", class: report.drifted.length ? "state-failed" : "" },
      `Drift (refresh of ${new Date(report.checkedAt).toLocaleString()})`,
    ),
    report.drifted.length === 0
      ? h(
          "p",
          { id: "drift-summary" },
          `No drift: all ${report.resources} resources match the stack's state.`,
        )
      : [
          h(
            "p",
            { id: "drift-summary" },
            `${report.drifted.length} of ${report.resources} resources drifted.`,
          ),
          h(
            "table",
            {},
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Resource", "Property", "In the state", "Found"].map((c) =>
                  h("th", { scope: "col" }, c),
                ),
              ),
            ),
            h("tbody", {}, rows),
          ),
        ],
  );
}

/**
 * Follows an operation's server-sent events with fetch (EventSource cannot send a bearer
 * header); reconnects after a dropped connection and resumes after the last event id.
 */
async function follow(operationId, target, onDone) {
  stream?.abort();
  const controller = new AbortController();
  stream = controller;
  let last = "";
  for (let attempt = 0; !controller.signal.aborted && attempt < 100; attempt++) {
    try {
      const response = await fetch(`/v1/operations/${operationId}/events`, {
        headers: {
          authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}`,
          ...(last ? { "last-event-id": last } : {}),
        },
        signal: controller.signal,
      });
      if (response.status === 401) return signOut("Your token was refused. Sign in again.");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const field = (name) =>
            block
              .split("\n")
              .find((l) => l.startsWith(`${name}: `))
              ?.slice(name.length + 2);
          const type = field("event");
          if (!type) continue;
          last = field("id") ?? last;
          target.append(h("div", { "data-event": type }, `${type} ${field("data") ?? ""}`));
          target.scrollTop = target.scrollHeight;
          if (type === "succeeded" || type === "failed" || type === "cancelled") {
            announce(`Operation ${type}`);
            setTimeout(onDone, 300);
            return;
          }
        }
      }
    } catch {
      if (controller.signal.aborted) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000)); // server restart: try again
  }
}

// ---------------------------------------------------------------- signup
async function signupPage() {
  const error = h("p", { class: "error", role: "alert" });
  const fieldError = {};
  const field = (name, label, input) => {
    fieldError[name] = h("span", { class: "error", id: `${name}-error` });
    input.setAttribute("aria-describedby", `${name}-error`);
    return h("div", {}, h("label", { for: input.id }, label), input, " ", fieldError[name]);
  };
  const slug = h("input", { id: "signup-slug", name: "slug", required: true, autocomplete: "off" });
  const name = h("input", { id: "signup-name", name: "name", required: true, autocomplete: "off" });
  const tier = h(
    "select",
    { id: "signup-tier", name: "tier" },
    (window.__tiers ?? []).map((t) => h("option", { value: t }, t)),
  );
  // One key per filled-in form: a double click or a resend creates one tenant.
  let key = crypto.randomUUID();
  const submit = h("button", { type: "submit" }, "Sign up");
  const form = h(
    "form",
    {
      id: "signup-form",
      onsubmit: (event) => {
        event.preventDefault();
        for (const el of Object.values(fieldError)) el.textContent = "";
        act(submit, error, async () => {
          try {
            const result = await api("/v1/tenants", {
              method: "POST",
              json: { slug: slug.value, name: name.value, tier: tier.value },
              headers: { "idempotency-key": key },
            });
            tenantCache = undefined;
            location.hash = `#/tenants/${result.tenant.slug}`;
          } catch (e) {
            for (const fe of e.problem?.errors ?? []) {
              const target = fieldError[fe.path.replace(/^body\./, "").split(".")[0]];
              if (target) target.textContent = fe.message;
            }
            if (e.problem?.reason === "idempotency-key-reused") key = crypto.randomUUID();
            throw e;
          }
        });
      },
    },
    field("slug", "Slug", slug),
    field("name", "Name", name),
    field("tier", "Tier", tier),
    h("div", { class: "actions" }, submit),
    error,
  );
  form.addEventListener("input", () => (key = crypto.randomUUID()));
  return [h("h1", {}, "Sign up a tenant"), form];
}

// ---------------------------------------------------------------- routing
async function route() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return signOut();
  document.getElementById("sign-in").hidden = true;
  document.getElementById("nav").hidden = false;
  view.hidden = false;
  stream?.abort();
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  try {
    let content;
    const tenant = /^\/tenants\/([a-z0-9-]+)$/.exec(path ?? "");
    // The tier names for the forms (the list page does not wait for them).
    if (!window.__tiers && path !== "/tenants") {
      window.__tiers = (await api("/v1/fleet")).tiers.map((t) => t.name);
    }
    if (tenant) content = await tenantPage(tenant[1], params);
    else if (path === "/tenants") content = await tenantsPage(params);
    else if (path === "/signup") content = await signupPage();
    else content = await fleetPage();
    view.replaceChildren(...[content].flat(3).filter(Boolean));
    performance.mark(`rendered:${path || "/"}`);
    document.getElementById("main").focus({ preventScroll: true });
  } catch (error) {
    if (error.problem?.reason === "unauthenticated") return;
    view.replaceChildren(
      h("h1", {}, "Something went wrong"),
      h("p", { class: "error", role: "alert" }, error.message),
    );
  }
}

window.addEventListener("hashchange", route);
route();
