// The access report's Print button (no inline script: the CSP forbids it).
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("access-print");
  if (button) button.addEventListener("click", () => window.print());
});
