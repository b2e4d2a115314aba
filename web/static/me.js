// The personal page: the match arrives live over Socket.IO (the server picks the room
// from the token; the page never names one). Text only: no HTML from the server.
(function () {
  "use strict";
  var section = document.getElementById("match");
  var body = document.getElementById("match-body");
  if (!section || typeof io === "undefined") { return; }
  var socket = io({ auth: { token: section.dataset.token } });
  var met = document.getElementById("met");  // "did you meet?", for the current match
  var said = document.getElementById("met-said");
  var form = document.getElementById("feedback");  // how it went, for the current match

  function element(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  socket.on("match", function (match) {
    body.replaceChildren();
    if (section.dataset.round !== String(match.round)) {
      section.dataset.round = String(match.round);  // a new round: not answered yet
      said.textContent = "";
      form.elements["round"].value = String(match.round);
      Array.prototype.forEach.call(form.querySelectorAll("input[type=radio], input[type=checkbox]"),
        function (input) { input.checked = false; });
      form.elements["learnt"].value = "";
      var error = document.getElementById("feedback-error");
      if (error) { error.remove(); }
    }
    met.hidden = Boolean(match.sitting_out);
    if (match.sitting_out) {
      body.appendChild(element("p", "Round " + match.round +
        ": you sit this round out (everyone does in turn)."));
      return;
    }
    body.appendChild(element("p", "Round " + match.round + ": meet"));
    var list = element("ul");
    match.partners.forEach(function (partner) {
      var item = element("li");
      item.appendChild(element("strong", partner.name));
      item.appendChild(document.createTextNode(", " + partner.department + " — "));
      var mail = element("a", partner.email);
      mail.href = "mailto:" + partner.email;
      item.appendChild(mail);
      list.appendChild(item);
    });
    body.appendChild(list);
  });
})();
