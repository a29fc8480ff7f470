// The audience preview: how many contacts, the file's problems, what the service's dry run
// found (do-not-call numbers, duplicates), and the first rows as they will be sent, each with
// its problems.

import { h } from "../dom.js";

const SHOWN_ROWS = 100;

export function audiencePreview(audience, report) {
  const title = h("h2", { id: "preview-title" }, "Preview");
  if (audience.errors.length) {
    return [title, h("div", { class: "error-box", role: "alert" },
      h("p", { class: "error-title" }, "The CSV cannot be used:"),
      h("ul", {}, audience.errors.map((e) => h("li", {}, e))))];
  }
  const rows = audience.rows;
  const bad = rows.filter((row) => row.errors.length);
  const shown = [...bad, ...rows.filter((row) => !row.errors.length)].slice(0, SHOWN_ROWS);
  return [
    title,
    h("p", { id: "preview-summary" }, `${rows.length} contacts`,
      bad.length ? `, ${bad.length} with problems (shown first).` : ", all valid."),
    report ? checked(report) : null,
    h("table", { class: "responsive", id: "preview-table" },
      h("caption", { class: "visually-hidden" }, "Contacts read from the CSV"),
      h("thead", {}, h("tr", {}, ["Row", "Number", "Name", "Variables", "Problems"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, shown.map(previewRow))),
    rows.length > shown.length ? h("p", { class: "muted" }, `and ${rows.length - shown.length} more rows`) : null,
  ];
}

function previewRow(row) {
  const variables = row.customer.assistantOverrides?.variableValues ?? {};
  return h("tr", { class: row.errors.length ? "row-error" : null, "data-row": row.row },
    h("td", { "data-label": "Row" }, String(row.row)),
    h("td", { "data-label": "Number" }, row.customer.number ?? row.customer.sipUri ?? "—"),
    h("td", { "data-label": "Name" }, row.customer.name ?? "—"),
    h("td", { "data-label": "Variables" }, Object.entries(variables).map(([k, v]) => `${k}=${v}`).join(", ") || "—"),
    h("td", { "data-label": "Problems" }, row.errors.length ? h("ul", {}, row.errors.map((e) => h("li", {}, e))) : "OK"));
}

// What the service's dry run adds to the browser's reading.
function checked(report) {
  const notes = [];
  if (report.doNotCall.length) {
    notes.push(`${report.doNotCall.length} on the do-not-call list (rows ${report.doNotCall.map((d) => d.row).join(", ")}): they will be skipped, not dialed.`);
  }
  if (report.duplicates.length) {
    notes.push(`${report.duplicates.length} repeat an earlier row's number (rows ${report.duplicates.map((d) => d.row).join(", ")}).`);
  }
  return h("p", { id: "preview-checked", class: "muted" },
    ["Checked by the service.", ...notes].join(" "));
}
