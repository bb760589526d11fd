// The page's LiveSocket, built from the globals of phoenix.min.js and phoenix_live_view.min.js.
(function () {
  var csrf = document.querySelector("meta[name='csrf-token']").getAttribute("content");
  var liveSocket = new LiveView.LiveSocket("/live", Phoenix.Socket, {
    longPollFallbackMs: 2500,
    params: {_csrf_token: csrf}
  });
  liveSocket.connect();
  window.liveSocket = liveSocket;
})();
