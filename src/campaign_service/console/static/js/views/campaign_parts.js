// The pieces of the campaign page, built from API bodies (no requests here).

import { duration, h, pager, progressBar, statusBadge, time } from "../dom.js";

const COUNTERS = [
  ["pending", "Pending", "not dialed yet"],
  ["dispatched", "On a call", "being dialed or talking"],
  ["completed", "Completed", "call placed and ended"],
  ["failed", "Failed", "refused by the provider"],
  ["skipped", "Skipped", "never dialed"],
  ["predialFailed", "Pre-dial failed", "no valid pre-dial answer"],
];

function field(label, value) {
  return value === undefined || value === null ? null : [h("dt", {}, label), h("dd", {}, value)];
}

export function summaryParts(summary) {
  const schedule = summary.schedulePlan;
  const head = h("div", { class: "summary" },
    h("p", { class: "status-line" }, statusBadge(summary.status),
      summary.endedReason ? h("span", { class: "ended-reason" }, summary.endedReason) : null),
    h("dl", { class: "facts" },
      field("Campaign ID", h("code", {}, summary.id)),
      field("Assistant", summary.assistantId), field("Squad", summary.squadId),
      field("Phone number", summary.phoneNumberId),
      field("Max concurrency", summary.maxConcurrency),
      field("Earliest start", schedule ? time(schedule.earliestAt) : null),
      field("Latest start", schedule?.latestAt ? time(schedule.latestAt) : null),
      field("Created", time(summary.createdAt)),
      field("Updated", time(summary.updatedAt))));
  const counters = summary.contactCounters ?? {};
  const metrics = summary.callMetrics ?? {};
  const pickUp = metrics.dialed ? `${Math.round((100 * metrics.connected) / metrics.dialed)}%` : "—";
  const progress = [
    h("h2", { id: "progress-title" }, "Progress"),
    progressBar(counters, "Contacts done"),
    h("ul", { class: "counter-cards" },
      COUNTERS.filter(([key]) => key !== "predialFailed" || counters[key])
        .map(([key, label, hint]) => h("li", { "data-counter": key },
        h("span", { class: "counter-value" }, String(counters[key] ?? 0)),
        h("span", { class: "counter-label" }, label),
        h("span", { class: "counter-hint" }, hint))),
      h("li", { "data-counter": "dialed" },
        h("span", { class: "counter-value" }, String(metrics.dialed ?? 0)),
        h("span", { class: "counter-label" }, "Dialed"),
        h("span", { class: "counter-hint" }, `pick-up rate ${pickUp}`))),
  ];
  return { head, progress };
}

export function callsSection(body, onPage) {
  const rows = body.results.map((call) => h("tr", {},
    h("td", { "data-label": "#" }, String(call.position + 1)),
    h("td", { "data-label": "Customer" }, customerText(call.customer)),
    h("td", { "data-label": "Status" }, statusBadge(call.status)),
    h("td", { "data-label": "Outcome" }, outcomeText(call)),
    h("td", { "data-label": "Duration" }, duration(call.startedAt, call.endedAt))));
  return [
    h("h2", { id: "calls-title" }, "Calls"),
    rows.length
      ? h("table", { class: "responsive", id: "calls-table" },
        h("caption", { class: "visually-hidden" }, "Calls in dial order"),
        h("thead", {}, h("tr", {}, ["#", "Customer", "Status", "Outcome", "Duration"]
          .map((title) => h("th", { scope: "col" }, title)))),
        h("tbody", {}, rows))
      : h("p", { class: "empty" }, "No calls on this page."),
    pager(body.metadata, onPage, "Call pages"),
  ];
}

// skipReason (an extension) says why a call ended without a dial: do-not-call, pre-dial.
function outcomeText(call) {
  if (!call.endedReason) return "—";
  return call.skipReason ? `${call.endedReason} (skipped: ${call.skipReason})` : call.endedReason;
}

function customerText(customer) {
  const number = customer.number ?? customer.sipUri ?? "";
  // One element per cell: the narrow layout gives each child of a cell a grid slot.
  return h("span", {}, customer.name ? [h("span", { class: "customer-name" }, customer.name), " "] : null,
    h("span", { class: "muted" }, number));
}

const SOURCES = { user: "by a user", engine: "by the engine" };

export function historySection(body, onPage) {
  const title = h("h2", { id: "history-title" }, "History");
  if (body === null) return [title, h("p", { class: "empty" }, "This server does not keep a campaign history.")];
  const items = body.results.map((event) => h("li", { "data-to-status": event.toStatus },
    h("p", { class: "transition" },
      event.fromStatus ? [statusBadge(event.fromStatus), " → "] : "Created as ",
      statusBadge(event.toStatus),
      h("span", { class: "muted" }, ` ${SOURCES[event.source] ?? event.source}, `), time(event.createdAt)),
    event.detail ? h("p", {}, event.detail) : null,
    event.endedReason ? h("p", { class: "muted" }, event.endedReason) : null));
  return [
    title,
    h("ol", { class: "history", id: "history-list" }, items),
    body.metadata.totalPages > 1 ? pager(body.metadata, onPage, "History pages") : null,
  ];
}
