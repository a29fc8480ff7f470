// Small DOM helpers. Text always goes in as text (never as HTML), so data from the API
// cannot inject markup; and no inline styles are set, which the page's CSP forbids.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name in el && typeof value !== "string") {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function time(iso) {
  if (!iso) return "—";
  return h("time", { datetime: iso }, dateTime.format(new Date(iso)));
}

export function duration(startIso, endIso) {
  if (!startIso || !endIso) return "—";
  const seconds = Math.max(0, Math.round((new Date(endIso) - new Date(startIso)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${seconds % 60} s`;
}

export function statusBadge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}

export function announce(message) {
  const announcer = document.getElementById("announcer");
  announcer.textContent = "";
  // A fresh text node after a tick is what makes screen readers read a repeated message.
  window.setTimeout(() => { announcer.textContent = message; }, 50);
}

export function errorList(messages, id) {
  const items = (Array.isArray(messages) ? messages : [messages]).map((m) => h("li", {}, m));
  return h("div", { class: "error-box", role: "alert", id, tabindex: "-1" },
    h("p", { class: "error-title" }, "The service answered:"), h("ul", {}, items));
}

// Re-rendering a region must not throw away the keyboard focus of someone reading it.
export function keepFocus(region, render) {
  const active = document.activeElement;
  const key = region.contains(active) ? active.dataset.focusKey : undefined;
  render();
  if (key) region.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus();
}

export function pager(meta, onPage, label) {
  const page = meta.currentPage;
  const pages = Math.max(meta.totalPages, 1);
  return h("nav", { class: "pager", "aria-label": label },
    h("button", { type: "button", class: "secondary", disabled: page <= 1,
      "data-focus-key": `${label}-prev`, onclick: () => onPage(page - 1) }, "Previous"),
    h("span", {}, `Page ${page} of ${pages} · ${meta.totalItems} in all`),
    h("button", { type: "button", class: "secondary", disabled: !meta.hasNextPage,
      "data-focus-key": `${label}-next`, onclick: () => onPage(page + 1) }, "Next"));
}

// Asks before a destructive action. Resolves true only on the confirm button; Escape and
// "Keep it" (which has the focus first, so Enter does no harm) resolve false.
export function confirmAction({ title, text, confirmLabel }) {
  const dialog = document.getElementById("confirm");
  const ok = document.getElementById("confirm-ok");
  const cancel = document.getElementById("confirm-cancel");
  const opener = document.activeElement;
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  ok.textContent = confirmLabel;
  return new Promise((resolve) => {
    const finish = (answer) => {
      ok.removeEventListener("click", onOk);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      opener?.focus?.();
      resolve(answer);
    };
    const onOk = () => finish(true);
    const onCancel = (event) => { event.preventDefault(); finish(false); };
    ok.addEventListener("click", onOk);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    cancel.focus();
  });
}

export function progressOf(counters) {
  const c = counters ?? {};
  const total = ["pending", "dispatched", "completed", "failed", "skipped", "predialFailed"]
    .reduce((sum, name) => sum + (c[name] ?? 0), 0);
  const done = total - (c.pending ?? 0) - (c.dispatched ?? 0);
  return { done, total, percent: total ? Math.round((100 * done) / total) : 0 };
}

export function progressBar(counters, label) {
  const { done, total, percent } = progressOf(counters);
  return h("div", { class: "progress" },
    h("progress", { max: total || 1, value: done, "aria-label": label,
      "data-done": done, "data-total": total }),
    h("span", { class: "progress-text" }, `${done} of ${total} done (${percent}%)`));
}
