/* Keyboard triage for the review service (vendored, no build step; loaded with defer from the same
 * origin, so the CSP stays default-src 'self'). Every page works without it.
 *
 * Queue (table#queue-table[data-keys=queue], rows tr[data-href]):
 *   j / k        move the highlighted row down / up (class "current", aria-selected)
 *   Enter / o    open the highlighted row's clue
 * Clue page (form#decision-form[data-keys=decision], options with data-key):
 *   i / c / d    choose 核查中 / 属实 / 不属实 in the decision form and move the focus into it
 *                (不属实 focuses the reason); nothing is saved until the form is submitted
 *   Ctrl+Enter   submit the decision form (the normal, CSRF-protected POST)
 *   n / p        next / previous clue of the queue (a#next-clue, a#prev-clue, computed by the server)
 * Keys typed into a field, or with Alt/Meta (and Ctrl, except Ctrl+Enter), are left alone.
 */
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function follow(id) {
    var link = document.getElementById(id);
    if (link && link.href) { window.location.assign(link.href); return true; }
    return false;
  }

  function queueKeys(table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]"));
    var at = -1;
    function highlight(index) {
      if (!rows.length) { return; }
      index = Math.max(0, Math.min(rows.length - 1, index));
      if (at >= 0) { rows[at].classList.remove("current"); rows[at].removeAttribute("aria-selected"); }
      at = index;
      rows[at].classList.add("current");
      rows[at].setAttribute("aria-selected", "true");
      rows[at].scrollIntoView({block: "nearest"});
      table.setAttribute("data-current", rows[at].getAttribute("data-clue-id") || "");
    }
    return function (event) {
      if (event.key === "j") { highlight(at + 1); return true; }
      if (event.key === "k") { highlight(at < 0 ? 0 : at - 1); return true; }
      var onControl = event.target && /^(a|button)$/i.test(event.target.tagName || "");
      if ((event.key === "o" || (event.key === "Enter" && !onControl)) && at >= 0) {
        window.location.assign(rows[at].getAttribute("data-href"));
        return true;
      }
      return false;
    };
  }

  function decisionKeys(form) {
    var status = form.querySelector("#decision-status");
    var reason = form.querySelector("#decision-reason");
    var note = form.querySelector("#decision-note");
    return function (event) {
      if (!status) { return false; }
      var options = status.querySelectorAll("option[data-key]");
      for (var i = 0; i < options.length; i++) {
        if (options[i].getAttribute("data-key") === event.key) {
          status.value = options[i].value;
          status.dispatchEvent(new Event("change", {bubbles: true}));
          var next = options[i].value === "dismissed" && reason ? reason : (note || status);
          next.focus();
          form.setAttribute("data-chosen", options[i].value);
          return true;
        }
      }
      return false;
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.querySelector("table[data-keys=queue]");
    var form = document.querySelector("form[data-keys=decision]");
    var onQueue = table ? queueKeys(table) : null;
    var onDecision = form ? decisionKeys(form) : null;
    var onClue = document.querySelector("nav[data-keys=clue]") !== null;
    document.addEventListener("keydown", function (event) {
      if (form && event.key === "Enter" && event.ctrlKey && form.contains(event.target)) {
        event.preventDefault();
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
        return;
      }
      if (event.altKey || event.metaKey || event.ctrlKey || typing(event.target)) { return; }
      var done = false;
      if (onQueue) { done = onQueue(event); }
      if (!done && onDecision) { done = onDecision(event); }
      if (!done && onClue && event.key === "n") { done = follow("next-clue"); }
      if (!done && onClue && event.key === "p") { done = follow("prev-clue"); }
      if (done) { event.preventDefault(); }
    });
  });
}());
