// A new campaign: its settings, and the audience pasted or uploaded as CSV, previewed row by
// row before anything is sent. The API's own 400 messages are shown next to the fields (or
// rows) they name.

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
    audience: h("textarea", { id: "audience", name: "audience", rows: 8, spellcheck: "false", placeholder: EXAMPLE }),
    file: h("input", { id: "audience-file", type: "file", accept: ".csv,text/csv" }),
  };
}

// The audience as last previewed; creating is allowed only while that preview is current
// and has no problems.
class Audience {
  constructor(textarea) {
    this.textarea = textarea;
    this.read = null;
    this.region = h("section", { id: "audience-preview", "aria-labelledby": "preview-title", "aria-live": "polite" });
    this.createButton = h("button", { type: "submit", id: "create-button", disabled: true, "aria-describedby": "create-help" }, "Create campaign");
    this.help = h("p", { class: "help", id: "create-help" }, "Preview the audience first.");
    textarea.addEventListener("input", () => this.changed());
  }

  preview(serverErrors = {}) {
    this.read = readAudience(this.textarea.value);
    replaceChildren(this.region, audiencePreview(this.read, serverErrors));
    const ready = !this.read.errors.length && this.read.rows.every((row) => !row.errors.length);
    this.createButton.disabled = !ready;
    this.help.textContent = ready ? `${this.read.rows.length} contacts will be called.` : "Fix the audience first.";
    return ready;
  }

  changed() {
    this.read = null;
    this.createButton.disabled = true;
    this.help.textContent = "Preview the audience again: it changed.";
  }
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
        "A header row with a number column (E.164, like +14155550101) and optionally name, email, externalId; every other column becomes a variable of that contact."),
      labelled("audience-file", "Or load a CSV file", fields.file),
      previewButton, audience.region),
    h("div", { class: "actions" }, audience.createButton), audience.help);
}

async function submitCampaign(form, fields, audience, summary) {
  clearErrors(form, summary);
  if (!audience.preview()) return;
  audience.createButton.disabled = true;
  try {
    const campaign = await api("POST", "/campaigns", { body: campaignBody(fields, audience.read.customers) });
    window.location.hash = `#/campaigns/${encodeURIComponent(campaign.id)}`;
  } catch (error) {
    audience.createButton.disabled = false;
    const messages = error instanceof ApiError ? error.messages : [String(error)];
    showErrors(form, summary, messages, (rowErrors) => audience.preview(rowErrors));
  }
}

export function renderCreate(main) {
  const fields = buildFields();
  const audience = new Audience(fields.audience);
  const summary = h("div", { id: "form-errors" });
  const form = formLayout(fields, audience, summary);
  fields.file.addEventListener("change", async () => {
    const [file] = fields.file.files;
    if (!file) return;
    fields.audience.value = await file.text();
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

function campaignBody(fields, customers) {
  const body = {
    name: fields.name.value,
    [fields.targetKind.value]: fields.targetId.value.trim() || undefined,
    phoneNumberId: fields.phoneNumberId.value.trim() || undefined,
    customers,
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

// "customers.3.number must be ..." belongs to preview row 3; "name must ..." to the name field.
function showErrors(form, summary, messages, showRowErrors) {
  const rowErrors = {};
  for (const message of messages) {
    const path = message.split(" ", 1)[0];
    const row = path.match(/^customers\.(\d+)\./);
    if (row) (rowErrors[Number(row[1])] ??= []).push(message);
    const field = form.querySelector(`#${CSS.escape(fieldFor(path))}`);
    const slot = form.querySelector(`#${CSS.escape(fieldFor(path))}-error`);
    if (field && slot) {
      field.setAttribute("aria-invalid", "true");
      slot.hidden = false;
      slot.textContent = message;
    }
  }
  if (Object.keys(rowErrors).length) showRowErrors(rowErrors);
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
