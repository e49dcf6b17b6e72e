/* The signature pad of the consent pages: draw with a finger, stylus or mouse (pointer events).
   The drawing goes into the form's hidden field as a PNG (data: URL) whenever a stroke ends;
   "Clear" empties both. Without this script (or a pointer) the page offers the typed
   signature instead: the pad stays hidden. No inline script (CSP): texts come from data-*. */
(function () {
  "use strict";
  var pad = document.querySelector("[data-signature-pad]");
  if (!pad) return;
  var canvas = pad.querySelector("canvas");
  var input = document.getElementById(pad.getAttribute("data-input"));
  var clear = pad.querySelector("[data-clear]");
  var status = pad.querySelector("[data-status]");
  if (!canvas || !input || !canvas.getContext) return;
  var context = canvas.getContext("2d");
  var drawing = false;
  var inked = false;
  var last = null;

  function setUp() {
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * ratio);
    canvas.height = Math.round(canvas.clientHeight * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#111111";
    context.fillStyle = "#111111";
  }

  function at(event) {
    var box = canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  function say(text) {
    if (status) status.textContent = text || "";
  }

  function save() {
    if (!inked) return;
    input.value = canvas.toDataURL("image/png");
    say(pad.getAttribute("data-drawn"));
  }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
    drawing = true;
    last = at(event);
    context.beginPath();
    context.arc(last.x, last.y, 1.25, 0, 2 * Math.PI);
    context.fill();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) return;
    event.preventDefault();
    var point = at(event);
    context.beginPath();
    context.moveTo(last.x, last.y);
    context.lineTo(point.x, point.y);
    context.stroke();
    last = point;
    inked = true;
  });
  ["pointerup", "pointercancel"].forEach(function (name) {
    canvas.addEventListener(name, function () {
      if (!drawing) return;
      drawing = false;
      save();
    });
  });
  if (clear) {
    clear.addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      input.value = "";
      inked = false;
      say(pad.getAttribute("data-cleared"));
    });
  }

  pad.hidden = false;
  setUp();
  // A signature kept from a form sent back with an error is drawn again, so it is not lost.
  if (input.value.indexOf("data:image/png;base64,") === 0) {
    var kept = new Image();
    kept.onload = function () {
      context.drawImage(kept, 0, 0, canvas.clientWidth, canvas.clientHeight);
      inked = true;
      say(pad.getAttribute("data-drawn"));
    };
    kept.src = input.value;
  }
  window.addEventListener("resize", function () {
    // Resizing clears a canvas: only an empty pad follows the new width.
    if (!inked) setUp();
  });
})();
