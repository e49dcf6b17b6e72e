// The intake step's form: when the person leaves the page (another tab, the app switcher, closing it)
// with answers typed but not saved, send them in the background, so nothing typed is lost.
// The page works without this: every button saves.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !navigator.sendBeacon) return;
  var changed = false;
  var leaving = false;
  form.addEventListener("input", function () { changed = true; });
  form.addEventListener("change", function () { changed = true; });
  // A button press saves by itself: nothing to send in the background then.
  form.addEventListener("submit", function () { leaving = true; });
  function save() {
    if (!changed || leaving) return;
    var data = new FormData(form);
    data.set("go", "autosave");
    if (navigator.sendBeacon(form.action, data)) changed = false;
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") save();
  });
  window.addEventListener("pagehide", save);
})();
