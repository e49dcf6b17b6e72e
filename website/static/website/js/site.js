/* The accessibility toolbar and the back-to-top button, on every public page. */
(function () {
  "use strict";
  var KEY = "rc-a11y";
  var SIZES = ["100%", "125%", "150%", "175%", "200%"];
  var SWITCHES = ["contrast", "underline", "font", "motion"];
  var root = document.documentElement;

  function load() {
    try {
      return JSON.parse(window.localStorage.getItem(KEY) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function save(prefs) {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(prefs));
    } catch (e) {
      /* Private browsing may refuse storage; the choice still applies to this page. */
    }
  }

  function apply(prefs) {
    var size = Math.max(0, Math.min(SIZES.length - 1, prefs.size || 0));
    if (size) root.setAttribute("data-text-size", String(size));
    else root.removeAttribute("data-text-size");
    var output = document.getElementById("a11y-size");
    if (output) output.textContent = SIZES[size];
    SWITCHES.forEach(function (name) {
      var on = prefs[name] === true;
      root.classList.toggle("a11y-" + name, on);
      var button = document.querySelector('[data-a11y="' + name + '"]');
      if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
    });
    var smaller = document.querySelector('[data-a11y="smaller"]');
    var larger = document.querySelector('[data-a11y="larger"]');
    if (smaller) smaller.disabled = size === 0;
    if (larger) larger.disabled = size === SIZES.length - 1;
  }

  function setUpToolbar() {
    /* The toolbar is a <details>: the browser opens and closes it, and it is on screen, at
       its size, before this script runs (nothing moves when it does). Script adds the rest. */
    var toolbar = document.getElementById("a11y");
    var toggle = document.getElementById("a11y-toggle");
    var panel = document.getElementById("a11y-panel");
    if (!toolbar || !toggle || !panel) return;
    var prefs = load();
    apply(prefs);

    function close(returnFocus) {
      toolbar.open = false;
      if (returnFocus) toggle.focus();
    }

    toolbar.addEventListener("toggle", function () {
      if (!toolbar.open) return;
      var first = panel.querySelector("button:not([disabled])");
      if (first) first.focus();
    });

    toolbar.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toolbar.open) {
        event.preventDefault();
        close(true);
      }
    });

    document.addEventListener("click", function (event) {
      if (toolbar.open && !toolbar.contains(event.target)) close(false);
    });

    panel.addEventListener("click", function (event) {
      var button = event.target.closest("[data-a11y]");
      if (!button) return;
      var action = button.getAttribute("data-a11y");
      prefs = load();
      if (action === "larger") prefs.size = Math.min(SIZES.length - 1, (prefs.size || 0) + 1);
      else if (action === "smaller") prefs.size = Math.max(0, (prefs.size || 0) - 1);
      else if (action === "reset") prefs = {};
      else prefs[action] = !(prefs[action] === true);
      save(prefs);
      apply(prefs);
      /* Keep focus on a usable control when the pressed one becomes disabled. */
      if (button.disabled) {
        var other = panel.querySelector('[data-a11y="' + (action === "larger" ? "smaller" : "larger") + '"]');
        if (other) other.focus();
      }
    });
  }

  function setUpBackToTop() {
    var button = document.getElementById("to-top");
    if (!button) return;
    var ticking = false;
    function update() {
      button.hidden = window.scrollY < 400;
      ticking = false;
    }
    window.addEventListener("scroll", function () {
      if (!ticking) {
        ticking = true;
        window.requestAnimationFrame(update);
      }
    }, { passive: true });
    button.addEventListener("click", function () {
      var reduce = root.classList.contains("a11y-motion") ||
        (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
      window.scrollTo({ top: 0, behavior: reduce ? "auto" : "smooth" });
      var main = document.getElementById("main");
      if (main) main.focus({ preventScroll: true });
    });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpToolbar();
    setUpBackToTop();
  });
})();
