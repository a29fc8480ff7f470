// One campaign, live: its summary with counters is polled (at most one request a second);
// when it changes, the visible page of calls and the history are refreshed in the next ticks.

import { api, ApiError } from "../api.js";
import { announce, confirmAction, errorList, h, keepFocus, replaceChildren } from "../dom.js";
import { Poller } from "../poller.js";
import { callsSection, historySection, summaryParts } from "./campaign_parts.js";

const POLL_MS = 1000;
const CALLS_PER_PAGE = 25;
const EVENTS_PER_PAGE = 50;
const RUNNING = new Set(["scheduled", "in-progress"]);

export function renderCampaign(main, id) {
  const path = `/campaigns/${encodeURIComponent(id)}`;
  const view = { summary: null, fingerprint: "", callsPage: 1, eventsPage: 1 };
  const heading = h("h1", { tabindex: "-1" }, "Campaign");
  const regions = {
    head: h("div", { id: "campaign-head" }),
    actions: h("div", { class: "actions", id: "campaign-actions" }),
    alerts: h("div", { id: "campaign-alerts" }),
    progress: h("section", { "aria-labelledby": "progress-title", id: "campaign-progress" }),
    calls: h("section", { "aria-labelledby": "calls-title", id: "campaign-calls" }),
    history: h("section", { "aria-labelledby": "history-title", id: "campaign-history" }),
  };
  const poller = new Poller(POLL_MS, loadSummary, { onError: showError });

  async function loadSummary() {
    const summary = await api("GET", `/v2/campaign/${encodeURIComponent(id)}`, { query: { includeCounters: true } });
    const fingerprint = JSON.stringify([summary.status, summary.updatedAt, summary.contactCounters]);
    const finished = summary.status === "ended" && !summary.contactCounters?.pending && !summary.contactCounters?.dispatched;
    if (fingerprint === view.fingerprint) {
      // Unchanged since the details were last refreshed: once finished, nothing will move.
      if (finished) poller.stop();
      return;
    }
    if (view.summary && view.summary.status !== summary.status) announce(`Campaign ${summary.status}.`);
    view.summary = summary;
    view.fingerprint = fingerprint;
    renderSummary();
    poller.soon("calls", loadCalls);
    poller.soon("history", loadHistory);
  }

  async function loadCalls() {
    const body = await api("GET", `${path}/calls`, { query: { page: view.callsPage, limit: CALLS_PER_PAGE } });
    keepFocus(regions.calls, () => replaceChildren(regions.calls,
      callsSection(body, (page) => { view.callsPage = page; loadCalls().catch(showError); })));
  }

  async function loadHistory() {
    let body = null;
    try {
      body = await api("GET", `${path}/events`, { query: { page: view.eventsPage, limit: EVENTS_PER_PAGE } });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
    }
    keepFocus(regions.history, () => replaceChildren(regions.history,
      historySection(body, (page) => { view.eventsPage = page; loadHistory().catch(showError); })));
  }

  function renderSummary() {
    const summary = view.summary;
    heading.textContent = summary.name;
    document.title = `${summary.name} · campaign-service console`;
    const parts = summaryParts(summary);
    replaceChildren(regions.head, parts.head);
    keepFocus(regions.progress, () => replaceChildren(regions.progress, parts.progress));
    keepFocus(regions.actions, () => replaceChildren(regions.actions, actionButtons(summary)));
  }

  function actionButtons(summary) {
    return [
      RUNNING.has(summary.status)
        ? h("button", { type: "button", class: "danger", id: "end-campaign", "data-focus-key": "end", onclick: endCampaign }, "End campaign")
        : null,
      h("button", { type: "button", class: "danger secondary", id: "delete-campaign", "data-focus-key": "delete", onclick: deleteCampaign }, "Delete campaign"),
    ];
  }

  async function endCampaign() {
    const confirmed = await confirmAction({
      title: "End this campaign?",
      text: "Calls not placed yet are cancelled; calls in progress finish. A campaign cannot be restarted.",
      confirmLabel: "End campaign",
    });
    if (!confirmed) return;
    await act(() => api("PATCH", path, { body: { status: "ended" } }), "Campaign ended.");
    poller.start();
  }

  async function deleteCampaign() {
    const confirmed = await confirmAction({
      title: "Delete this campaign?",
      text: "A running campaign is ended first. It disappears from the console and the API; its records are kept.",
      confirmLabel: "Delete campaign",
    });
    if (!confirmed) return;
    if (await act(() => api("DELETE", path), "Campaign deleted.")) window.location.hash = "#/";
  }

  async function act(request, done) {
    replaceChildren(regions.alerts);
    try {
      await request();
    } catch (error) {
      showError(error);
      return false;
    }
    announce(done);
    poller.soon("summary", loadSummary);
    return true;
  }

  function showError(error) {
    if (error instanceof ApiError && error.status === 401) return;
    if (error instanceof ApiError && error.status === 404 && !view.summary) poller.stop();
    replaceChildren(regions.alerts, errorList(error.messages ?? [String(error)], "campaign-error"));
  }

  replaceChildren(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "← Campaigns")),
    heading, regions.head, regions.actions, regions.alerts, regions.progress, regions.calls, regions.history);
  poller.start();
  return { stop: () => poller.stop() };
}
