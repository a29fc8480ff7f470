// The console's entry point: a hash router over four views. Each view returns { stop } so a
// view left behind stops its polling.

import { session } from "./api.js";
import { renderCampaign } from "./views/campaign.js";
import { renderCreate } from "./views/create.js";
import { renderList } from "./views/list.js";
import { renderSignIn } from "./views/signin.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let current = null;
let firstRender = true;

function parseHash() {
  const [path, search] = (window.location.hash.slice(1) || "/").split("?");
  return { path, params: new URLSearchParams(search ?? "") };
}

function markCurrentNav(name) {
  for (const link of nav.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function showView(reason) {
  current?.stop?.();
  if (!session.key) {
    nav.hidden = true;
    current = renderSignIn(main, { reason, onSignedIn: () => showView() });
    return;
  }
  nav.hidden = false;
  const { path, params } = parseHash();
  const campaign = path.match(/^\/campaigns\/([^/]+)$/);
  if (path === "/new") {
    current = renderCreate(main);
    markCurrentNav("new");
  } else if (campaign) {
    current = renderCampaign(main, decodeURIComponent(campaign[1]));
    markCurrentNav(null);
  } else {
    current = renderList(main, params);
    markCurrentNav("list");
  }
  // After a navigation, start keyboard and screen reader users at the new page's heading.
  if (!firstRender) main.querySelector("h1")?.focus();
  firstRender = false;
}

window.addEventListener("hashchange", () => showView());
window.addEventListener("console:unauthorized", (event) => {
  session.clear();
  showView(`Signed out: ${event.detail.messages.join(" ")}`);
});
document.getElementById("sign-out").addEventListener("click", () => {
  session.clear();
  window.location.hash = "#/";
  showView("Signed out.");
});
showView();
