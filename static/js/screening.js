// Keyboard screening: each user's keys come from the page (json_script); the
// digits 1-9 exclude with that reason. Nothing fires while typing in a field.
(function () {
  "use strict";
  const keys = JSON.parse(document.getElementById("screening-shortcuts").textContent);
  const actionOf = {};
  Object.keys(keys).forEach(function (action) { actionOf[keys[action].toLowerCase()] = action; });

  function card() { return document.getElementById("record-card"); }

  function submitVote(action) {
    const form = document.getElementById("vote-form");
    const button = form && form.querySelector('button[data-action="' + action + '"]');
    if (!button) return false;
    const reason = form.querySelector('select[name="reason"]');
    if (action === "exclude" && card().dataset.needsReason === "1" && reason && !reason.value) {
      reason.focus();
      reason.classList.add("is-invalid");
      return true;  // wait for a digit (or a choice) before sending
    }
    if (action !== "exclude" && reason) reason.value = "";
    button.click();  // a click, so htmx sends the button's name and value
    return true;
  }

  function excludeWithReason(digit) {
    const form = document.getElementById("vote-form");
    const reason = form && form.querySelector('select[name="reason"]');
    if (!reason || digit >= reason.options.length) return false;
    reason.selectedIndex = digit;  // option 0 is the empty choice
    form.querySelector('button[data-action="exclude"]').click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    // One vote at a time: a key pressed while the last vote is on its way, or
    // before the next card is ready, would land on the wrong record.
    if (document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")) return;
    // The resolution form is worked with the mouse or Tab; its selects keep
    // their own keys.
    if (target.closest('[data-testid="resolve-form"]')) return;
    if (target.closest("input, textarea, select") && event.key === "Escape") {
      target.blur();
      return;
    }
    if (target.closest("input, textarea")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (target.closest("select") && !/^[1-9]$/.test(event.key)) return;
    let done = false;
    if (/^[1-9]$/.test(event.key)) {
      done = excludeWithReason(Number(event.key));
    } else {
      const action = actionOf[event.key.toLowerCase()];
      if (action === "include" || action === "maybe" || action === "exclude") {
        done = submitVote(action);
      } else if (action === "undo") {
        const form = document.getElementById("undo-form");
        if (form) { form.requestSubmit(); done = true; }
      } else if (action === "skip") {
        const link = card().querySelector('a[data-action="skip"]');
        if (link) { link.click(); done = true; }
      } else if (action === "note") {
        const note = card().querySelector('textarea[name="note"]');
        if (note) { note.focus(); done = true; }
      }
    }
    if (done) event.preventDefault();
  });
})();
