// Starts GraphiQL against this router. Kept out of the HTML so the page can
// be served with a Content-Security-Policy that forbids inline scripts.
//
// The signed-in user's token (signin.js, window.AthenaAuth) reaches GraphiQL
// in two ways: it is written into the headers editor as `Authorization`, so
// the user sees what is sent and can edit or delete it; and every operation
// goes through `fetcher` below, which first renews the token if it is due
// and swaps a stale token of ours (another tab, a renewal since) for the
// current one. A value the user typed by hand is sent as it is.
(function () {
  "use strict";
  var React = window.React;
  var Auth = window.AthenaAuth;
  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint") || "/graphql";
  var url = new URL(endpoint, window.location.href);
  var wsUrl = new URL(endpoint, window.location.href);
  wsUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  var graphiqlFetcher = GraphiQL.createFetcher({
    url: url.href,
    subscriptionUrl: wsUrl.href,
    headers: { "graphql-preflight": "1" },
  });

  function fetcher(params, options) {
    return Auth.ready().then(function () {
      var headers = Auth.headersForRequest(options && options.headers);
      return graphiqlFetcher(params, Object.assign({}, options, { headers: headers }));
    });
  }

  // Rendered inside GraphiQL (its toolbar), where the editors' context is:
  // keeps the active tab's headers in step with the session.
  function AuthHeaders() {
    var context = GraphiQL.React.useEditorContext({ nonNull: true });
    var version = React.useSyncExternalStore(Auth.subscribe, Auth.snapshot);
    var handled = React.useRef(-1);
    var editor = context.headerEditor;
    React.useEffect(
      function () {
        if (!editor) return;
        var fresh = handled.current !== version;
        handled.current = version;
        var next = Auth.headersText(editor.getValue(), fresh && Auth.lastEvent() === "signin");
        if (next !== null) editor.setValue(next);
      },
      [editor, context.activeTabIndex, version]
    );
    return null;
  }

  var element = React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: false,
    toolbar: { additionalComponent: AuthHeaders },
  });
  ReactDOM.createRoot(root).render(element);
})();
