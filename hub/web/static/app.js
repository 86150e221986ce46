// Light progressive enhancement; every page works without it.
// At the till: keep the code field focused for the next scan, and select what is there, so a USB
// scanner (which types the code then Enter) always starts from an empty field.
document.addEventListener("DOMContentLoaded", () => {
  const code = document.getElementById("code");
  if (code) {
    code.focus();
    code.select();
  }
  // A form is sent once: a second press (or a scanner's repeated Enter) while it is on its way is ignored.
  for (const form of document.querySelectorAll("form[method=post]")) {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
    });
  }
});
