// The dashboard's charts, drawn with the vendored Chart.js from the JSON the page carries (the same
// numbers as its table). Money comes in integer cents and is shown in euros.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") return;
  const { data, labels, lang } = JSON.parse(source.textContent);
  const locale = lang === "en" ? "en-GB" : "fr-FR";
  const euros = (cents) => (cents / 100).toLocaleString(locale, { style: "currency", currency: "EUR" });
  const brand = "#8a3b12", second = "#1f7a3d", third = "#5d6778";
  Chart.defaults.animation = false;
  Chart.defaults.font.family = "DejaVu Sans, sans-serif";
  const moneyAxis = { ticks: { callback: (v) => euros(v) } };
  const moneyTooltip = { callbacks: { label: (c) => `${c.dataset.label}: ${euros(c.parsed.y)}` } };
  const charts = {
    "chart-members": {
      type: "bar",
      data: { labels: data.months, datasets: [
        { label: labels.enrolled, data: data.enrolled, backgroundColor: brand },
        { label: labels.visits, data: data.visits, type: "line", borderColor: second, backgroundColor: second },
      ] },
    },
    "chart-basket": {
      type: "line",
      data: { labels: data.months, datasets: [
        { label: labels.member_basket, data: data.member_basket, borderColor: brand, backgroundColor: brand },
        { label: labels.anonymous_basket, data: data.anonymous_basket, borderColor: third, backgroundColor: third },
      ] },
      options: { scales: { y: moneyAxis }, plugins: { tooltip: moneyTooltip } },
    },
    "chart-vouchers": {
      type: "bar",
      data: { labels: data.months, datasets: [
        { label: labels.vouchers_issued, data: data.vouchers_issued, backgroundColor: brand },
        { label: labels.vouchers_used, data: data.vouchers_used, backgroundColor: second },
      ] },
    },
    "chart-spend": {
      type: "bar",
      data: { labels: data.months, datasets: [
        { label: labels.member_spend, data: data.member_spend, backgroundColor: brand },
        { label: labels.anonymous_spend, data: data.anonymous_spend, backgroundColor: third },
      ] },
      options: { scales: { x: { stacked: true }, y: { stacked: true, ...moneyAxis } }, plugins: { tooltip: moneyTooltip } },
    },
  };
  for (const [id, config] of Object.entries(charts)) {
    const canvas = document.getElementById(id);
    if (!canvas) continue;
    new Chart(canvas, { ...config, options: { responsive: true, maintainAspectRatio: false, ...(config.options || {}) } });
    canvas.dataset.drawn = "1";
  }
});
