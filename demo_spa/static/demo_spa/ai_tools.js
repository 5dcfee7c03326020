/*
 * The "AI tools" panel of the demo page: product description, customer insight, and the chart of
 * credits spent per day.
 *
 * Loaded before app.js, which creates the panel with its own API client and helpers (so the
 * token, the business header and an ended session work exactly as on the rest of the page).
 * The parsing and scaling functions are pure and also load under Node, where the tests call them.
 * Server and user text only ever reaches the page through textContent or text nodes.
 */
(function (root) {
  "use strict";

  var API = {
    features: "/ai/api/features/",
    productDescription: "/ai/api/features/product-description/",
    customerInsight: "/ai/api/features/customer-insight/",
    // No dates: the server's "last 30 days" ends on its own today, whatever the browser's zone.
    daily: "/ai/api/credits/usage/daily/",
  };

  // The limits the API enforces, checked here first so most mistakes never cost a round trip.
  var LIMITS = {
    productName: 200,
    category: 100,
    features: 20,
    featureLength: 200,
    minWords: 20,
    maxWords: 300,
    customerName: 200,
    item: 200,
    lines: 500,
    notes: 1000,
  };
  var MAX_LISTED_ERRORS = 8;
  var SVG_NS = "http://www.w3.org/2000/svg";

  // ---- pure helpers (also run under Node by the tests) ------------------------

  // Features, one per line or separated by commas -> {values, error}.
  function splitFeatures(text) {
    var values = String(text || "")
      .split(/[\n\r,]+/)
      .map(function (part) {
        return part.trim();
      })
      .filter(Boolean);
    var error = null;
    if (values.length > LIMITS.features) {
      error = "At most " + LIMITS.features + " features (you have " + values.length + ").";
    } else {
      values.forEach(function (value, i) {
        if (!error && value.length > LIMITS.featureLength) {
          error = "Feature " + (i + 1) + " is longer than " + LIMITS.featureLength + " characters.";
        }
      });
    }
    return { values: values, error: error };
  }

  // "2025-03-14" or "14/03/2025" (the Ghanaian order) -> "2025-03-14", or "" if not a real day.
  function isoDate(text) {
    var value = String(text || "").trim();
    var y, m, d, match;
    if ((match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value))) {
      y = +match[1];
      m = +match[2];
      d = +match[3];
    } else if ((match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value))) {
      d = +match[1];
      m = +match[2];
      y = +match[3];
    } else {
      return "";
    }
    var day = new Date(Date.UTC(y, m - 1, d));
    if (y < 1 || day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) {
      return "";
    }
    return String(y).padStart(4, "0") + "-" + String(m).padStart(2, "0") + "-" + String(d).padStart(2, "0");
  }

  function isHeaderLine(parts) {
    return /^item$/i.test(parts[0].trim()) && /^date$/i.test(parts[parts.length - 1].trim());
  }

  /*
   * The purchases textarea -> {purchases, lineNumbers, errors}. One purchase a line,
   * "item, quantity, amount, date"; a line pasted from a spreadsheet (tabs) works too. The item is
   * everything before the last three fields, so "Rice, 5kg bag, 2, 150.00, 2025-03-01" keeps
   * its comma. lineNumbers[i] is the textarea line of purchases[i], to place the server's errors.
   */
  function parsePurchaseLines(text) {
    var purchases = [];
    var lineNumbers = [];
    var errors = [];
    var lines = String(text || "").split(/\r\n|\r|\n/);
    lines.forEach(function (raw, index) {
      var line = raw.trim();
      if (!line) return;
      var number = index + 1;
      var separator = line.indexOf("\t") >= 0 ? "\t" : ",";
      var parts = line.split(separator);
      if (!purchases.length && !errors.length && parts.length >= 4 && isHeaderLine(parts)) return;
      var say = function (problem) {
        errors.push("Line " + number + ": " + problem);
      };
      if (parts.length < 4) {
        var found = parts.length + " part" + (parts.length === 1 ? "" : "s");
        say("write item, quantity, amount, date (" + found + " found).");
        return;
      }
      var date = parts[parts.length - 1].trim();
      var amount = parts[parts.length - 2].trim().replace(/^(GHS|GH₵|₵)\s*/i, "");
      var quantity = parts[parts.length - 3].trim();
      var item = parts.slice(0, -3).join(separator).trim();
      var before = errors.length;
      if (!item) say("the item is missing.");
      else if (item.length > LIMITS.item) say("the item is longer than " + LIMITS.item + " characters.");
      if (!/^\d+(\.\d{1,3})?$/.test(quantity) || Number(quantity) <= 0) {
        say("the quantity must be a number greater than 0, like 2 or 1.5 (got \"" + quantity + "\").");
      }
      if (!/^\d+(\.\d{1,2})?$/.test(amount)) {
        say("the amount must be in cedis, like 12.50 (got \"" + amount + "\").");
      }
      var iso = isoDate(date);
      if (!iso) say("the date must be a real day as YYYY-MM-DD or DD/MM/YYYY (got \"" + date + "\").");
      if (errors.length !== before) return;
      purchases.push({ item: item, quantity: Number(quantity), amount: Number(amount), date: iso });
      lineNumbers.push(number);
    });
    if (!purchases.length && !errors.length) errors.push("Add at least one purchase.");
    if (purchases.length > LIMITS.lines) {
      errors.push("At most " + LIMITS.lines + " purchases (you have " + purchases.length + ").");
    }
    return { purchases: purchases, lineNumbers: lineNumbers, errors: errors };
  }

  function messagesOf(value) {
    if (value === null || value === undefined) return [];
    if (Array.isArray(value)) {
      return value.reduce(function (all, item) {
        return all.concat(messagesOf(item));
      }, []);
    }
    if (typeof value === "object") {
      return Object.keys(value).reduce(function (all, key) {
        var prefix = key === "non_field_errors" ? "" : key.replace(/_/g, " ") + ": ";
        return all.concat(
          messagesOf(value[key]).map(function (m) {
            return prefix + m;
          })
        );
      }, []);
    }
    return [String(value)];
  }

  /*
   * DRF's errors for a list field -> readable lines. A list's own errors come as strings; its
   * items' errors as {"<index>": errors} (or, from older DRF, an array aligned with the items).
   * name(index) says which item, e.g. "Line 4" for the purchase on the textarea's fourth line.
   */
  function listErrors(value, name) {
    var out = [];
    var perItem = function (index, errors) {
      messagesOf(errors).forEach(function (m) {
        out.push(name(index) + ": " + m);
      });
    };
    if (Array.isArray(value)) {
      value.forEach(function (entry, index) {
        if (typeof entry === "string") out.push(entry);
        else if (entry && typeof entry === "object" && Object.keys(entry).length) perItem(index, entry);
      });
    } else if (value && typeof value === "object") {
      Object.keys(value)
        .sort(function (a, b) {
          return Number(a) - Number(b);
        })
        .forEach(function (key) {
          if (/^\d+$/.test(key)) perItem(Number(key), value[key]);
          else out = out.concat(messagesOf(value[key]));
        });
    } else if (value !== null && value !== undefined) {
      out.push(String(value));
    }
    return out;
  }

  // A round top for the chart's y axis and its step: 0, step, 2*step, ... top (about 4 lines).
  function niceScale(max) {
    var value = Number(max);
    if (!isFinite(value) || value <= 0) return { top: 5, step: 1 };
    var rough = value / 4;
    var power = Math.pow(10, Math.floor(Math.log10(rough)));
    var steps = [1, 2, 2.5, 5, 10];
    var step = power * 10;
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * power >= rough) {
        step = steps[i] * power;
        break;
      }
    }
    step = Number(step.toPrecision(6));
    return { top: Number((Math.ceil(value / step - 1e-9) * step).toPrecision(6)), step: step };
  }

  // ---- the panel ------------------------------------------------------------------

  /*
   * ctx comes from app.js: api(method, path, options) -> Promise<{ok, status, data, headers,
   * expired}>, el, fixed2, toNumber, humanize, newIdempotencyKey, errorSummary, tryAgainIn,
   * setBusy, showBalance(balance), refreshAccount() (balance, usage log, alerts).
   */
  function create(ctx) {
    var el = ctx.el;
    var fixed2 = ctx.fixed2;

    function $(id) {
      return document.getElementById(id);
    }

    var state = {
      run: 0, // bumped by reset(): an answer for a logged-out user or another business is dropped
      prices: {},
      days: null,
      chartWidth: 0,
    };

    // One per feature: its form's ids, the request it builds, and how it shows its result.
    var tools = {
      product_description: {
        prefix: "pd",
        path: API.productDescription,
        action: "a description",
        busyText: "Writing the description…",
        // In the form's order: the first field in error gets the focus.
        fields: {
          product_name: "pd-name",
          category: "pd-category",
          tone: "pd-tone",
          max_words: "pd-max-words",
          features: "pd-features",
        },
        build: buildDescription,
        show: showDescription,
        busy: false,
        attempt: null, // {body, key}: a retry of the same body keeps its Idempotency-Key
      },
      customer_insight: {
        prefix: "ci",
        path: API.customerInsight,
        action: "an insight",
        busyText: "Reading the purchases…",
        fields: { customer_name: "ci-customer", purchases: "ci-purchases", notes: "ci-notes" },
        build: buildInsight,
        show: showInsight,
        busy: false,
        attempt: null,
        lineNumbers: [],
      },
    };

    // ---- field errors ----

    function clearErrors(tool) {
      Object.keys(tool.fields).forEach(function (field) {
        var input = $(tool.fields[field]);
        var slot = $(tool.fields[field] + "-error");
        input.removeAttribute("aria-invalid");
        slot.replaceChildren();
        slot.hidden = true;
      });
    }

    // One message as a line of text; several as a list (a purchases textarea can have many).
    function fieldError(inputId, messages) {
      var slot = $(inputId + "-error");
      slot.replaceChildren();
      if (messages.length === 1) {
        slot.append(el("p", { text: messages[0] }));
      } else {
        var shown = messages.slice(0, MAX_LISTED_ERRORS);
        var list = el("ul");
        shown.forEach(function (m) {
          list.append(el("li", { text: m }));
        });
        if (messages.length > shown.length) {
          list.append(el("li", { text: "…and " + (messages.length - shown.length) + " more." }));
        }
        slot.append(list);
      }
      slot.hidden = false;
      $(inputId).setAttribute("aria-invalid", "true");
    }

    // Puts each field's messages next to it; returns those with no field of their own.
    function placeErrors(tool, errors) {
      var leftover = [];
      Object.keys(errors).forEach(function (field) {
        if (!errors[field].length) return;
        if (tool.fields[field]) fieldError(tool.fields[field], errors[field]);
        else leftover = leftover.concat(errors[field]);
      });
      var first = Object.keys(tool.fields).filter(function (field) {
        return errors[field] && errors[field].length;
      })[0];
      if (first) $(tool.fields[first]).focus();
      return leftover;
    }

    // ---- building requests ----

    function buildDescription() {
      var errors = {};
      var body = {};
      var name = $("pd-name").value.trim();
      if (!name) errors.product_name = ["Enter the product's name."];
      else if (name.length > LIMITS.productName) {
        errors.product_name = ["At most " + LIMITS.productName + " characters."];
      }
      body.product_name = name;
      var category = $("pd-category").value.trim();
      if (category.length > LIMITS.category) errors.category = ["At most " + LIMITS.category + " characters."];
      if (category) body.category = category;
      var features = splitFeatures($("pd-features").value);
      if (features.error) errors.features = [features.error];
      if (features.values.length) body.features = features.values;
      body.tone = $("pd-tone").value;
      var words = $("pd-max-words").value.trim();
      if (words) {
        if (!/^\d+$/.test(words) || +words < LIMITS.minWords || +words > LIMITS.maxWords) {
          errors.max_words = ["Enter a whole number from " + LIMITS.minWords + " to " + LIMITS.maxWords + "."];
        }
        body.max_words = Number(words);
      }
      return { body: body, errors: errors };
    }

    function buildInsight(tool) {
      var errors = {};
      var body = {};
      var customer = $("ci-customer").value.trim();
      if (customer.length > LIMITS.customerName) {
        errors.customer_name = ["At most " + LIMITS.customerName + " characters."];
      }
      if (customer) body.customer_name = customer;
      var parsed = parsePurchaseLines($("ci-purchases").value);
      if (parsed.errors.length) errors.purchases = parsed.errors;
      body.purchases = parsed.purchases;
      tool.lineNumbers = parsed.lineNumbers;
      var notes = $("ci-notes").value.trim();
      if (notes.length > LIMITS.notes) errors.notes = ["At most " + LIMITS.notes + " characters."];
      if (notes) body.notes = notes;
      return { body: body, errors: errors };
    }

    // The server's 400 -> {field: [message]}, with list items named by what the user typed.
    function serverErrors(tool, data) {
      var errors = {};
      Object.keys(data).forEach(function (field) {
        if (field === "purchases") {
          errors.purchases = listErrors(data.purchases, function (i) {
            return "Line " + (tool.lineNumbers[i] || i + 1);
          });
        } else if (field === "features") {
          errors.features = listErrors(data.features, function (i) {
            return "Feature " + (i + 1);
          });
        } else {
          errors[field] = messagesOf(data[field]).map(function (m) {
            return tool.fields[field] || field === "non_field_errors" ? m : ctx.humanize(field) + ": " + m;
          });
        }
      });
      return errors;
    }

    // ---- status line under each form ----

    function status(tool, kind, text, extra) {
      var box = $(tool.prefix + "-status");
      box.replaceChildren(el("p", { text: text }));
      if (extra) box.append(extra);
      box.className = "tool-status message message-" + kind;
      box.hidden = false;
    }

    function clearStatus(tool) {
      var box = $(tool.prefix + "-status");
      box.replaceChildren();
      box.className = "tool-status";
      box.hidden = true;
    }

    function listOf(items) {
      var list = el("ul");
      items.forEach(function (item) {
        list.append(el("li", { text: item }));
      });
      return list;
    }

    function buyLink() {
      return el(
        "p",
        { className: "status-actions" },
        el("a", {
          href: "#buy-section",
          className: "button-link buy-link",
          text: "Buy credits",
          onclick: function (event) {
            event.preventDefault();
            var section = $("buy-section");
            var heading = $("buy-title");
            if (section && typeof section.scrollIntoView === "function") {
              section.scrollIntoView({ block: "start", behavior: "smooth" });
            }
            if (heading) heading.focus({ preventScroll: true });
          },
        })
      );
    }

    // ---- calling a feature ----

    function onSubmit(event, tool) {
      event.preventDefault();
      if (tool.busy) return;
      clearErrors(tool);
      clearStatus(tool);
      var built = tool.build(tool);
      var leftover = placeErrors(tool, built.errors);
      if (Object.keys(built.errors).length) {
        status(tool, "error", "Please fix the fields marked above.", leftover.length ? listOf(leftover) : null);
        return;
      }
      // A retry of the same request (after a time-out, a 5xx, a lost answer) keeps its key, so
      // the server answers the first attempt instead of charging twice; a new request gets one.
      var json = JSON.stringify(built.body);
      if (!tool.attempt || tool.attempt.body !== json) {
        tool.attempt = { body: json, key: ctx.newIdempotencyKey() };
      }
      var key = tool.attempt.key;
      var run = state.run;
      var button = $(tool.prefix + "-submit");
      tool.busy = true;
      ctx.setBusy(button, true);
      $(tool.prefix + "-result").hidden = true;
      status(tool, "info", tool.busyText);
      ctx.api("POST", tool.path, { body: built.body, headers: { "Idempotency-Key": key } }).then(function (res) {
        if (run !== state.run) return; // logged out or switched business meanwhile
        tool.busy = false;
        ctx.setBusy(button, false);
        if (res.expired) return;
        answered(tool, res);
        if (res.status !== 0 && res.status !== 400) {
          ctx.refreshAccount();
          loadChart();
        }
      });
    }

    function answered(tool, res) {
      var data = res.data || {};
      if (res.status === 200 && data.result) {
        tool.attempt = null;
        clearStatus(tool);
        tool.show(data);
        ctx.showBalance(data.balance);
        return;
      }
      if (res.status === 400 && data && typeof data === "object" && typeof data.detail !== "string") {
        var leftover = placeErrors(tool, serverErrors(tool, data));
        status(tool, "error", "Please fix the fields marked above.", leftover.length ? listOf(leftover) : null);
        return;
      }
      if (res.status === 402) {
        if (data.balance !== undefined) ctx.showBalance(data.balance);
        var text =
          data.code === "credits_expired"
            ? "Your credits have expired. Buy credits to use " + tool.action + " again."
            : "Not enough credits: " +
              tool.action.replace(/^an? /, "this ") +
              " costs " +
              fixed2(data.price !== undefined ? data.price : state.prices[toolCode(tool)]) +
              " credits and your balance is " +
              fixed2(data.balance) +
              ".";
        status(tool, "error", text, buyLink());
        focusStatus(tool);
        return;
      }
      if (res.status === 409) {
        if (data.code === "idempotency_key_reused") tool.attempt = null;
        status(
          tool,
          "error",
          data.code === "idempotency_request_in_progress"
            ? "This request is still running. Wait a moment, then press the button again."
            : data.detail || "This request conflicts with an earlier one. Press the button again."
        );
        return;
      }
      if (res.status === 429) {
        status(tool, "error", "Too many AI requests. " + ctx.tryAgainIn(res));
        return;
      }
      if (res.status === 0) {
        status(
          tool,
          "error",
          "Could not reach the server. Check your connection and press the button again: " +
            "the same request is never charged twice."
        );
        return;
      }
      if (res.status === 502 || res.status === 503 || res.status === 504) {
        var fallback = {
          502: "The AI service could not complete the request. No credits were taken.",
          503: "AI tools are not set up on this server. No credits were taken.",
          504: "The AI service did not answer in time. No credits were taken.",
        }[res.status];
        status(tool, "error", typeof data.detail === "string" && data.detail ? data.detail : fallback);
        focusStatus(tool);
        return;
      }
      status(tool, "error", ctx.errorSummary(res, "Getting " + tool.action).text);
    }

    function focusStatus(tool) {
      $(tool.prefix + "-status").focus({ preventScroll: false });
    }

    function toolCode(tool) {
      return Object.keys(tools).filter(function (code) {
        return tools[code] === tool;
      })[0];
    }

    function meta(prefix, data) {
      var line = $(prefix + "-meta");
      line.replaceChildren(
        el("span", { id: prefix + "-charged", text: "Charged " + fixed2(data.credits_charged) + " credits" }),
        el("span", { id: prefix + "-balance", text: "Balance now " + fixed2(data.balance) + " credits" }),
        el("span", { text: String(ctx.toNumber(data.tokens_used)) + " tokens" })
      );
    }

    function showDescription(data) {
      $("pd-description").textContent = String(data.result.description || "");
      $("pd-copy").textContent = "Copy";
      meta("pd", data);
      $("pd-result").hidden = false;
    }

    function showInsight(data) {
      var result = data.result;
      $("ci-summary").textContent = String(result.summary || "");
      var segment = $("ci-segment");
      segment.textContent = result.segment ? ctx.humanize(result.segment) : "";
      segment.setAttribute("data-segment", String(result.segment || ""));
      var list = $("ci-recommendations");
      list.replaceChildren();
      (Array.isArray(result.recommendations) ? result.recommendations : []).forEach(function (r) {
        list.append(el("li", { text: r }));
      });
      meta("ci", data);
      $("ci-result").hidden = false;
    }

    function onCopy() {
      var button = $("pd-copy");
      var text = $("pd-description").textContent;
      var done = function (label) {
        button.textContent = label;
      };
      if (!navigator.clipboard || typeof navigator.clipboard.writeText !== "function") {
        done("Select the text to copy");
        return;
      }
      navigator.clipboard.writeText(text).then(
        function () {
          done("Copied");
        },
        function () {
          done("Copy failed");
        }
      );
    }

    // ---- prices and availability ----

    function loadFeatures() {
      var run = state.run;
      var note = $("ai-features-status");
      return ctx.api("GET", API.features).then(function (res) {
        if (run !== state.run || res.expired) return;
        if (!res.ok || !Array.isArray(res.data)) {
          note.textContent = "Prices could not be loaded; the tools still work.";
          note.hidden = false;
          return;
        }
        var off = [];
        note.hidden = true;
        res.data.forEach(function (feature) {
          var tool = feature && tools[feature.code];
          if (!tool) return;
          state.prices[feature.code] = feature.credits;
          var badge = $(tool.prefix + "-price");
          badge.textContent = feature.credits === null ? "" : fixed2(feature.credits) + " credits a use";
          $(tool.prefix + "-submit").disabled = !feature.enabled;
          if (!feature.enabled) off.push(String(feature.name));
        });
        if (off.length) {
          note.textContent = "Not available on this server right now: " + off.join(", ") + ".";
          note.hidden = false;
        }
      });
    }

    // ---- the chart ----

    function dayOf(iso) {
      var parts = String(iso).split("-");
      return new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2]));
    }

    function dayLabel(iso, long) {
      var options = long
        ? { weekday: "short", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }
        : { day: "numeric", month: "short", timeZone: "UTC" };
      return dayOf(iso).toLocaleDateString("en-GB", options);
    }

    function svg(tag, attrs) {
      var node = document.createElementNS(SVG_NS, tag);
      Object.keys(attrs || {}).forEach(function (name) {
        node.setAttribute(name, String(attrs[name]));
      });
      for (var i = 2; i < arguments.length; i++) {
        var child = arguments[i];
        if (child !== null && child !== undefined) {
          node.append(child instanceof Node ? child : document.createTextNode(String(child)));
        }
      }
      return node;
    }

    function tickLabel(value) {
      return Number.isInteger(value) ? String(value) : value.toFixed(value * 10 === Math.round(value * 10) ? 1 : 2);
    }

    function requestsText(n) {
      return n + " request" + (n === 1 ? "" : "s");
    }

    function drawChart() {
      var box = $("usage-chart");
      var days = state.days;
      if (!days) return;
      box.replaceChildren();
      if (!days.length) {
        box.append(el("p", { className: "empty", text: "No days to show." }));
        return;
      }
      var width = Math.max(280, Math.round(box.clientWidth || 600));
      state.chartWidth = width;
      var height = 190;
      var pad = { top: 12, right: 8, bottom: 26, left: 40 };
      var plotW = width - pad.left - pad.right;
      var plotH = height - pad.top - pad.bottom;
      var credits = days.map(function (d) {
        return ctx.toNumber(d.credits);
      });
      var scale = niceScale(Math.max.apply(null, credits));
      var y = function (value) {
        return pad.top + plotH - (value / scale.top) * plotH;
      };
      var band = plotW / days.length;
      var barW = Math.max(2, Math.min(18, band * 0.68));

      var chart = svg("svg", {
        id: "usage-chart-svg",
        class: "chart-svg",
        width: width,
        height: height,
        viewBox: "0 0 " + width + " " + height,
        role: "img",
        "aria-labelledby": "usage-chart-title usage-chart-summary",
      });

      var grid = svg("g", { class: "chart-grid", "aria-hidden": "true" });
      var ticks = Math.round(scale.top / scale.step);
      for (var k = 0; k <= ticks; k++) {
        var tick = Number((k * scale.step).toPrecision(6));
        var ty = Math.round(y(tick)) + 0.5;
        grid.append(
          svg("line", {
            class: tick === 0 ? "axis" : "gridline",
            x1: pad.left,
            x2: width - pad.right,
            y1: ty,
            y2: ty,
          }),
          svg(
            "text",
            { class: "tick tick-y", x: pad.left - 6, y: ty, "text-anchor": "end", "dominant-baseline": "middle" },
            tickLabel(tick)
          )
        );
      }
      chart.append(grid);

      var bars = svg("g", { class: "chart-bars" });
      var last = days.length - 1;
      days.forEach(function (day, i) {
        var value = credits[i];
        var requests = ctx.toNumber(day.requests);
        var x = pad.left + band * i + (band - barW) / 2;
        var top = y(value);
        var isToday = i === last;
        // A whole-column hit area, so a tiny bar or an empty day still shows its tooltip.
        var group = svg(
          "g",
          { class: "day" + (isToday ? " day-today" : ""), "data-date": day.date },
          svg(
            "title",
            {},
            (isToday ? "Today, " : "") +
              dayLabel(day.date, true) +
              ": " +
              fixed2(value) +
              " credits, " +
              requestsText(requests)
          ),
          svg("rect", { class: "hit", x: pad.left + band * i, y: pad.top, width: band, height: plotH })
        );
        if (value > 0) {
          group.append(
            svg("rect", {
              class: "bar" + (isToday ? " today" : ""),
              x: x.toFixed(2),
              y: top.toFixed(2),
              width: barW.toFixed(2),
              height: Math.max(1, pad.top + plotH - top).toFixed(2),
              rx: Math.min(3, barW / 3).toFixed(2),
              "data-date": day.date,
              "data-credits": fixed2(value),
            })
          );
        } else if (requests > 0) {
          // Calls that all failed cost nothing, but they happened: a dot on the axis says so.
          group.append(
            svg("circle", { class: "failed-dot", cx: (x + barW / 2).toFixed(2), cy: pad.top + plotH - 3, r: 2.5 })
          );
        }
        bars.append(group);
      });
      chart.append(bars);

      // Date labels a week apart (two on a narrow screen), counted back from today so today
      // always has one.
      var labels = svg("g", { class: "chart-x", "aria-hidden": "true" });
      var every = band * 7 >= 64 ? 7 : 14;
      for (var j = last; j >= 0; j -= every) {
        var cx = pad.left + band * j + band / 2;
        var anchor = j === last ? "end" : "middle";
        if (j === last) cx = Math.min(cx + band / 2, width - pad.right);
        labels.append(
          svg(
            "text",
            { class: "tick tick-x", x: cx.toFixed(2), y: height - 8, "text-anchor": anchor },
            j === last ? "Today" : dayLabel(days[j].date, false)
          )
        );
      }
      chart.append(labels);
      box.append(chart);
    }

    function renderChartText() {
      var days = state.days || [];
      var total = 0;
      var requests = 0;
      var used = [];
      days.forEach(function (d) {
        total += ctx.toNumber(d.credits);
        requests += ctx.toNumber(d.requests);
        if (ctx.toNumber(d.requests) > 0) used.push(d);
      });
      var today = days.length ? days[days.length - 1] : null;
      var summary = $("usage-chart-summary");
      summary.textContent = used.length
        ? fixed2(total) +
          " credits spent in the last " +
          days.length +
          " days, on " +
          requestsText(requests) +
          ". Today: " +
          fixed2(today ? today.credits : 0) +
          " credits."
        : "No AI credits spent in the last " + days.length + " days.";

      var holder = $("usage-chart-table");
      holder.replaceChildren();
      $("usage-chart-details").hidden = !used.length;
      if (!used.length) return;
      var body = el("tbody");
      used
        .slice()
        .reverse()
        .forEach(function (d) {
          body.append(
            el(
              "tr",
              {},
              el("td", { "data-label": "Day", text: dayLabel(d.date, true) }),
              el("td", { "data-label": "Credits", text: fixed2(d.credits) }),
              el("td", { "data-label": "Requests", text: String(ctx.toNumber(d.requests)) })
            )
          );
        });
      holder.append(
        el(
          "div",
          { className: "table-wrap" },
          el(
            "table",
            {},
            el("caption", { className: "visually-hidden", text: "Days with AI usage, newest first" }),
            el(
              "thead",
              {},
              el(
                "tr",
                {},
                el("th", { scope: "col", text: "Day" }),
                el("th", { scope: "col", text: "Credits" }),
                el("th", { scope: "col", text: "Requests" })
              )
            ),
            body
          )
        )
      );
    }

    function loadChart() {
      var run = state.run;
      return ctx.api("GET", API.daily).then(function (res) {
        if (run !== state.run || res.expired) return;
        var box = $("usage-chart");
        if (!res.ok || !Array.isArray(res.data)) {
          state.days = null;
          var problem = ctx.errorSummary(res, "Loading the chart").text;
          box.replaceChildren(el("p", { className: "error-text", text: problem }));
          $("usage-chart-summary").textContent = "";
          $("usage-chart-details").hidden = true;
          return;
        }
        state.days = res.data;
        drawChart();
        renderChartText();
      });
    }

    // The chart is drawn at its real width (readable text on a phone), so it redraws on resize.
    function watchWidth() {
      var box = $("usage-chart");
      var redraw = function () {
        var width = Math.round(box.clientWidth);
        if (state.days && width && Math.abs(width - state.chartWidth) > 4) drawChart();
      };
      if (typeof ResizeObserver === "function") new ResizeObserver(redraw).observe(box);
      else window.addEventListener("resize", redraw);
    }

    // ---- wiring ----

    Object.keys(tools).forEach(function (code) {
      var tool = tools[code];
      $(tool.prefix + "-form").addEventListener("submit", function (event) {
        onSubmit(event, tool);
      });
      // A fixed field stops being marked as wrong as soon as it is edited.
      Object.keys(tool.fields).forEach(function (field) {
        var id = tool.fields[field];
        $(id).addEventListener("input", function () {
          if (!$(id).hasAttribute("aria-invalid")) return;
          $(id).removeAttribute("aria-invalid");
          $(id + "-error").hidden = true;
        });
      });
    });
    $("pd-copy").addEventListener("click", onCopy);
    watchWidth();

    return {
      // The dashboard (re)loaded: prices and the chart.
      load: function () {
        return Promise.all([loadFeatures(), loadChart()]);
      },
      // Another user or business: nothing of the last one stays on screen (forms too, on logout).
      reset: function (clearForms) {
        state.run += 1;
        state.days = null;
        Object.keys(tools).forEach(function (code) {
          var tool = tools[code];
          tool.busy = false;
          tool.attempt = null;
          ctx.setBusy($(tool.prefix + "-submit"), false);
          clearErrors(tool);
          clearStatus(tool);
          $(tool.prefix + "-result").hidden = true;
          if (clearForms) $(tool.prefix + "-form").reset();
        });
        $("usage-chart").replaceChildren("Loading…");
        $("usage-chart-summary").textContent = "";
        $("usage-chart-details").hidden = true;
      },
    };
  }

  var AITools = {
    create: create,
    splitFeatures: splitFeatures,
    isoDate: isoDate,
    parsePurchaseLines: parsePurchaseLines,
    listErrors: listErrors,
    niceScale: niceScale,
    LIMITS: LIMITS,
  };

  if (typeof module === "object" && module && module.exports) module.exports = AITools;
  else root.AITools = AITools;
})(typeof window !== "undefined" ? window : globalThis);
