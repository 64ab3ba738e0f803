// The accessibility rules of package browsertest, run in the page by
// Page.Check (through the DevTools, so also when the page's JavaScript is
// off), as the body of a function that begins with lib.js. It returns
// {problems, focusable}: the problems found, each {rule, element,
// detail}, and the elements that Tab should visit, in document order,
// each {index, element} (index: the element's position among all
// elements, which the focus order check compares).
const problems = [];
const all = document.getElementsByTagName("*");
const indexOf = (el) => Array.prototype.indexOf.call(all, el);
const add = (rule, el, detail) => problems.push({ rule, element: describe(el), detail });

// lang and title.
if (!(document.documentElement.getAttribute("lang") || "").trim()) {
  add("lang", document.documentElement, "<html> has no lang attribute");
}
if (!document.title.trim()) add("title", null, "the document has no <title>");

// Ids: unique, and those that aria attributes name exist.
const ids = new Map();
for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) || 0) + 1);
for (const [id, n] of ids) if (n > 1) add("unique-id", byId(id), 'id "' + id + '" is on ' + n + " elements");
for (const attr of ["aria-labelledby", "aria-describedby", "aria-controls", "aria-errormessage"]) {
  for (const el of document.querySelectorAll("[" + attr + "]")) {
    for (const id of el.getAttribute(attr).split(/\s+/).filter(Boolean)) {
      if (!byId(id)) add("aria-ref", el, attr + ' names "' + id + '", which no element has');
    }
  }
}


// Every form control has a label.
const controls = "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]):not([type=image]), select, textarea";
for (const el of document.querySelectorAll(controls)) {
  if (!rendered(el)) continue;
  if (!accessibleName(el)) add("label", el, "form control without a label (<label for>, a wrapping <label>, aria-label or aria-labelledby)");
}

// Buttons and links have a name; images have alt.
for (const el of document.querySelectorAll("button, input[type=submit], input[type=button], input[type=reset], input[type=image], a[href], [role=button]")) {
  if (!rendered(el)) continue;
  let n = accessibleName(el) || text(el);
  if (!n && el.tagName === "INPUT") n = el.type === "image" ? el.alt || "" : el.value || (el.type === "button" ? "" : el.type);
  if (!n) n = Array.from(el.querySelectorAll("img[alt]"), (i) => i.alt).join(" ").trim();
  if (!n) n = (el.getAttribute("title") || "").trim();
  if (!n) add("name", el, "button or link without text or label");
}
for (const el of document.querySelectorAll("img:not([alt])")) add("alt", el, "image without an alt attribute");

// Inputs for a username, an email, a password or a one-time code say
// so in autocomplete (WCAG 1.3.5), so that password managers fill them.
for (const el of document.querySelectorAll("input")) {
  if (el.type === "hidden" || el.readOnly || el.disabled || !rendered(el)) continue;
  const tokens = (el.getAttribute("autocomplete") || "").toLowerCase().split(/\s+/);
  const has = (...want) => want.some((w) => tokens.includes(w));
  const key = ((el.getAttribute("name") || "") + " " + el.id).toLowerCase();
  const got = ' (autocomplete="' + (el.getAttribute("autocomplete") || "") + '")';
  if (el.type === "password") {
    if (!has("current-password", "new-password", "one-time-code")) add("autocomplete", el, 'a password field needs autocomplete "current-password" or "new-password"' + got);
  } else if (el.type === "email") {
    if (!has("email", "username")) add("autocomplete", el, 'an email field needs autocomplete "email" (or "username")' + got);
  } else if (/\b(username|uid_field|login)\b/.test(key)) {
    if (!has("username", "email")) add("autocomplete", el, 'a username field needs autocomplete "username"' + got);
  } else if (/\b(code|otp|totp)\b/.test(key)) {
    if (!has("one-time-code")) add("autocomplete", el, 'a one-time code field needs autocomplete "one-time-code"' + got);
  }
}

// A field marked invalid says why.
for (const el of document.querySelectorAll('[aria-invalid="true"]')) {
  const ref = (el.getAttribute("aria-describedby") || el.getAttribute("aria-errormessage") || "").split(/\s+/).map(byId).filter(Boolean);
  if (!ref.some((r) => text(r))) add("error-described", el, "aria-invalid without an aria-describedby element that holds the error");
}

