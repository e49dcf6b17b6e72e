// The procedure record: a "Now" button beside each time, so a tablet records the moment with one tap.
// The time is the tablet's clock, in its own zone (the office's); the field stays editable.
(function () {
  "use strict";
  function pad(n) { return String(n).padStart(2, "0"); }
  function nowValue() {
    var d = new Date();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  document.querySelectorAll('input[type="datetime-local"][data-now]').forEach(function (input) {
    var row = document.createElement("div");
    row.className = "now-row";
    input.parentNode.insertBefore(row, input);
    row.appendChild(input);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "now-button";
    button.textContent = document.documentElement.lang === "es" ? "Ahora" : "Now";
    var label = document.querySelector('label[for="' + input.id + '"]');
    button.setAttribute("aria-label", (document.documentElement.lang === "es" ? "Ahora: " : "Now: ") + (label ? label.textContent.trim() : ""));
    button.addEventListener("click", function () {
      input.value = nowValue();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    row.appendChild(button);
  });
})();
