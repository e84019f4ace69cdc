// Starts GraphiQL against this router. Kept out of the HTML so the page can
// be served with a Content-Security-Policy that forbids inline scripts.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint") || "/graphql";
  var url = new URL(endpoint, window.location.href);
  var wsUrl = new URL(endpoint, window.location.href);
  wsUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({
    url: url.href,
    subscriptionUrl: wsUrl.href,
  });
  var element = React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: false,
  });
  ReactDOM.createRoot(root).render(element);
})();
