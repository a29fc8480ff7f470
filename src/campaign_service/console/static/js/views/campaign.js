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

const END = {
  title: "End this campaign?",
  text: "Calls not placed yet are cancelled; calls in progress finish. A campaign cannot be restarted.",
  confirmLabel: "End campaign",
};
const DELETE = {
  title: "Delete this campaign?",
  text: "A running campaign is ended first. It disappears from the console and the API; its records are kept.",
  confirmLabel: "Delete campaign",
};

class CampaignPage {
  constructor(main, id) {
    this.id = id;
    this.path = `/campaigns/${encodeURIComponent(id)}`;
    this.summary = null;
    this.fingerprint = "";
    this.callsPage = 1;
    this.eventsPage = 1;
    this.heading = h("h1", { tabindex: "-1" }, "Campaign");
    const section = (name) => h("section", { id: `campaign-${name}`, "aria-labelledby": `${name}-title` });
    this.regions = {
      head: h("div", { id: "campaign-head" }),
      actions: h("div", { id: "campaign-actions", class: "actions" }),
      alerts: h("div", { id: "campaign-alerts" }),
      progress: section("progress"),
      calls: section("calls"),
      history: section("history"),
    };
    this.poller = new Poller(POLL_MS, () => this.loadSummary(), { onError: (e) => this.showError(e) });
    replaceChildren(main, h("p", { class: "crumbs" }, h("a", { href: "#/" }, "← Campaigns")),
      this.heading, ...Object.values(this.regions));
  }

  async loadSummary() {
    const summary = await api("GET", `/v2/campaign/${encodeURIComponent(this.id)}`, { query: { includeCounters: true } });
    const counters = summary.contactCounters ?? {};
    const fingerprint = JSON.stringify([summary.status, summary.updatedAt, counters]);
    if (fingerprint === this.fingerprint) {
      // Unchanged since the details were last refreshed: once finished, nothing will move.
      if ((summary.status === "ended" || summary.status === "cancelled") && !counters.pending && !counters.dispatched) this.poller.stop();
      return;
    }
    if (this.summary && this.summary.status !== summary.status) announce(`Campaign ${summary.status}.`);
    this.summary = summary;
    this.fingerprint = fingerprint;
    this.renderSummary();
    this.poller.soon("calls", () => this.loadCalls());
    this.poller.soon("history", () => this.loadHistory());
  }

  async loadCalls() {
    const body = await api("GET", `${this.path}/calls`, { query: { page: this.callsPage, limit: CALLS_PER_PAGE } });
    const onPage = (page) => { this.callsPage = page; this.loadCalls().catch((e) => this.showError(e)); };
    keepFocus(this.regions.calls, () => replaceChildren(this.regions.calls, callsSection(body, onPage)));
  }

  async loadHistory() {
    let body = null;
    try {
      body = await api("GET", `${this.path}/events`, { query: { page: this.eventsPage, limit: EVENTS_PER_PAGE } });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
    }
    const onPage = (page) => { this.eventsPage = page; this.loadHistory().catch((e) => this.showError(e)); };
    keepFocus(this.regions.history, () => replaceChildren(this.regions.history, historySection(body, onPage)));
  }

  renderSummary() {
    const { summary, regions } = this;
    this.heading.textContent = summary.name;
    document.title = `${summary.name} · campaign-service console`;
    const parts = summaryParts(summary);
    replaceChildren(regions.head, parts.head);
    keepFocus(regions.progress, () => replaceChildren(regions.progress, parts.progress));
    keepFocus(regions.actions, () => replaceChildren(regions.actions, this.actionButtons()));
  }

  actionButtons() {
    const end = RUNNING.has(this.summary.status)
      ? h("button", { type: "button", class: "danger", "data-focus-key": "end", onclick: () => this.end() }, "End campaign")
      : null;
    return [end, h("button", { type: "button", class: "danger secondary", "data-focus-key": "delete",
      onclick: () => this.delete() }, "Delete campaign")];
  }

  async end() {
    if (!(await confirmAction(END))) return;
    await this.act(() => api("PATCH", this.path, { body: { status: "ended" } }), "Campaign ended.");
    this.poller.start(); // calls in progress still finish: keep watching
  }

  async delete() {
    if (!(await confirmAction(DELETE))) return;
    if (await this.act(() => api("DELETE", this.path), "Campaign deleted.")) window.location.hash = "#/";
  }

  async act(request, done) {
    replaceChildren(this.regions.alerts);
    try {
      await request();
    } catch (error) {
      this.showError(error);
      return false;
    }
    announce(done);
    this.poller.soon("summary", () => this.loadSummary());
    return true;
  }

  showError(error) {
    if (error instanceof ApiError && error.status === 401) return; // main.js signs out
    if (error instanceof ApiError && error.status === 404 && !this.summary) this.poller.stop();
    replaceChildren(this.regions.alerts, errorList(error.messages ?? [String(error)], "campaign-error"));
  }
}

export function renderCampaign(main, id) {
  const page = new CampaignPage(main, id);
  page.poller.start();
  return { stop: () => page.poller.stop() };
}
