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
      : state.round < state.rounds ? "Time is up: the next round starts soon" : "Time is up";
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

  // The harvest (docs/harvest.md): the table's notes live, a note box, the
  // pledge in the last round, the votes at the end. Posting goes through the
  // JSON API with the page's token; the forms still work without JavaScript.
  var harvest = document.getElementById("harvest");
  if (!harvest) { return; }
  var code = harvest.dataset.code;
  var notesArea = document.getElementById("notes-area");
  var tableNotes = document.getElementById("table-notes");
  var earlierNotes = document.getElementById("earlier-notes");
  var earlierHeading = document.getElementById("earlier-heading");
  var noNotes = document.getElementById("no-notes");
  var noteForm = document.getElementById("note-form");
  var noteText = document.getElementById("note-text");
  var noteError = document.getElementById("note-error");
  var pledgeArea = document.getElementById("pledge-area");
  var voteArea = document.getElementById("vote-area");
  var voteList = document.getElementById("vote-notes");
  var voteStatus = document.getElementById("vote-status");
  var noteNews = document.getElementById("note-news");
  var api = "/api/v1/cafes/" + encodeURIComponent(code);
  var headers = { "Authorization": "Bearer " + harvest.dataset.token,
                  "Content-Type": "application/json" };

  function noteItem(note, meta) {
    var item = element("li", note.text);
    item.dataset.note = String(note.note_id);
    if (meta) {
      item.appendChild(document.createTextNode(" "));
      item.appendChild(element("span", "(" + meta + ")", "note-meta"));
    }
    return item;
  }

  function addTableNote(note) {
    if (tableNotes.querySelector('[data-note="' + note.note_id + '"]')) { return false; }
    tableNotes.appendChild(noteItem(note, note.author));
    noNotes.hidden = true;
    return true;
  }

  function showSeatNotes(next) {
    earlierNotes.replaceChildren();
    (next.earlier_notes || []).forEach(function (note) {
      earlierNotes.appendChild(noteItem(note, "round " + note.round));
    });
    earlierHeading.hidden = !(next.earlier_notes || []).length;
    tableNotes.replaceChildren();
    noNotes.hidden = false;
    (next.notes || []).forEach(addTableNote);
    harvest.dataset.table = String(next.table);
    harvest.dataset.round = String(next.round);
  }

  function showAreas() {
    if (!state) { return; }
    var running = state.status === "running";
    var seated = seat && running && seat.round === state.round;
    notesArea.hidden = !seated;
    pledgeArea.hidden = !(state.round > 0 && (state.status === "finished" ||
                          (running && state.round >= state.rounds)));
    if (state.status === "finished" && voteArea.hidden) { loadVotes(); }
  }

  // One button per note, kept (and so keeping the focus) as its vote changes:
  // its name stays "Vote"; aria-pressed says whether this person votes for it.
  function voteButton(note) {
    var button = element("button", "Vote ", "small");
    button.type = "button";
    var count = element("span", "", "vote-count");
    button.appendChild(count);
    button.appendChild(element("span", " votes", "visually-hidden"));
    function show() {
      button.setAttribute("aria-pressed", note.voted ? "true" : "false");
      count.textContent = String(note.votes);
    }
    show();
    button.addEventListener("click", function () {
      button.disabled = true;
      fetch(api + "/notes/" + note.note_id + "/vote",
            { method: note.voted ? "DELETE" : "POST", headers: headers })
        .then(function (reply) { return reply.json().then(function (body) {
          if (!reply.ok) { throw new Error(body.error ? body.error.message : "not saved"); }
          note.voted = body.voted;
          note.votes = body.votes;
          show();
          voteStatus.hidden = true;
        }); })
        .catch(function (error) {
          voteStatus.textContent = "Your vote was not saved: " + error.message + ".";
          voteStatus.hidden = false;
        })
        .then(function () { button.disabled = false; });
    });
    return button;
  }

  function loadVotes() {
    fetch(api + "/notes", { headers: headers })
      .then(function (reply) { return reply.ok ? reply.json() : null; })
      .then(function (body) {
        if (!body || !body.votes_open) { return; }
        voteList.replaceChildren();
        body.notes.forEach(function (note) {
          var item = element("li");
          item.dataset.note = String(note.note_id);
          item.appendChild(element("span", note.text, "note-text"));
          item.appendChild(document.createTextNode(" "));
          item.appendChild(element("span", "(round " + note.round + ", table " + note.table + ")",
                                   "note-meta"));
          item.appendChild(document.createTextNode(" "));
          item.appendChild(voteButton(note));
          voteList.appendChild(item);
        });
        if (!body.notes.length) { voteList.appendChild(element("li", "No notes were kept.")); }
        voteArea.hidden = false;
      });
  }

  // The vote forms the page came with become buttons that do not reload it.
  if (!voteArea.hidden) { loadVotes(); }

  noteForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = noteText.value.trim();
    if (!text) {
      noteError.textContent = "Write the note first.";
      noteError.hidden = false;
      noteText.setAttribute("aria-invalid", "true");
      noteText.focus();
      return;
    }
    var button = noteForm.querySelector("button");
    button.disabled = true;
    fetch(api + "/notes", { method: "POST", headers: headers,
                            body: JSON.stringify({ text: text }) })
      .then(function (reply) { return reply.json().then(function (body) {
        if (!reply.ok) { throw new Error(body.error ? body.error.message : "not saved"); }
        noteText.value = "";
        noteText.removeAttribute("aria-invalid");
        noteError.hidden = true;
      }); })
      .catch(function (error) {
        noteError.textContent = "Not saved: " + error.message;
        noteError.hidden = false;
        noteText.setAttribute("aria-invalid", "true");
      })
      .then(function () { button.disabled = false; });
  });

  socket.on("seat", function (next) { showSeatNotes(next); showAreas(); });
  socket.on("cafe_state", function () { showAreas(); });
  socket.on("note", function (note) {
    if (seat && note.round === seat.round && note.table === seat.table && addTableNote(note)) {
      noteNews.textContent = "New note: " + note.text;  // read out once, as it arrives
    }
  });
  socket.on("note_removed", function (gone) {
    [tableNotes, earlierNotes, voteList].forEach(function (list) {
      var item = list.querySelector('[data-note="' + gone.note_id + '"]');
      if (item) { item.remove(); }
    });
    noNotes.hidden = tableNotes.children.length > 0;
    earlierHeading.hidden = earlierNotes.children.length === 0;
  });
})();
