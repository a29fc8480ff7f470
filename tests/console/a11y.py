"""A small accessibility audit run inside the page: every form control has a label, every
button and link a name, and visible text meets WCAG AA contrast (4.5:1, 3:1 for large text)
against the background it is drawn on."""

from __future__ import annotations

from playwright.async_api import Page

AUDIT = """() => {
  const problems = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (!el.labels.length && !el.getAttribute("aria-label")) problems.push(`no label: #${el.id}`);
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!el.textContent.trim() && !el.getAttribute("aria-label")) {
      problems.push(`no name: ${el.outerHTML.slice(0, 80)}`);
    }
  }
  const rgba = (css) => {
    const [r, g, b, a = 1] = css.match(/[\\d.]+/g).map(Number);
    return { r, g, b, a };
  };
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = rgba(getComputedStyle(node).backgroundColor);
      if (c.a > 0) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  for (const el of document.querySelectorAll("body *")) {
    const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text || !el.getClientRects().length || el.closest("[hidden], .visually-hidden")) continue;
    const style = getComputedStyle(el);
    const [fg, bg] = [luminance(rgba(style.color)), luminance(background(el))];
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      const text = el.textContent.trim().slice(0, 40);
      problems.push(`contrast ${ratio.toFixed(2)}: ${el.tagName} "${text}"`);
    }
  }
  return problems;
}"""


async def assert_accessible(page: Page) -> None:
    problems = await page.evaluate(AUDIT)
    assert problems == [], problems


async def assert_audit_catches_problems(page: Page) -> None:
    """The audit itself can fail: pale text and an unlabelled field are reported."""
    await page.evaluate(
        """() => {
          const probe = document.createElement("p");
          probe.id = "audit-probe";
          probe.textContent = "pale text";
          probe.style.color = "#b0b0b0";
          const field = document.createElement("input");
          field.id = "audit-field";
          probe.append(field);
          document.getElementById("main").append(probe);
        }"""
    )
    problems = await page.evaluate(AUDIT)
    await page.evaluate("document.getElementById('audit-probe').remove()")
    assert "no label: #audit-field" in problems
    assert any(p.startswith("contrast ") and "pale text" in p for p in problems), problems
