// A new campaign: its settings, and the audience pasted or uploaded as CSV, previewed row by
// row before anything is created. The preview reads the file in the browser at once, then asks
// the service for a dry run of the CSV import (the rules the campaign will really be made
// with: national numbers, the do-not-call list, duplicates); creating sends the same file to
// the import. The API's own 400 messages are shown next to the fields (or rows) they name.

import { api, ApiError } from "../api.js";
import { readAudience } from "../csv.js";
import { errorList, h, replaceChildren } from "../dom.js";
import { audiencePreview } from "./create_preview.js";

const TARGETS = [["assistantId", "Assistant"], ["workflowId", "Workflow"], ["squadId", "Squad"]];
const EXAMPLE = "number,name,company\n+14155550101,Ada Lovelace,Analytical Engines\n+14155550102,Alan Turing,Bletchley";

function labelled(id, label, control, help) {
  control.setAttribute("aria-describedby", [help ? `${id}-help` : null, `${id}-error`].filter(Boolean).join(" "));
  return h("div", { class: "field" },
    h("label", { for: id }, label), control,
    help ? h("p", { class: "help", id: `${id}-help` }, help) : null,
    h("p", { class: "field-error", id: `${id}-error`, hidden: true }));
}

function input(id, attrs = {}) {
  return h("input", { id, name: id, ...attrs });
}

function buildFields() {
  return {
    name: input("name", { required: true, maxlength: 400, autocomplete: "off" }),
    targetKind: h("select", { id: "targetKind" }, TARGETS.map(([value, label]) => h("option", { value }, label))),
    targetId: input("targetId", { required: true, autocomplete: "off" }),
    phoneNumberId: input("phoneNumberId", { required: true, autocomplete: "off" }),
    maxConcurrency: input("maxConcurrency", { type: "number", min: 1, max: 500, inputmode: "numeric", placeholder: "10" }),
    earliestAt: input("earliestAt", { type: "datetime-local" }),
    latestAt: input("latestAt", { type: "datetime-local" }),
    defaultRegion: input("defaultRegion", { maxlength: 2, autocomplete: "off", placeholder: "US" }),
    audience: h("textarea", { id: "audience", name: "audience", rows: 8, spellcheck: "false", placeholder: EXAMPLE }),
    file: h("input", { id: "audience-file", type: "file", accept: ".csv,text/csv" }),
  };
}

// The audience as last previewed; creating is allowed only while that preview is current
// and has no problems.
class Audience {
  constructor(fields) {
    this.fields = fields;
    this.read = null;
    this.generation = 0;
    this.region = h("section", { id: "audience-preview", "aria-labelledby": "preview-title", "aria-live": "polite" });
    this.createButton = h("button", { type: "submit", id: "create-button", disabled: true, "aria-describedby": "create-help" }, "Create campaign");
    this.help = h("p", { class: "help", id: "create-help" }, "Preview the audience first.");
    for (const field of [fields.audience, fields.defaultRegion]) field.addEventListener("input", () => this.changed());
  }

  get text() { return this.fields.audience.value; }
  get defaultRegion() { return this.fields.defaultRegion.value.trim().toUpperCase(); }

  // Reads the CSV here, then checks it with the service, whose row problems replace the
  // browser's own; `found`: the row problems named by a failed create.
  async preview(found = null) {
    const generation = ++this.generation;
    delete this.region.dataset.checkedBy;
    this.read = readAudience(this.text, { region: this.defaultRegion });
    this.show(found, null);
    if (this.read.errors.length || found) return this.ready;
    const { rowErrors, report } = await this.dryRun();
    if (generation !== this.generation) return false;  // changed while the service answered
    if (rowErrors) this.show(rowErrors, report);
    // Tells a reader (and the page's tests) whose judgement the preview shows.
    this.region.dataset.checkedBy = rowErrors ? "service" : "browser";
    return this.ready;
  }

  async dryRun() {
    try {
      const report = await api("POST", "/campaigns/import", {
        query: { dryRun: true, defaultRegion: this.defaultRegion },
        form: importForm(this.text, campaignConfig(this.fields)),
      });
      return { rowErrors: byRow(report.rowErrors), report };
    } catch (error) {
      // A 400 still lists every row problem (the campaign fields may not be filled in yet).
      const rows = error instanceof ApiError ? error.body?.rowErrors : null;
      return { rowErrors: rows ? byRow(rows) : null, report: null };
    }
  }

  // `rowErrors` from the service (every problem it found, by spreadsheet row) or null.
  show(rowErrors, report) {
    if (rowErrors) this.read.rows = this.read.rows.map((row) => ({ ...row, errors: rowErrors[row.row] ?? [] }));
    replaceChildren(this.region, audiencePreview(this.read, report));
    this.ready = !this.read.errors.length && this.read.rows.every((row) => !row.errors.length);
    this.createButton.disabled = !this.ready;
    this.help.textContent = this.ready ? `${this.read.rows.length} contacts will be called.` : "Fix the audience first.";
  }

  changed() {
    this.generation += 1;
    this.read = null;
    this.createButton.disabled = true;
    this.help.textContent = "Preview the audience again: it changed.";
  }
}

