// Draws every element with data-fig="<id of a json_script element holding the figure's JSON>" with Plotly.
// data-link="/some/url/0/": a click on a point goes there, with its customdata in place of the 0.
document.querySelectorAll("[data-fig]").forEach(el => {
  const src = document.getElementById(el.dataset.fig);
  if (!src) return;
  const fig = JSON.parse(JSON.parse(src.textContent));
  Plotly.newPlot(el, fig.data, fig.layout, {displaylogo: false, responsive: true});
  if (el.dataset.link) el.on("plotly_click", ev => {
    const id = ev.points[0].customdata;
    if (id) location.href = el.dataset.link.replace("0", id);
  });
});
