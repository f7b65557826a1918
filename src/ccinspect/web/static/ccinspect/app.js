// Behaviour for every page, kept out of the HTML so the Content-Security-Policy needs no inline script.
document.addEventListener("DOMContentLoaded", () => {
  // the language switch submits itself (the <noscript> button covers browsers without script)
  document.querySelectorAll("select[data-autosubmit]").forEach(el =>
    el.addEventListener("change", () => el.form.submit()));
});
