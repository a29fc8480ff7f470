// The public HTTP API, called with the API key as a bearer header. The key lives in
// sessionStorage only: gone when the tab closes, never in a URL or a cookie.

const ROOT = document.querySelector('meta[name="api-root"]')?.content ?? "";
const KEY_NAME = "campaign-service.apiKey";

export const session = {
  get key() { return window.sessionStorage.getItem(KEY_NAME); },
  save(key) { window.sessionStorage.setItem(KEY_NAME, key); },
  clear() { window.sessionStorage.removeItem(KEY_NAME); },
};

export class ApiError extends Error {
  constructor(status, messages, body) {
    super(messages.join(" "));
    this.status = status;
    this.messages = messages;
    this.body = body;
  }
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.append(name, String(value));
  }
  const search = params.toString();
  return `${ROOT}${path}${search ? `?${search}` : ""}`;
}

async function errorFrom(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON: use the status text */ }
  const message = body?.message ?? `${response.status} ${response.statusText}`;
  return new ApiError(response.status, Array.isArray(message) ? message : [message], body);
}

// Any 401 after sign-in means the key stopped working (revoked): back to the sign-in form.
// `body` is sent as JSON, `form` (a FormData, for file uploads) as multipart.
export async function api(method, path, { query, body, form, key } = {}) {
  const headers = { Authorization: `Bearer ${key ?? session.key ?? ""}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url(path, query), {
      method, headers, body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
      credentials: "omit", cache: "no-store",
    });
  } catch {
    throw new ApiError(0, ["The service did not answer. Is it running?"], null);
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && key === undefined) {
      window.dispatchEvent(new CustomEvent("console:unauthorized", { detail: error }));
    }
    throw error;
  }
  return response.json();
}
