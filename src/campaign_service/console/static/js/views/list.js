// The campaign list: v2 summaries with counters (no audience, no call map), newest first,
// filtered by status, one page at a time, refreshed every few seconds while visible.

import { api, ApiError } from "../api.js";
import { errorList, h, keepFocus, pager, progressBar, replaceChildren, statusBadge, time } from "../dom.js";
import { Poller } from "../poller.js";

const PAGE_SIZE = 20;
const REFRESH_MS = 5000;
const STATUSES = [
  ["", "All"], ["scheduled", "Scheduled"], ["in-progress", "In progress"],
  ["ended", "Ended"], ["cancelled", "Ended by a user"],
];

export function renderList(main, params) {
  const state = { status: params.get("status") ?? "", page: Math.max(1, Number(params.get("page")) || 1) };
  const region = h("div", { id: "campaign-list", "aria-live": "off" });
  const select = h("select", { id: "status-filter" },
    STATUSES.map(([value, label]) => h("option", { value, selected: value === state.status }, label)));
  const poller = new Poller(REFRESH_MS, load, { onError: showError });

  async function load() {
    const query = { includeCounters: true, limit: PAGE_SIZE, page: state.page, sortOrder: "DESC", status: state.status };
    const body = await api("GET", "/v2/campaign", { query });
    keepFocus(region, () => replaceChildren(region, campaignTable(body, state, goTo)));
  }

  function showError(error) {
    if (error instanceof ApiError && error.status === 401) return;
    replaceChildren(region, errorList(error.messages ?? [String(error)]));
  }

  // The filter and page live in the address (bookmarkable) without a new history entry.
  function goTo(changes) {
    Object.assign(state, changes);
    const search = new URLSearchParams();
    if (state.status) search.set("status", state.status);
    if (state.page > 1) search.set("page", String(state.page));
    const query = search.toString();
    window.history.replaceState(null, "", `#/${query ? `?${query}` : ""}`);
    poller.stop();
    poller.start();
  }

  select.addEventListener("change", () => goTo({ status: select.value, page: 1 }));
  replaceChildren(main,
    h("div", { class: "page-head" },
      h("h1", { tabindex: "-1" }, "Campaigns"),
      h("a", { class: "button", href: "#/new" }, "New campaign")),
    h("div", { class: "filters" }, h("label", { for: "status-filter" }, "Status"), select),
    region);
  poller.start();
  return { stop: () => poller.stop() };
}

function campaignTable(body, state, goTo) {
  if (!body.results.length) {
    return h("p", { class: "empty" }, state.status
      ? "No campaigns with this status."
      : "No campaigns yet. ", state.status ? null : h("a", { href: "#/new" }, "Create the first one."));
  }
  const rows = body.results.map((campaign) => h("tr", {},
    h("td", { "data-label": "Name" },
      h("a", { href: `#/campaigns/${encodeURIComponent(campaign.id)}`, "data-focus-key": campaign.id }, campaign.name)),
    h("td", { "data-label": "Status" }, statusBadge(campaign.status)),
    h("td", { "data-label": "Progress" }, progressBar(campaign.contactCounters, `Progress of ${campaign.name}`)),
    h("td", { "data-label": "Contacts" }, counterText(campaign.contactCounters)),
    h("td", { "data-label": "Created" }, time(campaign.createdAt))));
  return h("div", {},
    h("table", { class: "responsive" },
      h("caption", { class: "visually-hidden" }, "Campaigns, newest first"),
      h("thead", {}, h("tr", {}, ["Name", "Status", "Progress", "Contacts", "Created"]
        .map((title) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, rows)),
    pager(body.metadata, (page) => goTo({ page }), "Campaign pages"));
}

function counterText(c) {
  if (!c) return "—";
  const parts = [
    [c.pending, "pending"], [c.dispatched, "on a call"], [c.completed, "completed"],
    [c.failed, "failed"], [c.skipped, "skipped"],
  ];
  return h("span", { class: "counters" }, parts.map(([n, label]) => h("span", {}, `${n} ${label}`)));
}
