// Sign in with an API key of this service. The key is tried on the API first; a refused key
// shows the API's own message and is not kept.

import { api, ApiError, session } from "../api.js";
import { errorList, h, replaceChildren } from "../dom.js";

export function renderSignIn(main, { reason, onSignedIn }) {
  const input = h("input", { id: "api-key", name: "api-key", type: "password", required: true,
    autocomplete: "off", spellcheck: "false", "aria-describedby": "api-key-help" });
  const errors = h("div", { id: "sign-in-errors" });
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h("form", { class: "card narrow", novalidate: true },
    h("h1", { tabindex: "-1" }, "Sign in"),
    reason ? h("p", { class: "notice", role: "status" }, reason) : null,
    h("label", { for: "api-key" }, "API key"),
    input,
    h("p", { id: "api-key-help", class: "help" },
      "A key of this service (it starts with csk_). Create one with ",
      h("code", {}, "campaign-service org create --name NAME"),
      " or ", h("code", {}, "campaign-service key create --org ORG_ID"),
      ". It is kept in this tab only and forgotten when the tab closes."),
    errors,
    button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return showError(input, errors, ["Enter an API key."]);
    button.disabled = true;
    try {
      await api("GET", "/v2/campaign", { query: { limit: 1 }, key });
      session.save(key);
      onSignedIn();
    } catch (error) {
      const messages = error instanceof ApiError ? error.messages : [String(error)];
      showError(input, errors, messages);
    } finally {
      button.disabled = false;
    }
  });
  replaceChildren(main, form);
  input.focus();
  return { stop() {} };
}

function showError(input, errors, messages) {
  replaceChildren(errors, errorList(messages, "sign-in-error"));
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", "sign-in-error api-key-help");
  input.focus();
}