// { spreadsheet row: [messages] } from the service's rowErrors.
function byRow(rowErrors) {
  const rows = {};
  for (const { row, message } of rowErrors ?? []) (rows[row] ??= []).push(message);
  return rows;
}

function importForm(text, config) {
  const form = new FormData();
  form.append("file", new Blob([text], { type: "text/csv" }), "audience.csv");
  form.append("config", JSON.stringify(config));
  return form;
}

function formLayout(fields, audience, summary) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const previewButton = h("button", { type: "button", class: "secondary", id: "preview-button",
    onclick: () => audience.preview() }, "Preview audience");
  return h("form", { class: "card", novalidate: true, "aria-labelledby": "create-title" },
    summary,
    h("fieldset", {}, h("legend", {}, "Campaign"),
      labelled("name", "Name", fields.name),
      h("div", { class: "field-row" },
        labelled("targetKind", "Who makes the calls", fields.targetKind),
        labelled("targetId", "Assistant, workflow or squad ID", fields.targetId)),
      labelled("phoneNumberId", "Phone number ID", fields.phoneNumberId, "The number the calls come from."),
      labelled("maxConcurrency", "Max concurrency", fields.maxConcurrency, "Calls at once (1 to 500; 10 when empty, or your limit if lower)."),
      h("div", { class: "field-row" },
        labelled("earliestAt", "Earliest start", fields.earliestAt, `Empty: start at once. Your time zone: ${zone}.`),
        labelled("latestAt", "Latest start", fields.latestAt, "Optional: no call is placed after it."))),
    h("fieldset", {}, h("legend", {}, "Audience"),
      labelled("audience", "Contacts as CSV", fields.audience,
        "A header row with a number column (E.164, like +14155550101) and optionally name, email, externalId; comma or semicolon; every other column becomes a variable of that contact."),
      labelled("audience-file", "Or load a CSV file", fields.file),
      labelled("defaultRegion", "Country of national numbers", fields.defaultRegion,
        "Optional, two letters (US, GB, DE): numbers written without a +country code are read as numbers of this country."),
      previewButton, audience.region),
    h("div", { class: "actions" }, audience.createButton), audience.help);
}

async function submitCampaign(form, fields, audience, summary) {
  clearErrors(form, summary);
  if (!(await audience.preview())) return;
  audience.createButton.disabled = true;
  try {
    const campaign = await api("POST", "/campaigns/import", {
      query: { defaultRegion: audience.defaultRegion },
      form: importForm(audience.text, campaignConfig(fields)),
    });
    window.location.hash = `#/campaigns/${encodeURIComponent(campaign.id)}`;
  } catch (error) {
    audience.createButton.disabled = false;
    const messages = error instanceof ApiError ? error.messages : [String(error)];
    const rows = error instanceof ApiError ? error.body?.rowErrors : null;
    showErrors(form, summary, messages);
    if (rows?.length) audience.preview(byRow(rows));
  }
}

export function renderCreate(main) {
  const fields = buildFields();
  const audience = new Audience(fields);
  const summary = h("div", { id: "form-errors" });
  const form = formLayout(fields, audience, summary);
  fields.file.addEventListener("change", async () => {
    const [file] = fields.file.files;
    if (!file) return;
    fields.audience.value = await file.text();
    audience.changed();
    audience.preview();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitCampaign(form, fields, audience, summary);
  });
  replaceChildren(main, h("h1", { tabindex: "-1", id: "create-title" }, "New campaign"), form);
  return { stop() {} };
}

function localToIso(value) {
  return value ? new Date(value).toISOString() : undefined;
}

// The create body without its customers: the import's `config`.
function campaignConfig(fields) {
  const body = {
    name: fields.name.value,
    [fields.targetKind.value]: fields.targetId.value.trim() || undefined,
    phoneNumberId: fields.phoneNumberId.value.trim() || undefined,
  };
  if (fields.maxConcurrency.value !== "") body.maxConcurrency = Number(fields.maxConcurrency.value);
  const earliestAt = localToIso(fields.earliestAt.value);
  const latestAt = localToIso(fields.latestAt.value);
  if (earliestAt || latestAt) body.schedulePlan = { earliestAt, latestAt };
  return body;
}

function clearErrors(form, summary) {
  replaceChildren(summary);
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of form.querySelectorAll(".field-error")) { el.hidden = true; el.textContent = ""; }
}

// "name must ..." belongs to the name field; "config: ..." names a field the same way.
function showErrors(form, summary, messages) {
  for (const message of messages) {
    const path = message.replace(/^config: /, "").split(" ", 1)[0];
    const field = form.querySelector(`#${CSS.escape(fieldFor(path))}`);
    const slot = form.querySelector(`#${CSS.escape(fieldFor(path))}-error`);
    if (field && slot) {
      field.setAttribute("aria-invalid", "true");
      slot.hidden = false;
      slot.textContent = message;
    }
  }
  replaceChildren(summary, errorList(messages, "create-errors"));
  summary.querySelector("[role=alert]").focus();
}

function fieldFor(path) {
  const first = path.split(".")[0];
  if (TARGETS.some(([name]) => name === first)) return "targetId";
  if (first === "schedulePlan") return path.includes("latestAt") ? "latestAt" : "earliestAt";
  if (first === "customers") return "audience";
  return first;
}
