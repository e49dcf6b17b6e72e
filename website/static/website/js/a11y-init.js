/* Applies the visitor's saved accessibility choices before the page paints.
   Choices live in localStorage (no cookie, never sent to the server). */
(function () {
  "use strict";
  var prefs;
  try {
    prefs = JSON.parse(window.localStorage.getItem("rc-a11y") || "{}") || {};
  } catch (e) {
    prefs = {};
  }
  var root = document.documentElement;
  var size = Math.max(0, Math.min(4, parseInt(prefs.size, 10) || 0));
  if (size) root.setAttribute("data-text-size", String(size));
  ["contrast", "underline", "font", "motion"].forEach(function (name) {
    if (prefs[name] === true) root.classList.add("a11y-" + name);
  });
  root.classList.add("js");
})();
