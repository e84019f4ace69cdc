// Sign-in for the GraphiQL page: a staff member signs in with the graph's
// own `login` mutation and GraphiQL sends the access token as
// `Authorization: Bearer ...` (init.js puts it in the headers editor).
//
// Where the tokens live, and why:
// - the access token (15 minutes) only in memory: nothing to steal at rest;
// - the refresh token (rotating, each works once) in sessionStorage: it
//   survives a reload of this tab, so reloading GraphiQL does not ask for
//   the password and MFA code again, but it is not shared with other tabs
//   and is gone when the tab closes. Never localStorage (kept for weeks,
//   shared by every tab) and never a cookie (sent by the browser on its own).
//
// The access token is renewed with `refreshToken` a little before
// `accessTokenExpiresAt` (a quarter of its lifetime, at most a minute
// before), and also right before an operation if a sleeping laptop or a
// throttled background tab let that moment pass. Sign-out ends the session
// on the server (`logout`) and forgets both tokens.
//
// Every request this file sends is a JSON POST that also carries
// `graphql-preflight`, so the router's CSRF prevention lets it through.
(function () {
  "use strict";

  var STORAGE_KEY = "athena.graphiql.refreshToken";
  var MAX_LEAD_MS = 60 * 1000;
  var RETRY_MS = 5 * 1000;
  var MAX_NOISE_MS = 5 * 1000;

  var SESSION =
    "fragment GraphiQLSession on AuthPayload {" +
    " accessToken accessTokenExpiresAt refreshToken" +
    " user { id email name roles }" +
    " userErrors { field code message } }";
  var LOGIN =
    "mutation GraphiQLSignIn($email: String!, $password: String!, $otp: String) {" +
    " login(email: $email, password: $password, otp: $otp) { ...GraphiQLSession } } " +
    SESSION;
  var REFRESH =
    "mutation GraphiQLRefresh($token: String!) {" +
    " refreshToken(refreshToken: $token) { ...GraphiQLSession } } " +
    SESSION;
  var LOGOUT = "mutation GraphiQLSignOut { logout { ok } }";

  var root = document.getElementById("graphiql");
  var endpoint = new URL(root.getAttribute("data-endpoint") || "/graphql", window.location.href)
    .href;

  // ---- state -------------------------------------------------------------

  // {token, expiresAt (local ms), refreshAt (local ms), user} or null
  var session = null;
  // Every access token this page was given: an Authorization header holding
  // one of them is ours to renew or remove; any other value the user typed.
  var issued = new Set();
  var listeners = new Set();
  var version = 0;
  var lastEvent = "init"; // signin | refresh | signout | init
  var timer = null;
  var refreshing = null;

  var store = {
    get: function () {
      try {
        return window.sessionStorage.getItem(STORAGE_KEY);
      } catch (e) {
        return null; // storage disabled: the session lasts as long as the page
      }
    },
    set: function (value) {
      try {
        if (value) window.sessionStorage.setItem(STORAGE_KEY, value);
        else window.sessionStorage.removeItem(STORAGE_KEY);
      } catch (e) {
        /* storage disabled */
      }
    },
  };
  var memoryRefreshToken = null; // used when sessionStorage is unavailable

  function refreshTokenNow() {
    return store.get() || memoryRefreshToken;
  }

  function keepRefreshToken(value) {
    memoryRefreshToken = value;
    store.set(value);
  }

  function emit(event) {
    version += 1;
    lastEvent = event;
    listeners.forEach(function (listener) {
      listener();
    });
    render();
  }

  // ---- talking to the graph ------------------------------------------------

  function post(operationName, query, variables, token) {
    var headers = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json;q=0.9",
      "graphql-preflight": "1",
    };
    if (token) headers.authorization = "Bearer " + token;
    return window
      .fetch(endpoint, {
        method: "POST",
        headers: headers,
        body: JSON.stringify({
          query: query,
          variables: variables,
          operationName: operationName,
        }),
        credentials: "same-origin",
        cache: "no-store",
      })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (body) {
            return { status: response.status, date: response.headers.get("date"), body: body };
          });
      });
  }

  // The payload of a mutation, or an Error carrying the first GraphQL error.
  function payloadOf(answer, field) {
    var body = answer.body || {};
    var payload = body.data && body.data[field];
    if (payload) return payload;
    var first = body.errors && body.errors[0];
    var error = new Error(
      first && first.message ? first.message : "The server answered HTTP " + answer.status + "."
    );
    error.graphql = true;
    throw error;
  }

  function claims(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(window.atob(part));
    } catch (e) {
      return {};
    }
  }

  // How long the token lives from now, on the server's clock: a browser
  // whose clock is off by minutes still renews in time. The Date header has
  // one-second resolution (and servers cache it), so a difference of a few
  // seconds is noise, not skew.
  function lifetimeMs(payload, serverDate) {
    var now = Date.now();
    var expires = Date.parse(payload.accessTokenExpiresAt || "");
    if (isNaN(expires)) {
      var c = claims(payload.accessToken);
      return c.exp && c.iat ? (c.exp - c.iat) * 1000 : 0;
    }
    var skew = Date.parse(serverDate || "") - now;
    if (isNaN(skew) || Math.abs(skew) < MAX_NOISE_MS) skew = 0;
    return expires - (now + skew);
  }

  function adopt(payload, serverDate, event) {
    var now = Date.now();
    var ttl = Math.max(0, lifetimeMs(payload, serverDate));
    var lead = Math.min(MAX_LEAD_MS, ttl / 4);
    session = {
      token: payload.accessToken,
      expiresAt: now + ttl,
      refreshAt: now + ttl - lead,
      user: payload.user,
    };
    issued.add(payload.accessToken);
    keepRefreshToken(payload.refreshToken);
    schedule(session.refreshAt - now);
    setMessage("", "");
    emit(event);
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      refresh();
    }, Math.max(0, delay));
  }

  function forget(message, tone) {
    window.clearTimeout(timer);
    session = null;
    keepRefreshToken(null);
    setMessage(message, tone);
    emit("signout");
  }

  // One renewal at a time: the timer and an operation may both ask for it.
  function refresh() {
    if (!refreshing) {
      refreshing = renew().finally(function () {
        refreshing = null;
      });
    }
    return refreshing;
  }

  function renew() {
    var token = refreshTokenNow();
    if (!token) {
      if (session) forget("Your session has ended; sign in again.", "error");
      return Promise.resolve();
    }
    return post("GraphiQLRefresh", REFRESH, { token: token }).then(
      function (answer) {
        var payload;
        try {
          payload = payloadOf(answer, "refreshToken");
        } catch (error) {
          return retryOrEnd(error.message);
        }
        if (payload.accessToken) {
          adopt(payload, answer.date, session ? "refresh" : "signin");
          return;
        }
        // refused (used twice, expired, revoked): the session is over
        var userError = (payload.userErrors || [])[0];
        forget(
          "Your session has ended" +
            (userError ? " (" + userError.message + ")" : "") +
            "; sign in again.",
          "error"
        );
      },
      function () {
        return retryOrEnd("The server could not be reached to renew the session.");
      }
    );
  }

  // A failed renewal is retried while the current token is still good.
  function retryOrEnd(message) {
    if (session && Date.now() + RETRY_MS < session.expiresAt) {
      setMessage(message + " Retrying…", "error");
      schedule(RETRY_MS);
      return;
    }
    if (session) {
      forget(message + " Sign in again.", "error");
      return;
    }
    // restoring after a reload: keep the refresh token for the next try
    setMessage(message + " Reload the page to try again, or sign in.", "error");
  }

  function signIn(email, password, otp) {
    return post("GraphiQLSignIn", LOGIN, {
      email: email,
      password: password,
      otp: otp || null,
    }).then(function (answer) {
      var payload = payloadOf(answer, "login");
      if (payload.accessToken) {
        adopt(payload, answer.date, "signin");
        return { ok: true };
      }
      return { ok: false, userErrors: payload.userErrors || [] };
    });
  }

  function signOut() {
    var token = session && session.token;
    forget("Signed out.", "");
    if (!token) return Promise.resolve();
    // Ends the session on the server too, so the access token stops working
    // now rather than at its expiry.
    return post("GraphiQLSignOut", LOGOUT, {}, token).then(
      function () {},
      function () {
        setMessage("Signed out here; the server could not be told.", "error");
      }
    );
  }

  // ---- what init.js uses -----------------------------------------------------

  // Resolves once the token is fresh enough to send (renewing it if due).
  function ready() {
    if (refreshing) return refreshing;
    if (session && Date.now() >= session.refreshAt) return refresh();
    return Promise.resolve();
  }

  function authorization() {
    return session ? "Bearer " + session.token : null;
  }

  function isOurs(value) {
    var m = /^\s*Bearer\s+(\S+)\s*$/i.exec(String(value || ""));
    return !!m && issued.has(m[1]);
  }

  function authorizationKey(headers) {
    return Object.keys(headers).find(function (k) {
      return k.toLowerCase() === "authorization";
    });
  }

  // The headers an operation is sent with: a token this page put there is
  // replaced by the current one (or dropped once signed out); anything the
  // user wrote is sent as written.
  function headersForRequest(headers) {
    var out = Object.assign({}, headers || {});
    var key = authorizationKey(out);
    if (key && isOurs(out[key])) {
      if (session) out[key] = authorization();
      else delete out[key];
    }
    return out;
  }

  // New text for GraphiQL's headers editor, or null to leave it alone.
  // `addIfMissing`: just signed in, or a tab whose headers were never typed.
  function headersText(text, addIfMissing) {
    var blank = !String(text || "").trim();
    var headers;
    try {
      headers = blank ? {} : JSON.parse(text);
    } catch (e) {
      return null; // the user is typing; GraphiQL reports invalid JSON itself
    }
    if (!headers || typeof headers !== "object" || Array.isArray(headers)) return null;
    var key = authorizationKey(headers);
    var current = authorization();
    if (key && isOurs(headers[key])) {
      if (current) headers[key] = current;
      else delete headers[key];
    } else if (!key && current && (addIfMissing || blank)) {
      headers.Authorization = current;
    } else {
      return null;
    }
    if (blank && !Object.keys(headers).length) return null;
    var next = JSON.stringify(headers, null, 2);
    return next === text ? null : next;
  }

  // `value` as GraphiQL would store it, minus any Authorization header.
  // GraphiQL's history keeps each run's headers in localStorage even with
  // shouldPersistHeaders off; a bearer token must not outlive the session
  // there. Headers left with nothing else are stored blank.
  function withoutTokens(value) {
    if (typeof value !== "string" || !/authorization/i.test(value)) return value;
    function strip(text) {
      try {
        var headers = JSON.parse(text);
        var key = authorizationKey(headers);
        if (key) delete headers[key];
        return Object.keys(headers).length ? JSON.stringify(headers, null, 2) : "";
      } catch (e) {
        return ""; // unreadable: store nothing rather than a token
      }
    }
    function clean(node) {
      if (Array.isArray(node)) return node.map(clean);
      if (!node || typeof node !== "object") return node;
      var out = {};
      Object.keys(node).forEach(function (k) {
        out[k] = k === "headers" && typeof node[k] === "string" ? strip(node[k]) : clean(node[k]);
      });
      return out;
    }
    try {
      return JSON.stringify(clean(JSON.parse(value)));
    } catch (e) {
      return value.replace(/Bearer\s+[A-Za-z0-9._~+\/=-]+/gi, "Bearer <removed>");
    }
  }

  function subscribe(listener) {
    listeners.add(listener);
    return function () {
      listeners.delete(listener);
    };
  }

  function snapshot() {
    return version;
  }

  window.AthenaAuth = {
    ready: ready,
    headersForRequest: headersForRequest,
    headersText: headersText,
    withoutTokens: withoutTokens,
    subscribe: subscribe,
    snapshot: snapshot,
    lastEvent: function () {
      return lastEvent;
    },
    signedIn: function () {
      return !!session;
    },
    signIn: signIn,
    signOut: signOut,
    refresh: refresh,
  };

  // ---- the sign-in bar ---------------------------------------------------------

  var bar = document.getElementById("athena-auth");
  var form = document.getElementById("athena-signin");
  var email = document.getElementById("athena-email");
  var password = document.getElementById("athena-password");
  var otpField = document.getElementById("athena-otp-field");
  var otp = document.getElementById("athena-otp");
  var button = document.getElementById("athena-signin-button");
  var sessionBox = document.getElementById("athena-session");
  var userLabel = document.getElementById("athena-user");
  var rolesLabel = document.getElementById("athena-roles");
  var expiryLabel = document.getElementById("athena-expiry");
  var signOutButton = document.getElementById("athena-signout");
  var message = document.getElementById("athena-message");

  function setMessage(text, tone) {
    message.textContent = text;
    bar.setAttribute("data-tone", tone || "");
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  }

  function render() {
    bar.setAttribute("data-state", session ? "signed-in" : "signed-out");
    form.hidden = !!session;
    sessionBox.hidden = !session;
    if (session) {
      var user = session.user || {};
      userLabel.textContent = user.name ? user.name + " <" + user.email + ">" : user.email || "";
      rolesLabel.textContent = (user.roles || []).length ? "(" + user.roles.join(", ") + ")" : "";
      expiryLabel.textContent = "token renews at " + clock(session.refreshAt);
      password.value = "";
      otp.value = "";
      otpField.hidden = true;
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!email.value || !password.value) {
      setMessage("Enter your e-mail and password.", "error");
      return;
    }
    button.disabled = true;
    setMessage("Signing in…", "");
    signIn(email.value.trim(), password.value, otp.value.trim())
      .then(
        function (result) {
          if (result.ok) return;
          var errors = result.userErrors;
          var needsCode = errors.some(function (e) {
            return e.code === "MFA_REQUIRED" || e.field === "otp";
          });
          if (needsCode) {
            otpField.hidden = false;
            otp.value = "";
            otp.focus();
          }
          setMessage(
            errors.length
              ? errors
                  .map(function (e) {
                    return e.message;
                  })
                  .join(" ")
              : "Sign-in failed.",
            "error"
          );
        },
        function (error) {
          setMessage(
            error.graphql ? error.message : "The server could not be reached; try again.",
            "error"
          );
        }
      )
      .finally(function () {
        button.disabled = false;
      });
  });

  signOutButton.addEventListener("click", function () {
    signOut();
  });

  // A tab woken up late renews at once instead of failing its next operation.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && session && Date.now() >= session.refreshAt) {
      refresh();
    }
  });

  render();
  if (refreshTokenNow()) {
    setMessage("Restoring your session…", "");
    refresh();
  }
})();
