// Behaviour for every page, kept out of the HTML so the Content-Security-Policy needs no inline script.
document.addEventListener("DOMContentLoaded", () => {
  // the language switch submits itself (the <noscript> button covers browsers without script)
  document.querySelectorAll("select[data-autosubmit]").forEach(el =>
    el.addEventListener("change", () => el.form.submit()));
});

// Upload errors appear beside the form the user just used. A file over the limit is stopped before it is
// sent; a refusal htmx does not swap in (413 from the server's size check, a dropped connection) is shown
// as the server's text, never as markup.
function showUploadError(form, text) {
  let p = form.nextElementSibling;
  if (!p || !p.classList.contains("upload-error")) {
    p = document.createElement("p");
    p.className = "error upload-error";
    p.setAttribute("role", "alert");
    form.after(p);
  }
  p.textContent = text;
}

document.addEventListener("htmx:beforeRequest", e => {
  const form = e.detail.elt;
  if (!form || !form.dataset || !form.dataset.maxBytes) return;
  const input = form.querySelector("input[type=file]");
  const file = input && input.files && input.files[0];
  if (file && file.size > Number(form.dataset.maxBytes)) {
    e.preventDefault();
    showUploadError(form, form.dataset.tooLarge);
  }
});

document.addEventListener("htmx:responseError", e => {
  const form = e.detail.elt;
  if (!form || form.tagName !== "FORM") return;
  const xhr = e.detail.xhr;
  const doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
  showUploadError(form, (doc.body && doc.body.textContent.trim()) || `HTTP ${xhr.status}`);
});

document.addEventListener("htmx:sendError", e => {
  const form = e.detail.elt;
  if (form && form.dataset && form.dataset.tooLarge) showUploadError(form, form.dataset.tooLarge);
});
