/* The console's only script, and every page works without it: the sync log's counts per
   status kept live, and a run page that shows its run again once its status changes. It
   reads two JSON addresses of the console (same origin, the session's cookie) every few
   seconds while the tab is visible, and stops at the first answer that is not plain JSON
   (signed out, the server gone). */
(function () {
  "use strict";
  var EVERY = 3000;

  function poll(url, use) {
    function turn() {
      if (document.hidden) {
        setTimeout(turn, EVERY);
        return;
      }
      fetch(url, {credentials: "same-origin", redirect: "manual", headers: {"Accept": "application/json"}})
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (body) {
          if (body !== null && use(body) !== false) setTimeout(turn, EVERY);
        })
        .catch(function () { /* the server is gone: the page stays as it is */ });
    }
    setTimeout(turn, EVERY);
  }

  function liveCounts(list) {
    poll(list.getAttribute("data-live"), function (body) {
      var shown = {};
      list.querySelectorAll("b[data-status]").forEach(function (count) {
        var status = count.getAttribute("data-status");
        var n = String(status === "" ? body.total : (body.counts[status] || 0));
        shown[status] = true;
        if (count.textContent !== n) count.textContent = n;
      });
      Object.keys(body.counts).forEach(function (status) {
        if (shown[status]) return;
        var item = document.createElement("li");
        var link = document.createElement("a");
        var count = document.createElement("b");
        item.className = "st-" + status;
        link.href = body.links[status];
        link.textContent = status + " ";
        count.setAttribute("data-status", status);
        count.textContent = String(body.counts[status]);
        link.appendChild(count);
        item.appendChild(link);
        list.appendChild(item);
      });
    });
  }

  function followRun(heading) {
    poll(heading.getAttribute("data-watch"), function (body) {
      if (body.status === heading.getAttribute("data-status")) return true;
      window.location.reload();
      return false;
    });
  }

  document.querySelectorAll("[data-live]").forEach(liveCounts);
  document.querySelectorAll("[data-watch]").forEach(followRun);
})();
