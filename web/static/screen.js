// The big screen: the lobby (code, QR, head count), then every table, the question
// and the timer, live. Text only: no HTML from the server.
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root || typeof io === "undefined") { return; }
  var socket = io({ auth: { screen: root.dataset.key } });
  var lobby = document.getElementById("lobby");
  var tables = document.getElementById("tables");
  var question = document.getElementById("screen-question");
  var round = document.getElementById("screen-round");
  var present = document.getElementById("screen-present");
  var timer = document.getElementById("screen-timer");
  var hint = document.getElementById("screen-join-hint");
  var wall = document.getElementById("wall");
  var wallHeading = document.getElementById("wall-heading");
  var wallNotes = document.getElementById("wall-notes");
  var endsAt = timer.dataset.endsAt || null;
  var status = null;
  var shownRound = null;

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function tick() {
    if (!endsAt || status !== "running") { timer.textContent = ""; return; }
    var left = Math.max(0, Math.round((Date.parse(endsAt) - Date.now()) / 1000));
    var seconds = left % 60;
    timer.textContent = Math.floor(left / 60) + ":" + (seconds < 10 ? "0" : "") + seconds;
  }

  socket.on("cafe_screen", function (view) {
    status = view.status;
    endsAt = view.ends_at;
    present.textContent = String(view.present);
    lobby.hidden = view.status !== "lobby";
    tables.hidden = hint.hidden = view.status !== "running";
    round.textContent = view.status === "running" ? "Round " + view.round + " of " + view.rounds
      : view.status === "finished" ? "Thank you!" : "Starting soon";
    question.textContent = view.question || "";
    question.hidden = !view.question || view.status !== "running";
    tables.replaceChildren();
    view.tables.forEach(function (table) {
      var card = element("article", undefined, "table-card");
      card.appendChild(element("h2", "Table " + table.table));
      var list = element("ul");
      table.members.forEach(function (person) {
        var item = element("li", person.name + " ");
        item.appendChild(element("span", person.department));
        if (person.host) {
          item.className = "host";
          item.appendChild(document.createTextNode(" "));
          item.appendChild(element("em", "(host)"));
        }
        list.appendChild(item);
      });
      card.appendChild(list);
      tables.appendChild(card);
    });
    showWall(view);
    tick();
  });

  // The harvest wall: the current question's notes as they come during a round,
  // the most voted at the end.
  function wallItem(note, meta) {
    var item = element("li", note.text + " ");
    item.dataset.note = String(note.note_id);
    item.appendChild(element("span", meta));
    return item;
  }

  function showWall(view) {
    shownRound = view.round;
    wallNotes.replaceChildren();
    var top = view.top_notes || [];
    wallHeading.textContent = top.length ? "What mattered most" : "What the tables are saying";
    (top.length ? top : view.notes || []).forEach(function (note) {
      wallNotes.appendChild(wallItem(note, top.length
        ? note.votes + (note.votes === 1 ? " vote" : " votes") : "table " + note.table));
    });
    wall.hidden = !wallNotes.children.length;
  }

  socket.on("note", function (note) {
    if (status !== "running" || note.round !== shownRound) { return; }
    if (wallNotes.querySelector('[data-note="' + note.note_id + '"]')) { return; }
    wallNotes.insertBefore(wallItem(note, "table " + note.table), wallNotes.firstChild);
    wall.hidden = false;
  });
  socket.on("note_removed", function (gone) {
    var item = wallNotes.querySelector('[data-note="' + gone.note_id + '"]');
    if (item) { item.remove(); }
    wall.hidden = !wallNotes.children.length;
  });
  socket.on("cafe_state", function (state) {
    present.textContent = String(state.present);
    endsAt = state.ends_at;
    tick();
  });
  setInterval(tick, 1000);
})();
