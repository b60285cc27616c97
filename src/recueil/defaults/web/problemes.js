// Project dashboard: reload when the project's files change (the server says so).
(function () {
  "use strict";
  var board = document.querySelector(".board");
  if (!board || !window.EventSource) { return; }
  var source = new EventSource(board.dataset.events);
  source.onmessage = function (event) {
    var state = JSON.parse(event.data);
    if (state.version && state.version !== board.dataset.version) { window.location.reload(); }
  };
})();
