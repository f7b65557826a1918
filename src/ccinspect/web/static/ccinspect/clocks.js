// Pending incident reporting clocks count down in the browser between page loads.
function ccTick() {
  const now = Date.now();
  document.querySelectorAll(".clock[data-deadline]").forEach(el => {
    const left = Number(el.dataset.deadline) - now, a = Math.abs(left), h = Math.floor(a / 3600000),
      m = Math.floor(a % 3600000 / 60000), s = Math.floor(a % 60000 / 1000);
    const t = (h ? h + ":" : "") + String(m).padStart(h ? 2 : 1, "0") + ":" + String(s).padStart(2, "0");
    const live = el.querySelector(".live") ||
      el.appendChild(Object.assign(document.createElement("span"), {className: "live muted"}));
    live.textContent = " (" + (left < 0 ? "−" : "") + t + ")";
  });
}
document.addEventListener("DOMContentLoaded", () => { ccTick(); setInterval(ccTick, 1000); });
