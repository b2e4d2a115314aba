// The host console: the head count, the timer and the tables, live. The server
// puts this browser (its organiser session) in its cafés' rooms; the page only
// picks out its own café's events. Text only: no HTML from the server.
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root || typeof io === "undefined") { return; }
  var code = root.dataset.code;
  var present = document.getElementById("console-present");
  var timer = document.getElementById("console-timer");
  var tables = document.getElementById("tables");
  var endsAt = timer.dataset.endsAt || null;
  var status = document.getElementById("console-status");
  var after = document.getElementById("next-after");  // the round this page shows
  var next = document.getElementById("next-round");
  var listed = Number(document.getElementById("people-heading").dataset.listed);
  var changed = document.getElementById("people-changed");
  var refresh = window.location.pathname;

  function showChanged(here) {
    // The list below is as the page was loaded: say when the room has changed.
    changed.hidden = here === listed;
    if (here === listed) { return; }
    changed.replaceChildren(document.createTextNode(
      here + " here now, " + listed + " in the list below: "));
    var link = element("a", "refresh the list");
    link.href = refresh;
    changed.appendChild(link);
    changed.appendChild(document.createTextNode("."));
  }
  var socket = io();

  function element(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function tick() {
    if (!endsAt) { timer.textContent = "–"; return; }
    var left = Math.max(0, Math.round((Date.parse(endsAt) - Date.now()) / 1000));
    var seconds = left % 60;
    timer.textContent = Math.floor(left / 60) + ":" + (seconds < 10 ? "0" : "") + seconds;
  }

  socket.on("cafe_state", function (state) {
    if (state.join_code !== code) { return; }
    present.textContent = String(state.present);
    showChanged(state.present);
    endsAt = state.ends_at;
    tick();
    // Another console (or another tab) may have moved the café on: show where it
    // is, so "next round" means the round after the one on the screen.
    status.textContent = state.status === "lobby" ? "Lobby" : state.status === "running"
      ? "Round " + state.round + " of " + state.rounds : "Finished";
    if (after && next) {
      after.value = String(state.round);
      if (state.status === "finished" || state.round >= state.rounds) {
        document.getElementById("next-form").hidden = true;
      } else {
        next.textContent = state.status === "lobby" ? "Start the café (round 1)"
          : "Next round (" + (state.round + 1) + " of " + state.rounds + ")";
      }
    }
  });
  // The harvest panel: this round's notes from every table, newest first.
  var notes = document.getElementById("console-notes");
  var noNotes = document.getElementById("console-no-notes");
  var notesRound = null;

  function noteItem(note) {
    var item = element("li", note.text + " ");
    item.dataset.note = String(note.note_id);
    var meta = element("span", "(table " + note.table + (note.author ? ", " + note.author : "") + ")");
    meta.className = "note-meta";
    item.appendChild(meta);
    return item;
  }

  socket.on("note", function (note) {
    if (note.cafe !== code || (notesRound !== null && note.round !== notesRound)) { return; }
    if (notes.querySelector('[data-note="' + note.note_id + '"]')) { return; }
    notes.insertBefore(noteItem(note), notes.firstChild);
    noNotes.hidden = true;
  });

  socket.on("note_removed", function (gone) {
    if (gone.cafe !== code) { return; }
    var item = notes.querySelector('[data-note="' + gone.note_id + '"]');
    if (item) { item.remove(); }
    noNotes.hidden = notes.children.length > 0;
  });

  socket.on("cafe_screen", function (view) {
    if (view.join_code !== code) { return; }
    present.textContent = String(view.present);
    if (view.round !== notesRound) {
      notesRound = view.round;
      notes.replaceChildren();
      (view.notes || []).forEach(function (note) { notes.appendChild(noteItem(note)); });
      noNotes.hidden = notes.children.length > 0;
    }
    if (!view.tables.length) { return; }
    tables.replaceChildren();
    view.tables.forEach(function (table) {
      var card = element("article");
      card.className = "console-table";
      card.appendChild(element("h3", "Table " + table.table));
      var list = element("ul");
      table.members.forEach(function (person) {
        list.appendChild(element("li", person.name + " — " + person.department +
          (person.host ? " (host)" : "")));
      });
      card.appendChild(list);
      tables.appendChild(card);
    });
  });
  setInterval(tick, 1000);
  tick();
})();
