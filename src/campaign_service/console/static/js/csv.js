// The audience as a CSV file, read in the browser with Vapi's dashboard rules: a `number`
// column is required, `name` is optional, the customer fields below map to the customer, and
// every other non-empty cell becomes one of that contact's assistantOverrides.variableValues.
// Rows are numbered as a spreadsheet shows them: the header is row 1.

export const MAX_ROWS = 10000;
const CUSTOMER_FIELDS = new Set(["number", "name", "email", "externalId", "extension", "sipUri"]);
const E164 = /^\+[1-9]\d{1,14}$/;
const HEADER = /^[A-Za-z][A-Za-z0-9_]*$/;

// Comma or semicolon, whichever the header line uses more (outside quotes).
function sniffDelimiter(text) {
  const firstLine = text.split(/\r?\n/, 1)[0].replace(/"[^"]*"/g, "");
  const count = (ch) => firstLine.split(ch).length - 1;
  return count(";") > count(",") ? ";" : ",";
}

// Splits CSV text into rows of cells: quoted fields, doubled quotes, CRLF or LF.
export function splitCsv(text, delimiter = sniffDelimiter(text)) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i += 1; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === "") quoted = true;
    else if (ch === delimiter) { row.push(cell); cell = ""; }
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i += 1;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += ch;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

function headerErrors(header) {
  const errors = [];
  const seen = new Set();
  header.forEach((name, index) => {
    if (!name) errors.push(`column ${index + 1} has no name`);
    else if (!HEADER.test(name)) errors.push(`column "${name}" must start with a letter and hold only letters, digits and _`);
    if (seen.has(name)) errors.push(`column "${name}" appears twice`);
    seen.add(name);
  });
  if (!header.includes("number")) errors.push('the header has no "number" column');
  return errors;
}

function customerFrom(header, cells) {
  const customer = {};
  const variables = {};
  header.forEach((name, index) => {
    const value = (cells[index] ?? "").trim();
    if (value === "") return;
    if (CUSTOMER_FIELDS.has(name)) customer[name] = value;
    else if (name === "numberE164CheckEnabled") customer[name] = value.toLowerCase();
    else variables[name] = value;
  });
  if (Object.keys(variables).length) customer.assistantOverrides = { variableValues: variables };
  return customer;
}

function rowErrors(customer, cells, header, region) {
  const errors = [];
  if (cells.length > header.length) errors.push(`${cells.length} cells for ${header.length} columns`);
  const check = customer.numberE164CheckEnabled;
  if (check !== undefined && check !== "true" && check !== "false") {
    errors.push("numberE164CheckEnabled must be true or false");
  }
  if (check !== undefined) customer.numberE164CheckEnabled = check === "true";
  if (!customer.number && !customer.sipUri) errors.push("number is empty");
  // With a region, national numbers are the service's to convert (and to judge).
  else if (customer.number && check !== "false" && !region && !E164.test(customer.number)) {
    errors.push("number must be in E.164 format, like +14155550123");
  }
  if ((customer.name ?? "").length > 40) errors.push("name is longer than 40 characters");
  return errors;
}

// { customers, rows: [{ row, customer, errors }], errors: [problems with the file itself] }
// `region`: the two-letter country of numbers written without a country code.
export function readAudience(text, { region } = {}) {
  const lines = splitCsv(text.replace(/^\uFEFF/, ""))
    .map((cells, index) => ({ row: index + 1, cells }))
    .filter(({ cells }) => cells.some((cell) => cell.trim() !== ""));
  if (!lines.length) return { customers: [], rows: [], errors: ["the audience is empty"] };
  const header = lines[0].cells.map((name) => name.trim());
  const errors = headerErrors(header);
  const body = lines.slice(1);
  if (!body.length) errors.push("there is a header but no contacts");
  if (body.length > MAX_ROWS) errors.push(`${body.length} contacts; at most ${MAX_ROWS} per campaign`);
  if (errors.length) return { customers: [], rows: [], errors };
  const rows = body.map(({ row, cells }) => {
    const customer = customerFrom(header, cells);
    return { row, customer, errors: rowErrors(customer, cells, header, region) };
  });
  return { customers: rows.map((r) => r.customer), rows, errors };
}
