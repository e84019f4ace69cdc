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
  // keeps the active tab's headers in step with the session. Blank headers
  // (a new tab, a run picked from the history) get the token; `{}` typed by
  // the user means "send none" and is left alone.
  function AuthHeaders() {
    var context = GraphiQL.React.useEditorContext({ nonNull: true });
    var text = GraphiQL.React.useHeadersEditorState()[0];
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
      [editor, context.activeTabIndex, version, text]
    );
    return null;
  }

  // localStorage as GraphiQL uses it (tabs, history, settings), except that
  // no bearer token is ever written there.
  function safely(action, fallback) {
    try {
      return action();
    } catch (e) {
      return fallback; // storage disabled: GraphiQL works without it
    }
  }
  var storage = {
    getItem: function (key) {
      return safely(function () {
        return window.localStorage.getItem(key);
      }, null);
    },
    setItem: function (key, value) {
      safely(function () {
        window.localStorage.setItem(key, Auth.withoutTokens(value));
      });
    },
    removeItem: function (key) {
      safely(function () {
        window.localStorage.removeItem(key);
      });
    },
    clear: function () {
      safely(function () {
        Object.keys(window.localStorage)
          .filter(function (key) {
            return key.indexOf("graphiql:") === 0;
          })
          .forEach(function (key) {
            window.localStorage.removeItem(key);
          });
      });
    },
    key: function (index) {
      return safely(function () {
        return window.localStorage.key(index);
      }, null);
    },
    get length() {
      return safely(function () {
        return window.localStorage.length;
      }, 0);
    },
  };

  var element = React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: false,
    storage: storage,
    toolbar: { additionalComponent: AuthHeaders },
  });
  ReactDOM.createRoot(root).render(element);
})();
