// A participant's café page: the state and their seat arrive live over Socket.IO
// (the server picks the rooms from the token). Text only: no HTML from the server.
(function () {
  "use strict";
  var section = document.getElementById("seat");
  var body = document.getElementById("seat-body");
  var timer = document.getElementById("timer");
  if (!section || typeof io === "undefined") { return; }
  var socket = io({ auth: { token: section.dataset.token } });
  var state = null;
  var seat = null;
  var shownRound = Number(section.dataset.round || 0);  // the seat the page came with

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function render() {
    body.replaceChildren();
    if (!state) { return; }
    if (state.status === "finished") {
      body.appendChild(element("p", "The café has finished. Thank you!", "big"));
      timer.hidden = true;
      return;
    }
    if (seat && seat.round === state.round && state.status === "running") {
      body.appendChild(element("p", "Table " + seat.table, "table-number"));
      var line = element("p", "Round " + seat.round + " of " + state.rounds);
      if (seat.table_role === "host") {
        line.appendChild(document.createTextNode(" · "));
        line.appendChild(element("strong", "you host this table: stay here"));
      }
      body.appendChild(line);
      if (seat.question) { body.appendChild(element("p", seat.question, "question")); }
      body.appendChild(element("h3", "At your table"));
      var list = element("ul");
      seat.companions.forEach(function (person) {
        var item = element("li");
        item.appendChild(element("strong", person.name));
        item.appendChild(document.createTextNode(", " + person.department));
        list.appendChild(item);
      });
      body.appendChild(list);
      timer.hidden = false;
      return;
    }
    timer.hidden = true;
    if (state.status === "running") {
      body.appendChild(element("p", "Round " + state.round +
        " is under way. You will be seated from the next round.", "big"));
      return;
    }
    body.appendChild(element("p", "Waiting for the café to start…", "big"));
    var count = element("p");
    count.appendChild(element("span", String(state.present)));
    count.appendChild(document.createTextNode(" people are here."));
    body.appendChild(count);
  }

  function tick() {
    if (!state || !state.ends_at || timer.hidden) { return; }
    var left = Math.max(0, Math.round((Date.parse(state.ends_at) - Date.now()) / 1000));
    var minutes = Math.floor(left / 60);
    var seconds = left % 60;
    timer.textContent = left > 0
      ? minutes + ":" + (seconds < 10 ? "0" : "") + seconds + " left"
      : "Time is up: the next round starts soon";
  }

  socket.on("cafe_state", function (next) {
    var changed = !state || state.status !== next.status || state.round !== next.round;
    state = next;
    if (changed || next.status === "lobby") { render(); }
    tick();
  });
  socket.on("seat", function (next) {
    // A buzz for a new table, not for the seat sent on (re)connecting; and only once
    // the person has touched the page (browsers refuse, and log an error, before).
    var moved = next.round > shownRound;
    shownRound = Math.max(shownRound, next.round);
    seat = next;
    if (state && next.round > state.round) {
      state.round = next.round;
      state.status = "running";
      state.ends_at = next.ends_at;
    }
    render();
    tick();
    if (moved && navigator.vibrate &&
        (!navigator.userActivation || navigator.userActivation.hasBeenActive)) {
      navigator.vibrate(200);
    }
  });
  setInterval(tick, 1000);
})();