// Text contrast, from the computed styles: the text's colour over the
// backgrounds of the element and its ancestors, composited until an
// opaque one (white under them all). Text over a background image is
// not judged. 4.5:1, or 3:1 for large text (24px, or 18.66px bold).
const canvas = document.createElement("canvas");
canvas.width = canvas.height = 1;
const g = canvas.getContext("2d", { willReadFrequently: true });
const rgba = (c) => {
  const m = /^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/.exec(c);
  if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
  // Other notations (color(), oklch(), ...): let the canvas convert.
  g.clearRect(0, 0, 1, 1);
  g.fillStyle = "#000";
  g.fillStyle = c;
  g.fillRect(0, 0, 1, 1);
  const d = g.getImageData(0, 0, 1, 1).data;
  return [d[0], d[1], d[2], d[3] / 255];
};
const over = (top, bottom) => [0, 1, 2].map((i) => top[3] * top[i] + (1 - top[3]) * bottom[i]).concat([1]);
// background returns the opaque colour behind el, or null when an
// image is part of it.
const background = (el) => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const cs = getComputedStyle(e);
    const c = rgba(cs.backgroundColor);
    if (c[3] > 0) layers.push(c);
    if (c[3] >= 1) break;
    if (cs.backgroundImage !== "none") return null;
  }
  let bg = [255, 255, 255, 1];
  for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
  return bg;
};
const opacity = (el) => {
  let o = 1;
  for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity);
  return o;
};
const luminance = (c) => {
  const lin = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
};
const hex = (c) => "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
const checkContrast = (el, color, what) => {
  const cs = getComputedStyle(el);
  const bg = background(el);
  if (!bg) return;
  const fg = rgba(color);
  fg[3] *= opacity(el);
  if (fg[3] === 0) return;
  const fgc = over(fg, bg);
  const l1 = luminance(fgc), l2 = luminance(bg);
  const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  const size = parseFloat(cs.fontSize), weight = parseInt(cs.fontWeight, 10) || 400;
  const large = size >= 24 || (size >= 18.66 && weight >= 700);
  const need = large ? 3 : 4.5;
  if (ratio < need) {
    add("contrast", el, what + " contrast " + ratio.toFixed(2) + ":1 (" + hex(fgc) + " on " + hex(bg) + ", " + size + "px), needs " + need + ":1");
  }
};
const tiny = (el) => {
  const r = el.getBoundingClientRect();
  return r.width <= 1 || r.height <= 1; // visually hidden text for screen readers
};
for (const el of all) {
  if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "TITLE", "HEAD"].includes(el.tagName)) continue;
  const ownText = Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  const control = el.matches("input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=range]):not([type=color]):not([type=file]), select, textarea, button");
  if (!ownText && !control) continue;
  if (el.disabled || !rendered(el) || tiny(el)) continue;
  if (ownText || (control && (el.value || el.tagName === "SELECT"))) checkContrast(el, getComputedStyle(el).color, "text");
  if (control && el.placeholder && !el.value) checkContrast(el, getComputedStyle(el, "::placeholder").color, "placeholder");
}

// Text stays in its box: a word too long for it spills over the box's
// edge (over a card's border, off a narrow screen) unless the box wraps
// it (overflow-wrap) or scrolls.
for (const el of all) {
  if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "TITLE", "HEAD", "HTML", "BODY"].includes(el.tagName)) continue;
  if (el.matches("input, select, textarea, button") || !rendered(el)) continue;
  const ownText = Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  const cs = getComputedStyle(el);
  if (!ownText || cs.display === "inline" || cs.overflowX !== "visible") continue;
  if (el.scrollWidth > el.clientWidth + 1) add("overflow", el, "its text is " + el.scrollWidth + "px wide in a " + el.clientWidth + "px box");
}

// The page does not scroll sideways (WCAG 1.4.10: readable at 320px).
const root = document.documentElement;
if (root.scrollWidth > root.clientWidth + 1) {
  add("reflow", root, "the page is " + root.scrollWidth + "px wide in a " + root.clientWidth + "px viewport");
}

// What Tab should visit: focusable, rendered, not disabled, no negative
// tabindex, one radio button of each group (the checked one, else the
// first), in document order. A positive tabindex is a problem of its
// own: it takes the element out of document order.
const focusable = [];
const sel = "a[href], area[href], button, input, select, textarea, iframe, summary, [tabindex], [contenteditable]:not([contenteditable=false])";
for (const el of document.querySelectorAll(sel)) {
  if (el.disabled || el.type === "hidden" || !rendered(el) || el.closest("[inert]")) continue;
  const ti = el.getAttribute("tabindex");
  if (ti !== null && parseInt(ti, 10) < 0) continue;
  if (ti !== null && parseInt(ti, 10) > 0) add("tabindex", el, "tabindex " + ti + " takes the element out of document order");
  if (el.type === "radio" && el.name) {
    const group = Array.from(document.querySelectorAll("input[type=radio]")).filter((r) => r.name === el.name && r.form === el.form && !r.disabled && rendered(r));
    if (el !== (group.find((r) => r.checked) || group[0])) continue;
  }
  focusable.push({ index: indexOf(el), element: describe(el) });
}
return { problems, focusable };
