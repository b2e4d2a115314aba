// The printable plans' Print button (a file, not an inline handler: the
// Content-Security-Policy allows scripts from this site's files only).
"use strict";
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
