// The helpers that browsertest's scripts share: Go puts this file at the
// top of each script's function body (a11y.js, the lookups of page.go).
const text = (el) => (el.textContent || "").replace(/\s+/g, " ").trim();
const byId = (id) => document.getElementById(id);
const describe = (el) => {
  if (!el) return "";
  let s = el.tagName.toLowerCase();
  if (el === document.documentElement || el === document.body) return s;
  if (el.id) s += "#" + el.id;
  const name = el.getAttribute("name");
  if (name) s += '[name="' + name + '"]';
  if (el.tagName === "INPUT") s += '[type="' + el.type + '"]';
  if (!el.id && !name) {
    const t = text(el).slice(0, 40);
    if (t) s += ' "' + t + '"';
    else if (el.getAttribute("href")) s += '[href="' + el.getAttribute("href") + '"]';
  }
  return s;
};
// rendered: laid out and not hidden (display: none, visibility: hidden,
// the hidden attribute, a closed <details>, aria-hidden).
const rendered = (el) => {
  if (el.getClientRects().length === 0) return false;
  if (getComputedStyle(el).visibility === "hidden") return false;
  return !el.closest('[aria-hidden="true"]');
};
// accessibleName is the name that a label gives a control: its
// aria-labelledby elements' text, its aria-label, or the text of its
// <label>s (for= or wrapping).
const accessibleName = (el) => {
  const lb = el.getAttribute("aria-labelledby");
  if (lb) {
    const t = lb.split(/\s+/).map(byId).filter(Boolean).map(text).join(" ").trim();
    if (t) return t;
  }
  const al = (el.getAttribute("aria-label") || "").trim();
  if (al) return al;
  for (const l of el.labels || []) {
    const t = text(l);
    if (t) return t;
  }
  return "";
};
