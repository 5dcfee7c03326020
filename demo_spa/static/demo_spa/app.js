/*
 * AI credits demo page. Plain JavaScript, no build step.
 *
 * It uses only the public REST API, as the real frontend does: token auth
 * ("Authorization: Token <key>"), JSON bodies, same-origin relative URLs, and
 * X-Business-ID for users in several businesses. Server text only ever reaches
 * the page through textContent or text nodes.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "aiCreditsToken";
  var BUSINESS_KEY = "aiCreditsBusinessId";

  var API = {
    register: "/accounts/api/auth/register/",
    token: "/accounts/api/auth/token/",
    logout: "/accounts/api/auth/logout/",
    me: "/accounts/api/me/",
    balance: "/ai/api/credits/balance/",
    packages: "/ai/api/credits/packages/",
    purchase: "/ai/api/credits/purchase/",
    verify: "/ai/api/credits/verify/",
    purchases: "/ai/api/credits/purchases/?limit=10",
    transactions: "/ai/api/credits/transactions/?limit=10",
    alerts: "/ai/api/credits/alerts/?limit=10",
    acknowledge: function (id) {
      return "/ai/api/credits/alerts/" + encodeURIComponent(id) + "/acknowledge/";
    },
  };

  var POLL_INTERVAL_MS = 3000;
  var POLL_LIMIT = 10;
  var CUSTOM_MIN = 10;
  var CUSTOM_MAX = 10000;
  var ALREADY_PROCESSED = "Payment already processed";

  // The exact texts of the payment callback page, by verify answer.
  var TEXT = {
    checking: "Checking your payment…",
    pending: "Payment is still processing…",
    pendingGaveUp:
      "Payment is still processing. Your credits will be added when it completes.",
    notFound: "We could not find this payment.",
    providerDown:
      "The payment provider could not be reached. Your payment is safe; try again.",
    noReference:
      "This link has no payment reference. Start a purchase from the credits page.",
    loggedOut: "Log in to check this payment.",
    failedFallback: "Payment failed.",
    cancelled: "Payment cancelled. No money was taken and no credits were added.",
  };

  var state = {
    me: null,
    pollTimer: null,
    verifyRun: 0,
    routeRun: 0, // a newer route() (after a login, a logout, an expired session) wins
    lastPurchase: null, // {body: "<json>", key: "<uuid>"}: a retry of the same body reuses the key
    buying: false, // from Buy until the invoice's Cancel (or the checkout): one purchase at a time
    checkoutUrl: "", // where the invoice's Continue to payment goes
    balanceActive: false, // the last balance answer's is_active
  };

  // The AI tools panel (ai_tools.js), created in start(); null if that script did not load.
  var aiTools = null;

  // ---- small helpers ------------------------------------------------------

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    var key;
    attrs = attrs || {};
    for (key in attrs) {
      if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
      var value = attrs[key];
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "className") node.className = value;
      else if (key === "onclick") node.addEventListener("click", value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function storageGet(key) {
    try {
      return window.localStorage.getItem(key) || "";
    } catch (err) {
      return "";
    }
  }

  function storageSet(key, value) {
    try {
      if (value) window.localStorage.setItem(key, value);
      else window.localStorage.removeItem(key);
    } catch (err) {
      /* storage disabled: the session lasts as long as the page */
    }
  }

  function getToken() {
    return storageGet(TOKEN_KEY);
  }

  function getBusiness() {
    return storageGet(BUSINESS_KEY);
  }

  // Logging out forgets the business too; an expired session keeps it, so logging in again
  // (say on the payment callback page) acts for the same business. loadMe() checks it.
  function clearSession(forgetBusiness) {
    storageSet(TOKEN_KEY, "");
    if (forgetBusiness) storageSet(BUSINESS_KEY, "");
    state.me = null;
    state.lastPurchase = null;
    // Forms are emptied only on logout: after an expired session the same user logs back in.
    if (aiTools) aiTools.reset(Boolean(forgetBusiness));
  }

  function toNumber(value) {
    var n = typeof value === "number" ? value : Number(value);
    return isFinite(n) ? n : 0;
  }

  // Money and credits: always two decimals ("150.00").
  function fixed2(value) {
    return toNumber(value).toFixed(2);
  }

  // Package counts: whole numbers stay whole ("+20 bonus"), others get two decimals.
  function count(value) {
    var n = toNumber(value);
    return Number.isInteger(n) ? String(n) : n.toFixed(2);
  }

  function money(amount, currency) {
    return (currency || "GHS") + " " + fixed2(amount);
  }

  function dateOnly(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return d.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
  }

  function dateTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return d.toLocaleString("en-GB", {
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
  }

  function humanize(code) {
    var text = String(code || "").replace(/[_-]+/g, " ").trim();
    return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
  }

  function newIdempotencyKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // Not a secure context (plain http on another host): build a v4 UUID by hand.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map
      .call(bytes, function (b) {
        return b.toString(16).padStart(2, "0");
      })
      .join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function safeHttpUrl(url) {
    try {
      var parsed = new URL(String(url), window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : "";
    } catch (err) {
      return "";
    }
  }

  function homePath() {
    return document.body.getAttribute("data-home-path") || "/demo/";
  }

  function callbackPath() {
    return document.body.getAttribute("data-callback-path") || "/demo/payment/callback";
  }

  function isCallbackPage() {
    var path = window.location.pathname.replace(/\/+$/, "");
    return path === callbackPath().replace(/\/+$/, "") || /\/payment\/callback$/.test(path);
  }

  function callbackReference() {
    var params = new URLSearchParams(window.location.search);
    return (params.get("reference") || params.get("trxref") || "").trim();
  }

  /* What the return URL says: Paystack's ?reference=REF (or trxref), Stripe's
     ?gateway=stripe&session_id=cs_..., or a Stripe cancel (&cancelled=1[&reference=REF]). */
  function callbackReturn() {
    var params = new URLSearchParams(window.location.search);
    var stripe = params.get("gateway") === "stripe";
    var sessionId = stripe ? (params.get("session_id") || "").trim() : "";
    return {
      stripe: stripe,
      cancelled: stripe && params.get("cancelled") === "1",
      reference: callbackReference(),
      sessionId: sessionId,
      query: sessionId ? "session_id=" + encodeURIComponent(sessionId) : "reference=" + encodeURIComponent(callbackReference()),
      known: Boolean(sessionId || callbackReference()),
    };
  }

  // ---- the API ------------------------------------------------------------

  /*
   * Resolves (never rejects) to {ok, status, data, headers, expired}.
   * status 0 means the request never got an answer. A 401 on an authenticated
   * call ends the session (the token was revoked or is unknown).
   */
  function api(method, path, options) {
    options = options || {};
    var headers = { Accept: "application/json" };
    var token = getToken();
    var business = getBusiness();
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Token " + token;
    if (token && business) headers["X-Business-ID"] = business;
    if (options.headers) {
      Object.keys(options.headers).forEach(function (name) {
        headers[name] = options.headers[name];
      });
    }
    var init = {
      method: method,
      headers: headers,
      credentials: "omit",
      cache: "no-store",
    };
    if (options.body !== undefined) init.body = JSON.stringify(options.body);

    return fetch(path, init).then(
      function (response) {
        return response.text().then(function (text) {
          var data = null;
          if (text) {
            try {
              data = JSON.parse(text);
            } catch (err) {
              data = null;
            }
          }
          var result = {
            ok: response.ok,
            status: response.status,
            data: data,
            headers: response.headers,
            expired: false,
          };
          if (response.status === 401 && token && options.endSessionOn401 !== false) {
            result.expired = true;
            sessionExpired();
          }
          return result;
        });
      },
      function () {
        return { ok: false, status: 0, data: null, headers: new Headers(), expired: false };
      }
    );
  }

  function retryAfterSeconds(res) {
    var header = res.headers && res.headers.get("Retry-After");
    var seconds = header ? parseInt(header, 10) : NaN;
    return isFinite(seconds) && seconds >= 0 ? seconds : null;
  }

  function isFieldErrors(data) {
    if (!data || typeof data !== "object" || Array.isArray(data)) return false;
    if (typeof data.detail === "string") return false;
    return Object.keys(data).some(function (key) {
      return Array.isArray(data[key]) || (data[key] && typeof data[key] === "object");
    });
  }

  // DRF's field errors -> ["Field: message", ...]; non_field_errors lose the prefix.
  function flattenErrors(value, prefix) {
    if (value === null || value === undefined) return [];
    if (Array.isArray(value)) {
      return value.reduce(function (all, item) {
        return all.concat(flattenErrors(item, prefix));
      }, []);
    }
    if (typeof value === "object") {
      return Object.keys(value).reduce(function (all, key) {
        var label = key === "non_field_errors" ? prefix : humanize(key);
        return all.concat(flattenErrors(value[key], label));
      }, []);
    }
    return [prefix ? prefix + ": " + String(value) : String(value)];
  }

  function tryAgainIn(res) {
    var wait = retryAfterSeconds(res);
    if (wait === null) return "Try again shortly.";
    return "Try again in " + wait + " second" + (wait === 1 ? "" : "s") + ".";
  }

  function throttledText(res) {
    return "Too many requests. " + tryAgainIn(res);
  }

  // A plain-language summary of a failed answer: {text, items}.
  function errorSummary(res, action) {
    var data = res.data || {};
    if (res.status === 0) {
      return { text: "Could not reach the server. Check your connection and try again.", items: [] };
    }
    if (res.status === 429) return { text: throttledText(res), items: [] };
    if (isFieldErrors(data)) {
      return { text: "Please check the details you entered.", items: flattenErrors(data, "") };
    }
    if (typeof data.detail === "string" && data.detail) return { text: data.detail, items: [] };
    if (typeof data.message === "string" && data.message) return { text: data.message, items: [] };
    return { text: action + " failed (HTTP " + res.status + ").", items: [] };
  }

  // ---- the message area ---------------------------------------------------

  function showMessage(kind, text, items) {
    var box = $("message");
    box.replaceChildren();
    box.className = "message message-" + kind;
    box.append(el("p", { text: text }));
    if (items && items.length) {
      box.append(
        el.apply(
          null,
          ["ul", {}].concat(
            items.map(function (item) {
              return el("li", { text: item });
            })
          )
        )
      );
    }
    box.hidden = false;
    if (kind === "error" && typeof box.scrollIntoView === "function") {
      box.scrollIntoView({ block: "nearest" });
    }
  }

  function showError(res, action) {
    var summary = errorSummary(res, action);
    showMessage("error", summary.text, summary.items);
  }

  function clearMessage() {
    var box = $("message");
    box.replaceChildren();
    box.className = "message";
    box.hidden = true;
  }

  // ---- field errors next to inputs ----------------------------------------

  function clearFieldErrors(form) {
    form.querySelectorAll(".field-error").forEach(function (p) {
      p.textContent = "";
      p.hidden = true;
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (input) {
      input.removeAttribute("aria-invalid");
    });
  }

  function setFieldError(inputId, messages) {
    var input = $(inputId);
    var slot = $(inputId + "-error");
    if (!input || !slot) return false;
    slot.textContent = messages.join(" ");
    slot.hidden = false;
    input.setAttribute("aria-invalid", "true");
    return true;
  }

  /* Puts each field's errors next to its input (fieldIds: API field -> input id); returns
     the errors that have no input of their own. */
  function placeFieldErrors(data, fieldIds) {
    var leftover = [];
    var first = null;
    Object.keys(data).forEach(function (field) {
      var messages = flattenErrors(data[field], "");
      if (fieldIds[field] && setFieldError(fieldIds[field], messages)) {
        if (!first) first = $(fieldIds[field]);
      } else {
        var label = field === "non_field_errors" ? "" : humanize(field);
        messages.forEach(function (m) {
          leftover.push(label ? label + ": " + m : m);
        });
      }
    });
    if (first) first.focus();
    return leftover;
  }

  function reportFormFailure(res, form, fieldIds, action) {
    if (res.status === 400 && isFieldErrors(res.data)) {
      var leftover = placeFieldErrors(res.data, fieldIds);
      showMessage("error", "Please fix the fields marked below.", leftover);
    } else {
      showError(res, action);
    }
  }

  // ---- session, routing ---------------------------------------------------

  function sessionExpired() {
    if (!getToken()) return;
    clearSession();
    route().then(function () {
      showMessage("error", "Your session has ended. Please log in again.");
    });
  }

  function stopPolling() {
    state.verifyRun += 1;
    if (state.pollTimer) {
      window.clearTimeout(state.pollTimer);
      state.pollTimer = null;
    }
  }

  function renderSessionBar() {
    var bar = $("session-bar");
    var me = state.me;
    if (!me || !getToken()) {
      bar.hidden = true;
      return;
    }
    bar.hidden = false;
    $("session-user").textContent = me.username || "";
    var businesses = Array.isArray(me.businesses) ? me.businesses : [];
    var current = getBusiness();
    var picker = $("business-picker");
    var select = $("business-select");
    if (businesses.length > 1) {
      select.replaceChildren();
      businesses.forEach(function (b) {
        var option = el("option", { value: String(b.id), text: b.name + " (" + humanize(b.role) + ")" });
        if (String(b.id) === current) option.selected = true;
        select.append(option);
      });
      picker.hidden = false;
      $("business-name").textContent = "";
    } else {
      picker.hidden = true;
      $("business-name").textContent = businesses.length ? businesses[0].name : "";
    }
  }

  // Who is logged in, and which business acts; false when the page cannot go on.
  function loadMe() {
    return api("GET", API.me).then(function (res) {
      if (res.expired) return false;
      if (!res.ok) {
        showError(res, "Loading your account");
        return false;
      }
      state.me = res.data || {};
      var businesses = Array.isArray(state.me.businesses) ? state.me.businesses : [];
      var stored = getBusiness();
      var known = businesses.some(function (b) {
        return String(b.id) === stored;
      });
      if (!known) storageSet(BUSINESS_KEY, businesses.length ? String(businesses[0].id) : "");
      renderSessionBar();
      if (!businesses.length) {
        showMessage("error", "Your account does not belong to any business yet.");
        return false;
      }
      return true;
    });
  }

  function route() {
    stopPolling();
    closeInvoice();
    if (aiTools) aiTools.reset(false);
    var run = (state.routeRun += 1);
    var callback = isCallbackPage();
    $("callback-section").hidden = !callback;
    $("credits-section").hidden = true;

    if (!getToken()) {
      state.me = null;
      renderSessionBar();
      $("auth-section").hidden = false;
      if (callback && !showCancelled()) {
        resetVerifyExtras();
        setVerify("error", callbackReturn().known ? TEXT.loggedOut : TEXT.noReference);
      }
      return Promise.resolve();
    }

    $("auth-section").hidden = true;
    return loadMe().then(function (ready) {
      if (run !== state.routeRun) return undefined;
      if (callback) {
        if (ready) return runVerify();
        resetVerifyExtras();
        setVerify("error", "We could not load your account, so this payment was not checked.");
        $("verify-retry").hidden = false;
        return undefined;
      }
      if (!ready) return undefined;
      $("credits-section").hidden = false;
      return loadDashboard();
    });
  }

  // ---- register, login, logout --------------------------------------------

  function formValues(form) {
    var values = {};
    new FormData(form).forEach(function (value, key) {
      values[key] = typeof value === "string" ? value.trim() : value;
    });
    return values;
  }

  function setBusy(button, busy) {
    button.disabled = busy;
    button.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function onRegister(event) {
    event.preventDefault();
    var form = $("register-form");
    var button = $("register-submit");
    var values = formValues(form);
    // The password is sent exactly as typed.
    values.password = $("reg-password").value;
    clearFieldErrors(form);
    clearMessage();
    setBusy(button, true);
    api("POST", API.register, { body: values }).then(function (res) {
      setBusy(button, false);
      if (res.status === 201 && res.data && res.data.token) {
        storageSet(TOKEN_KEY, res.data.token);
        storageSet(BUSINESS_KEY, res.data.business ? String(res.data.business.id) : "");
        form.reset();
        var name = res.data.business ? res.data.business.name : "";
        return route().then(function () {
          showMessage("success", "Welcome! Your account" + (name ? " for " + name : "") + " is ready.");
        });
      }
      reportFormFailure(
        res,
        form,
        {
          username: "reg-username",
          email: "reg-email",
          password: "reg-password",
          business_name: "reg-business",
        },
        "Registration"
      );
      return undefined;
    });
  }

  function onLogin(event) {
    event.preventDefault();
    var form = $("login-form");
    var button = $("login-submit");
    var body = { username: $("login-username").value.trim(), password: $("login-password").value };
    clearFieldErrors(form);
    clearMessage();
    setBusy(button, true);
    api("POST", API.token, { body: body }).then(function (res) {
      setBusy(button, false);
      if (res.ok && res.data && res.data.token) {
        storageSet(TOKEN_KEY, res.data.token);
        form.reset();
        return route();
      }
      reportFormFailure(
        res,
        form,
        { username: "login-username", password: "login-password" },
        "Login"
      );
      return undefined;
    });
  }

  function onLogout() {
    stopPolling();
    var button = $("logout-button");
    setBusy(button, true);
    var done = function () {
      setBusy(button, false);
      clearSession(true);
      return route().then(function () {
        showMessage("info", "You have logged out.");
      });
    };
    if (!getToken()) return done();
    return api("POST", API.logout, { endSessionOn401: false }).then(done);
  }

  function onBusinessChange() {
    storageSet(BUSINESS_KEY, $("business-select").value);
    state.lastPurchase = null;
    clearMessage();
    route();
  }

  // ---- the dashboard ------------------------------------------------------

  function loadDashboard() {
    return Promise.all([
      loadBalance(),
      loadPackages(),
      loadPurchases(),
      loadTransactions(),
      loadAlerts(),
      aiTools ? aiTools.load() : null,
    ]);
  }

  /* The amount, and a badge that says whether it can be spent: "Active" only for an active
     balance above 0 ("Empty" at 0, "Inactive" with no credits yet or after expiry). The AI tools
     pass the balance alone; is_active is then the last one loaded. */
  function showBalance(balance, isActive) {
    if (isActive !== undefined) state.balanceActive = Boolean(isActive);
    $("balance-amount").textContent = fixed2(balance) + " credits";
    var spendable = state.balanceActive && toNumber(balance) > 0;
    var badge = $("balance-active");
    badge.textContent = spendable ? "Active" : state.balanceActive ? "Empty" : "Inactive";
    badge.className = "badge " + (spendable ? "badge-ok" : "badge-off");
  }

  function loadBalance() {
    var amount = $("balance-amount");
    var expiry = $("balance-expiry");
    var active = $("balance-active");
    return api("GET", API.balance).then(function (res) {
      if (res.expired) return;
      if (!res.ok) {
        amount.textContent = "Unavailable";
        expiry.textContent = errorSummary(res, "Loading the balance").text;
        active.textContent = "";
        active.className = "badge";
        return;
      }
      var data = res.data || {};
      showBalance(data.balance, data.is_active === true);
      if (data.expires_at) {
        var past = new Date(data.expires_at).getTime() <= Date.now();
        expiry.textContent = (past ? "Expired " : "Expires ") + dateOnly(data.expires_at);
      } else {
        expiry.textContent = "No credits yet";
      }
    });
  }

  // The package's price at Stripe (card, in USD), if it is sold there.
  function stripePrice(pkg) {
    var prices = Array.isArray(pkg.prices) ? pkg.prices : [];
    for (var i = 0; i < prices.length; i++) {
      var p = prices[i] || {};
      if (p.gateway === "stripe" && /^[A-Z]{3}$/.test(String(p.currency)) && toNumber(p.amount) > 0) {
        return { currency: String(p.currency), amount: toNumber(p.amount) };
      }
    }
    return null;
  }

  function packageCard(pkg) {
    var code = String(pkg.code);
    var titleId = "package-" + code + "-title";
    var bonus = toNumber(pkg.bonus_credits);
    var savings = toNumber(pkg.savings_percent);
    var card = stripePrice(pkg);
    return el(
      "article",
      { className: "card package-card", id: "package-" + code, "aria-labelledby": titleId, "data-dynamic": "" },
      el("h3", { id: titleId, text: pkg.name }),
      savings > 0 ? el("p", { className: "badge badge-save", text: "Save " + count(savings) + "%" }) : null,
      el("p", { className: "price", text: money(pkg.price, pkg.currency) }),
      card ? el("p", { className: "price-alt", text: "or " + money(card.amount, card.currency) + " by card" }) : null,
      pkg.description ? el("p", { className: "hint", text: pkg.description }) : null,
      el(
        "ul",
        { className: "facts" },
        el("li", { text: count(pkg.credits) + " credits" }),
        bonus > 0 ? el("li", { text: "+" + count(bonus) + " bonus" }) : null,
        el("li", { className: "total", text: "Total " + count(pkg.total_credits) + " credits" })
      ),
      el(
        "div",
        { className: "buy-actions" },
        // Beside a card option in USD, say which currency this one charges.
        el("button", {
          type: "button",
          id: "buy-" + code,
          "data-buy": code,
          text: card ? "Buy in " + (pkg.currency || "GHS") : "Buy",
        }),
        card
          ? el("button", {
              type: "button",
              id: "buy-" + code + "-stripe",
              className: "secondary",
              "data-buy": code,
              "data-gateway": "stripe",
              // The visible words first, so speech input ("click Pay in USD by card") still works.
              "aria-label":
                "Pay in " + card.currency + " by card: " + money(card.amount, card.currency) + ", " + String(pkg.name),
              text: "Pay in " + card.currency + " by card",
            })
          : null
      )
    );
  }

  function loadPackages() {
    var status = $("packages-status");
    var grid = $("packages");
    return api("GET", API.packages).then(function (res) {
      if (res.expired) return;
      grid.querySelectorAll("[data-dynamic]").forEach(function (card) {
        card.remove();
      });
      if (!res.ok) {
        status.textContent = errorSummary(res, "Loading packages").text;
        status.hidden = false;
        return;
      }
      var list = Array.isArray(res.data) ? res.data : [];
      var custom = $("package-custom");
      list.forEach(function (pkg) {
        if (!pkg || pkg.code === "custom" || !/^[A-Za-z0-9_-]+$/.test(String(pkg.code))) return;
        grid.insertBefore(packageCard(pkg), custom);
      });
      status.textContent = "";
      status.hidden = true;
      setBuyButtonsDisabled(state.buying);
    });
  }

  function emptyNote() {
    return el("p", { className: "empty", text: "Nothing yet" });
  }

  function table(headers, rows) {
    var head = el.apply(
      null,
      ["tr", {}].concat(
        headers.map(function (h) {
          return el("th", { scope: "col", text: h });
        })
      )
    );
    var body = el("tbody");
    rows.forEach(function (cells) {
      body.append(
        el.apply(
          null,
          ["tr", {}].concat(
            cells.map(function (cell, i) {
              return el("td", { "data-label": headers[i] }, cell);
            })
          )
        )
      );
    });
    return el("div", { className: "table-wrap" }, el("table", {}, el("thead", {}, head), body));
  }

  function renderList(container, res, action, headers, toCells) {
    container.replaceChildren();
    if (!res.ok) {
      container.append(el("p", { className: "error-text", text: errorSummary(res, action).text }));
      return;
    }
    var data = res.data || {};
    var results = Array.isArray(data.results) ? data.results : [];
    if (!results.length) {
      container.append(emptyNote());
      return;
    }
    container.append(table(headers, results.map(toCells)));
    if (typeof data.count === "number" && data.count > results.length) {
      container.append(
        el("p", { className: "hint", text: "Showing the latest " + results.length + " of " + data.count + "." })
      );
    }
  }

  function loadPurchases() {
    return api("GET", API.purchases).then(function (res) {
      if (res.expired) return;
      renderList(
        $("purchases"),
        res,
        "Loading purchases",
        ["Reference", "Package", "Status", "Total", "Credits", "Date"],
        function (p) {
          return [
            el("code", { text: p.payment_reference }),
            humanize(p.package),
            el("span", { className: "status status-" + String(p.payment_status), text: humanize(p.payment_status) }),
            money(p.total_amount, p.currency),
            fixed2(toNumber(p.credits_purchased) + toNumber(p.bonus_credits)),
            dateTime(p.purchased_at),
          ];
        }
      );
    });
  }

  function loadTransactions() {
    return api("GET", API.transactions).then(function (res) {
      if (res.expired) return;
      renderList(
        $("transactions"),
        res,
        "Loading AI usage",
        ["Feature", "Credits used", "Success", "Date"],
        function (t) {
          var outcome = t.status === "pending" ? "Pending" : t.success ? "Yes" : "No";
          return [humanize(t.feature), fixed2(t.credits_used), outcome, dateTime(t.timestamp)];
        }
      );
    });
  }

  function loadAlerts() {
    return api("GET", API.alerts).then(function (res) {
      if (res.expired) return;
      renderList(
        $("alerts"),
        res,
        "Loading alerts",
        ["Alert", "Balance", "Date", ""],
        function (a) {
          var action = a.acknowledged
            ? el("span", { className: "hint", text: "Acknowledged" })
            : el("button", {
                type: "button",
                className: "secondary small",
                id: "ack-" + String(a.id),
                text: "Acknowledge",
                onclick: function (event) {
                  acknowledge(a.id, event.currentTarget);
                },
              });
          return [humanize(a.alert_type), fixed2(a.current_balance), dateTime(a.sent_at), action];
        }
      );
    });
  }

  function acknowledge(id, button) {
    setBusy(button, true);
    return api("POST", API.acknowledge(id)).then(function (res) {
      if (res.expired) return undefined;
      if (!res.ok) {
        setBusy(button, false);
        showError(res, "Acknowledging the alert");
        return undefined;
      }
      return loadAlerts();
    });
  }

  // ---- buying ---------------------------------------------------------------

  function setBuyButtonsDisabled(disabled) {
    document.querySelectorAll("button[data-buy]").forEach(function (button) {
      button.disabled = disabled;
      button.setAttribute("aria-busy", disabled ? "true" : "false");
    });
  }

  function selectedMethod() {
    var checked = document.querySelector('input[name="payment_method"]:checked');
    return checked ? checked.value : "mobile_money";
  }

  function customAmount() {
    var input = $("custom-amount");
    var raw = input.value.trim();
    var error = null;
    if (!raw) error = "Enter an amount.";
    else if (!/^\d+(\.\d{1,2})?$/.test(raw)) error = "Enter an amount in cedis with at most 2 decimals.";
    else if (Number(raw) < CUSTOM_MIN || Number(raw) > CUSTOM_MAX) {
      error = "Enter an amount from " + fixed2(CUSTOM_MIN) + " to " + fixed2(CUSTOM_MAX) + ".";
    }
    return { value: error ? null : Number(raw), error: error };
  }

  function clearCustomError() {
    var slot = $("custom-amount-error");
    slot.textContent = "";
    slot.hidden = true;
    $("custom-amount").removeAttribute("aria-invalid");
  }

  function onBuy(event) {
    var button = event.target.closest("button[data-buy]");
    if (!button || state.buying) return;
    var pkg = button.getAttribute("data-buy");
    var viaStripe = button.getAttribute("data-gateway") === "stripe";
    clearMessage();
    clearCustomError();
    $("invoice").hidden = true;
    $("buy-status").hidden = true;

    // Back to this page's own origin, as for Paystack: the token lives in this origin's storage.
    // Stripe puts the session id where {CHECKOUT_SESSION_ID} stands.
    var back = window.location.origin + callbackPath() + "?gateway=stripe";
    var body = viaStripe
      ? {
          package: pkg,
          gateway: "stripe",
          success_url: back + "&session_id={CHECKOUT_SESSION_ID}",
          cancel_url: back + "&cancelled=1",
        }
      : {
          package: pkg,
          payment_method: selectedMethod(),
          callback_url: window.location.origin + callbackPath(),
        };
    if (pkg === "custom") {
      var custom = customAmount();
      if (custom.error) {
        setFieldError("custom-amount", [custom.error]);
        $("custom-amount").focus();
        return;
      }
      body.custom_amount = custom.value;
    }

    // The same purchase retried (after a time-out, a 5xx, a 429) keeps its Idempotency-Key,
    // so the server answers the first attempt instead of starting a second one.
    var json = JSON.stringify(body);
    if (!state.lastPurchase || state.lastPurchase.body !== json) {
      state.lastPurchase = { body: json, key: newIdempotencyKey() };
    }
    var key = state.lastPurchase.key;

    state.buying = true;
    setBuyButtonsDisabled(true);
    showMessage("info", "Starting your purchase…");
    var run = state.routeRun;
    api("POST", API.purchase, { body: body, headers: { "Idempotency-Key": key } }).then(function (res) {
      if (run !== state.routeRun) return; // logged out or switched business meanwhile
      if (res.expired) {
        state.buying = false;
        setBuyButtonsDisabled(false);
        return;
      }
      if (res.status === 201 && res.data) {
        showInvoice(res.data);
        return;
      }
      state.buying = false;
      setBuyButtonsDisabled(false);
      purchaseFailed(res, pkg);
    });
  }

  function purchaseFailed(res, pkg) {
    var data = res.data || {};
    if (res.status === 400 && isFieldErrors(data)) {
      var leftover = placeFieldErrors(data, pkg === "custom" ? { custom_amount: "custom-amount" } : {});
      showMessage("error", "The purchase was not started.", leftover);
      return;
    }
    if (res.status === 409) {
      if (data.code === "idempotency_key_reused") state.lastPurchase = null;
      var text =
        data.code === "idempotency_request_in_progress"
          ? "This purchase is already being started. Wait a moment, then press Buy again."
          : data.detail || "This purchase conflicts with an earlier one. Try again.";
      showMessage("error", text);
      return;
    }
    if (res.status === 429) {
      showMessage("error", "Too many purchase attempts. " + tryAgainIn(res));
      return;
    }
    if (res.status === 502 || res.status === 503 || res.status === 504) {
      showMessage(
        "error",
        "Payment provider unavailable. Nothing was charged; please try again in a moment.",
        data.detail ? [data.detail] : []
      );
      return;
    }
    showError(res, "Starting the purchase");
  }

  /* The purchase is made (pending) and its invoice is shown: nothing moves until the buyer
     presses Continue to payment, which goes to the gateway's checkout, or Cancel, which comes
     back to the packages. A cancelled purchase is never paid: it stays pending until it is closed
     unpaid, and Buy with the same choice shows it again (same Idempotency-Key) rather than
     starting another. */
  function showInvoice(data) {
    var invoice = data.invoice || {};
    var currency = invoice.currency || "GHS";
    var lines = $("invoice-lines");
    lines.replaceChildren();
    var row = function (label, value, className) {
      lines.append(el("tr", { className: className || null }, el("th", { scope: "row", text: label }), el("td", { text: value })));
    };
    row("Package", humanize(data.package));
    row("Reference", data.reference);
    row("Price", money(invoice.base_amount, currency));
    (Array.isArray(invoice.taxes) ? invoice.taxes : []).forEach(function (tax) {
      row(tax.name + " (" + String(toNumber(tax.rate)) + "%)", money(tax.amount, currency));
    });
    row("Total to pay", money(invoice.total_amount, currency), "total");
    row("Credits you get", fixed2(data.credits_to_add));

    // Paystack answers authorization_url; Stripe answers checkout_url.
    var url = safeHttpUrl(data.checkout_url || data.authorization_url);
    if (!url) {
      closeInvoice();
      showMessage("error", "The payment provider sent back an unusable checkout address. Please try again.");
      return;
    }
    state.checkoutUrl = url;
    $("invoice-next").textContent = "Nothing is charged until you pay on the checkout page.";
    setBusy($("invoice-continue"), false);
    $("invoice-cancel").disabled = false;
    $("invoice").hidden = false;
    clearMessage();
    $("invoice").scrollIntoView({ block: "nearest" });
    $("invoice-continue").focus();
  }

  function onContinue() {
    var url = state.checkoutUrl;
    if (!url) return;
    state.lastPurchase = null; // whatever happens at checkout, the next Buy is a new purchase
    setBusy($("invoice-continue"), true);
    $("invoice-cancel").disabled = true;
    showMessage("info", "Taking you to the secure checkout…");
    window.location.assign(url);
  }

  // Back to the packages, saying so there (the page's message area is far above them).
  function onCancelInvoice() {
    closeInvoice();
    clearMessage();
    var note = $("buy-status");
    note.textContent =
      "Cancelled: nothing was paid and no credits were added. The purchase stays pending in your history until it is closed unpaid.";
    note.hidden = false;
    loadPurchases();
    $("buy-title").focus();
  }

  // Hides the invoice and lets Buy start again (also when the user or the business changes).
  function closeInvoice() {
    state.buying = false;
    state.checkoutUrl = "";
    $("invoice").hidden = true;
    $("buy-status").hidden = true;
    setBuyButtonsDisabled(false);
  }

  // ---- the payment callback page --------------------------------------------

  function setVerify(status, text) {
    var result = $("verify-result");
    result.setAttribute("data-status", status);
    result.textContent = text;
  }

  function setHint(text) {
    var hint = $("verify-hint");
    hint.textContent = text || "";
    hint.hidden = !text;
  }

  function resetVerifyExtras() {
    setHint("");
    $("verify-retry").hidden = true;
  }

  // A cancelled Stripe checkout: nothing to verify, and nothing was paid.
  function showCancelled() {
    var back = callbackReturn();
    if (!back.cancelled) return false;
    stopPolling();
    resetVerifyExtras();
    setVerify("cancelled", TEXT.cancelled);
    setHint((back.reference ? "Reference " + back.reference + ". " : "") + "You can buy again from the credits page.");
    return true;
  }

  function runVerify() {
    stopPolling();
    var run = state.verifyRun;
    var back = callbackReturn();
    resetVerifyExtras();
    if (showCancelled()) return Promise.resolve();
    if (!back.known) {
      setVerify("error", TEXT.noReference);
      return Promise.resolve();
    }
    if (!getToken()) {
      setVerify("error", TEXT.loggedOut);
      $("auth-section").hidden = false;
      return Promise.resolve();
    }
    setVerify("checking", TEXT.checking);
    return verifyOnce(back, run, 0);
  }

  function verifyOnce(back, run, polls) {
    var url = API.verify + "?" + back.query;
    return api("GET", url).then(function (res) {
      if (run !== state.verifyRun || res.expired) return; // superseded, or logged out
      var data = res.data || {};
      resetVerifyExtras();

      if (res.status === 200) {
        if (data.message === ALREADY_PROCESSED || data.current_balance !== undefined) {
          setVerify(
            "already",
            "Payment already processed: " +
              fixed2(data.credits_added) +
              " credits were added, balance " +
              fixed2(data.current_balance)
          );
        } else {
          setVerify(
            "success",
            fixed2(data.credits_added) + " credits added, new balance " + fixed2(data.new_balance)
          );
        }
        return;
      }

      if (res.status === 202) {
        if (polls < POLL_LIMIT) {
          setVerify("pending", TEXT.pending);
          setHint("Checking again in " + POLL_INTERVAL_MS / 1000 + " seconds (" + (polls + 1) + " of " + POLL_LIMIT + ").");
          state.pollTimer = window.setTimeout(function () {
            state.pollTimer = null;
            verifyOnce(back, run, polls + 1);
          }, POLL_INTERVAL_MS);
        } else {
          setVerify("pending", TEXT.pendingGaveUp);
          setHint(
            (back.stripe ? "Some card payments settle later." : "Mobile money approvals can take a few minutes.") +
              " You can check again now or later."
          );
          showRetry("Check again");
        }
        return;
      }

      if (res.status === 400 && data.status === "failed") {
        setVerify("failed", data.message || TEXT.failedFallback);
        setHint("No credits were added. You can try again from the credits page.");
        return;
      }

      if (res.status === 404) {
        setVerify("not_found", TEXT.notFound);
        var several = state.me && Array.isArray(state.me.businesses) && state.me.businesses.length > 1;
        setHint(
          several
            ? "Check that the business that made the payment is selected above."
            : "Check the link, or see your purchase history on the credits page."
        );
        return;
      }

      if (res.status === 502 || res.status === 503 || res.status === 504) {
        setVerify("error", TEXT.providerDown);
        showRetry("Try again");
        return;
      }

      // No answer, throttled, or anything else: say what happened and offer a retry.
      setVerify("error", errorSummary(res, "Checking the payment").text);
      showRetry("Try again");
    });
  }

  function showRetry(label) {
    var button = $("verify-retry");
    button.textContent = label;
    button.hidden = false;
  }

  // ---- start ------------------------------------------------------------------

  function startAITools() {
    if (!window.AITools) return null;
    return window.AITools.create({
      api: api,
      el: el,
      fixed2: fixed2,
      toNumber: toNumber,
      humanize: humanize,
      newIdempotencyKey: newIdempotencyKey,
      errorSummary: errorSummary,
      tryAgainIn: tryAgainIn,
      setBusy: setBusy,
      showBalance: showBalance,
      // A feature call moves the balance, writes the usage log and may raise a low-balance alert.
      refreshAccount: function () {
        return Promise.all([loadBalance(), loadTransactions(), loadAlerts()]);
      },
    });
  }

  function start() {
    aiTools = startAITools();
    $("login-form").addEventListener("submit", onLogin);
    $("register-form").addEventListener("submit", onRegister);
    $("logout-button").addEventListener("click", onLogout);
    $("business-select").addEventListener("change", onBusinessChange);
    $("packages").addEventListener("click", onBuy);
    $("invoice-continue").addEventListener("click", onContinue);
    $("invoice-cancel").addEventListener("click", onCancelInvoice);
    $("custom-amount").addEventListener("input", clearCustomError);
    $("refresh-button").addEventListener("click", function () {
      clearMessage();
      loadDashboard();
    });
    $("verify-retry").addEventListener("click", function () {
      if (getToken()) route();
      else runVerify();
    });
    $("back-link").setAttribute("href", homePath());
    route();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
