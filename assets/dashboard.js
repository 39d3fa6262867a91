// Baton dashboard: live updates over the workspace event stream, and the handoff actions.
// Customer text is only ever put in the page with textContent, never as HTML.
(function () {
  "use strict";

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var me = document.body.dataset.user;
  var isAdmin = document.body.dataset.admin === "true";
  var pageData = (function () {
    var el = document.getElementById("page-data");
    return el ? JSON.parse(el.textContent) : null;
  })();
  var list = document.getElementById("handoff-list");

  function $(id) { return document.getElementById(id); }

  // Forms that undo something ask first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.dataset && button.dataset.confirm) || (form.dataset && form.dataset.confirm);
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  function api(method, path, body) {
    var options = { method: method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
    if (body instanceof FormData) options.body = body;
    else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.text().then(function (text) {
        var data = text ? JSON.parse(text) : null;
        if (!response.ok) {
          var message = data && data.error ? data.error.message : "Something went wrong (" + response.status + ")";
          throw new Error(message);
        }
        return data;
      });
    });
  }

  // ---- Available / Away, shown while the workspace assigns handoffs automatically. ----
  var availability = $("availability");
  var assigning = false;
  // An agent's file on its way: one at a time.
  var uploading = false;
  if (availability) {
    api("GET", "/api/v1/settings/assignment").then(function (settings) {
      assigning = settings.auto;
      availability.hidden = !settings.auto;
    }).catch(function () {});
    availability.addEventListener("click", function () {
      var away = availability.dataset.away !== "true";
      availability.disabled = true;
      api("PATCH", "/api/v1/me", { away: away }).then(function (user) {
        availability.dataset.away = String(user.away);
        availability.setAttribute("aria-pressed", String(user.away));
        availability.textContent = user.away ? "Away" : "Available";
      }).catch(function (error) { window.alert(error.message); })
        .finally(function () { availability.disabled = false; });
    });
  }

  // ---- Alerts: a sound and a browser notification for new handoffs, once allowed. ----
  var audio = null;
  function beep() {
    if (!audio) return;
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.4);
  }
  function alertNew(handoff, title) {
    beep();
    if (window.Notification && Notification.permission === "granted") {
      var note = new Notification(title || "New handoff: " + handoff.customer.name, { body: handoff.summary.slice(0, 140), tag: handoff.id });
      note.onclick = function () { window.focus(); location.href = "/handoffs/" + handoff.id; };
    }
  }
  var alertsButton = $("enable-alerts");
  if (alertsButton) {
    if (localStorage.getItem("baton-alerts") === "on") alertsButton.textContent = "Alerts on";
    alertsButton.addEventListener("click", function () {
      try { audio = audio || new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; }
      localStorage.setItem("baton-alerts", "on");
      alertsButton.textContent = "Alerts on";
      if (window.Notification && Notification.permission === "default") Notification.requestPermission();
      beep();
    });
  }

  // Filters apply as soon as they change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // ---- Waiting times tick without a reload. ----
  function waited(since) {
    var minutes = Math.max(0, Math.floor((Date.now() - since) / 60000));
    if (minutes === 0) return "just now";
    if (minutes < 60) return minutes + " min";
    if (minutes < 48 * 60) return Math.floor(minutes / 60) + " h";
    return Math.floor(minutes / 1440) + " d";
  }
  setInterval(function () {
    document.querySelectorAll("[data-since]").forEach(function (cell) {
      cell.textContent = waited(Number(cell.dataset.since));
    });
  }, 30000);

  // ---- The queue: re-render from the server when handoffs change. ----
  var refreshing = null;
  function refreshQueue() {
    if (!list || refreshing) return;
    refreshing = fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("handoff-list");
        if (fresh) list.replaceChildren.apply(list, Array.from(fresh.childNodes).map(function (n) { return document.importNode(n, true); }));
        ["pending", "in_progress", "resolved"].forEach(function (status) {
          var a = doc.getElementById("count-" + status), b = $("count-" + status);
          if (a && b) b.textContent = a.textContent;
        });
      })
      .finally(function () { refreshing = null; });
  }
  function refreshPendingCount() {
    api("GET", "/api/v1/handoffs/counts").then(function (counts) {
      var pill = $("nav-pending");
      if (!pill) return;
      pill.textContent = counts.pending;
      pill.className = counts.pending > 0 ? "pill" : "pill zero";
    }).catch(function () {});
  }

  // ---- One handoff: history, state and actions. ----
  // The reply box's saved-reply list, once the handoff page has set it up.
  var suggestions = null;
  var state = pageData ? { status: pageData.status, holderId: pageData.holder_id, holderName: pageData.holder_name } : null;

  function renderState() {
    if (!state) return;
    var mine = state.holderId === me;
    var badge = $("status-badge");
    var labels = { pending: "Pending", in_progress: "In progress", resolved: "Resolved" };
    badge.textContent = labels[state.status];
    badge.className = "badge " + state.status;
    $("claim").hidden = state.status !== "pending";
    if ($("release")) $("release").hidden = state.status !== "in_progress";
    $("resolve").hidden = state.status === "resolved" || (state.status === "in_progress" && !mine && !isAdmin);
    $("holder").textContent = state.holderName || "nobody yet";
    var banner = $("holder-banner");
    banner.hidden = !(state.status === "in_progress" && !mine);
    banner.textContent = state.holderName ? state.holderName + " has claimed this handoff." : "";
    renderTransfer(mine);
    var canReply = state.status === "in_progress" && (mine || isAdmin) && !pageData.window_closed;
    $("reply-text").disabled = !canReply;
    if (!canReply && suggestions) suggestions.close();
    $("send").disabled = !canReply;
    $("attach").disabled = !canReply || uploading;
    $("composer-hint").textContent = canReply ? "Enter sends · Shift+Enter for a new line" +
        (pageData.saved_replies && pageData.saved_replies.length ? " · / for saved replies" : "") :
      pageData.window_closed ? "WhatsApp's 24-hour window is closed: send an approved template below." :
      state.status === "pending" ? "Claim this handoff to reply." :
      state.status === "resolved" ? "This handoff is resolved." :
      (state.holderName || "Another agent") + " holds this handoff.";
  }

  // Transfer: the holder or an admin hands an in-progress handoff to a teammate; an admin
  // assigns a pending one. The list leaves out whoever holds it now.
  function renderTransfer(mine) {
    var form = $("transfer-form");
    var allowed = (state.status === "in_progress" && (mine || isAdmin)) || (state.status === "pending" && isAdmin);
    form.hidden = !allowed;
    if (!allowed) return;
    var pending = state.status === "pending";
    $("transfer-title").textContent = pending ? "Assign" : "Transfer";
    $("transfer").textContent = pending ? "Assign" : "Transfer";
    var select = $("transfer-to");
    var chosen = select.value;
    var options = [select.options[0]];
    (pageData.members || []).forEach(function (member) {
      if (member.id === state.holderId) return;
      var option = document.createElement("option");
      option.value = member.id;
      option.textContent = member.id === me ? member.name + " (you)" : member.name;
      option.selected = member.id === chosen;
      options.push(option);
    });
    select.replaceChildren.apply(select, options);
  }

  function showError(error) {
    var box = $("action-error");
    var text = error ? error.message : "";
    box.textContent = text.charAt(0).toUpperCase() + text.slice(1);
    box.hidden = !error;
  }

  // Appends an entry to the history — a message or a note — once: its meta line (who, when)
  // unless `who` is null (the system's notes), then its text. Answers the meta line.
  function append(key, id, className, who, createdAt, text) {
    var conversation = $("conversation");
    if (!conversation || document.querySelector("[data-" + key + '="' + id + '"]')) return undefined;
    var bubble = document.createElement("div");
    bubble.className = className;
    bubble.dataset[key] = id;
    var meta = null;
    if (who !== null) {
      meta = document.createElement("div");
      meta.className = "meta";
      var name = document.createElement("span");
      name.textContent = who;
      var when = document.createElement("span");
      when.textContent = createdAt.slice(11, 16);
      when.title = createdAt;
      meta.append(name, when);
      bubble.append(meta);
    }
    var body = document.createElement("div");
    body.className = "text";
    body.textContent = text;
    bubble.append(body);
    conversation.append(bubble);
    conversation.scrollTop = conversation.scrollHeight;
    return meta;
  }

  function addMessage(m) {
    var meta = append("message", m.id, "msg " + m.author, m.author === "system" ? null : m.author_name, m.created_at, m.text);
    if (meta && m.delivery_status) {
      var delivery = document.createElement("span");
      delivery.className = "delivery";
      delivery.dataset.delivery = m.id;
      meta.append(delivery);
      showDelivery(delivery, m.delivery_status, m.delivery_error);
    }
    // The file itself is drawn by the server, like the rest of the history.
    if (meta && m.attachment) refreshMessage(m.id, m.seq);
  }

  function addNote(n) {
    append("note", n.id, "msg note", "Note · " + n.author.name, n.created_at, n.text);
  }

  // A message's delivery status; one that failed for good (an outage longer than the retries)
  // can be sent again.
  function showDelivery(label, status, error) {
    label.textContent = status;
    label.title = error || "";
    var next = label.nextElementSibling;
    var button = next && next.classList.contains("resend") ? next : null;
    if (status === "failed" && !button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "resend";
      button.textContent = "Send again";
      button.addEventListener("click", function () {
        button.disabled = true;
        api("POST", "/api/v1/handoffs/" + pageData.handoff_id + "/messages/" + label.dataset.delivery + "/retry")
          // The new status arrives as events (queued, then accepted), maybe before this answer.
          .then(function () { showError(null); button.remove(); })
          .catch(function (error) { button.disabled = false; showError(error); });
      });
      label.after(button);
    } else if (status !== "failed" && button) {
      button.remove();
    }
  }

  // A message as the server renders it now (a customer's file once it is fetched); an answer
  // that comes back after a later one's is dropped.
  var refreshes = {};
  function refreshMessage(id, seq) {
    refreshes[id] = seq;
    fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (refreshes[id] !== seq) return;
        var selector = '[data-message="' + CSS.escape(id) + '"]';
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(selector);
        var shown = document.querySelector(selector);
        if (fresh && shown) shown.replaceWith(document.importNode(fresh, true));
      })
      .catch(function () {});
  }

  // "… is typing…" under the history while the customer types in the chat window (the widget
  // says so every 3 s at most while its box has text), until their message comes.
  var customerTyping = null, customerWrote = 0;
  function showCustomerTyping(on) {
    var line = $("customer-typing");
    // Not after the handoff is over, nor just after their message (which may overtake it).
    if (!line || (on && (state.status === "resolved" || Date.now() - customerWrote < 1500))) return;
    clearTimeout(customerTyping);
    line.hidden = !on;
    line.textContent = on ? pageData.customer_name + " is typing…" : "";
    if (on) customerTyping = setTimeout(function () { showCustomerTyping(false); }, 6000);
  }

  // The handoff on this page is gone: back to the queue, saying why.
  var erasing = false;
  function erased(message) {
    location.href = "/handoffs?ok=" + encodeURIComponent(message);
  }

  function applyHandoff(h) {
    state.status = h.status;
    state.holderId = h.claimed_by ? h.claimed_by.id : null;
    state.holderName = h.claimed_by ? h.claimed_by.name : null;
    renderState();
    renderRating(h.rating);
    if (Array.isArray(h.labels)) labelsStored = h.labels;
    if (!labelsSaving) renderLabels(labelsStored);
    if (h.status === "resolved") showCustomerTyping(false);
  }

  // The labels the team filed the handoff under, each with a button to take it off. (A
  // handoff from a node that knows no labels leaves them as they are.)
  function renderLabels(labels) {
    if (!Array.isArray(labels)) return;
    state.labels = labels;
    var box = $("labels");
    box.replaceChildren.apply(box, state.labels.map(function (label) {
      var chip = document.createElement("span");
      chip.className = "badge label";
      chip.dataset.label = label;
      chip.textContent = "#" + label;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "unlabel";
      remove.textContent = "✕";
      remove.setAttribute("aria-label", "Remove label " + label);
      remove.addEventListener("click", function () {
        saveLabels(state.labels.filter(function (l) { return l !== label; })).catch(showError);
      });
      chip.append(remove);
      return chip;
    }));
  }

  // Shown at once, so that a second change made before the first is answered builds on it,
  // and sent one after another, so that the server keeps them in the order they were made.
  // While one is on its way, neither an earlier answer nor a teammate's event redraws the
  // labels; once the last is answered, the labels as stored (refused: as they were) stand.
  var labelsStored = pageData ? pageData.labels : [];
  var labelsSaving = 0;
  var labelsSent = Promise.resolve();
  function saveLabels(labels) {
    labelsSaving++;
    renderLabels(labels);
    var saved = labelsSent.then(function () {
      return api("PUT", "/api/v1/handoffs/" + pageData.handoff_id + "/labels", { labels: labels });
    });
    labelsSent = saved.catch(function () {});
    return saved.then(function (h) {
      labelsSaving--;
      showError(null);
      applyHandoff(h);
    }, function (error) {
      labelsSaving--;
      if (!labelsSaving) renderLabels(labelsStored);
      throw error;
    });
  }

  // The customer's answer to the Satisfaction Survey, as the server renders it.
  function renderRating(rating) {
    var labels = { great: "😀 Great", okay: "😐 Okay", poor: "🙁 Poor" };
    $("rating-label").hidden = $("rating").hidden = !rating;
    if (!rating) return;
    var closed = Date.parse(rating.closes_at) < Date.now();
    $("rating").textContent = !rating.score ? (closed ? "asked, not answered" : "asked, no answer yet") :
      labels[rating.score] + (rating.comment ? " — “" + rating.comment + "”" : "");
  }

  if (state) {
    renderState();
    renderLabels(pageData.labels);
    $("label-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var box = $("label-text");
      var added = box.value.split(/[\s,]+/).filter(Boolean);
      if (!added.length) return;
      saveLabels(state.labels.concat(added)).then(function () { box.value = ""; }).catch(showError);
    });
    document.querySelectorAll("[data-delivery]").forEach(function (label) {
      showDelivery(label, label.textContent, label.title);
    });
    // Opened from a search: at the message it found; else at the latest.
    var conversation = $("conversation");
    var found = location.hash.indexOf("#m-") === 0 && document.getElementById(location.hash.slice(1));
    if (found && conversation.contains(found)) found.scrollIntoView({ block: "center" });
    else conversation.scrollTop = conversation.scrollHeight;
    var base = "/api/v1/handoffs/" + pageData.handoff_id;
    $("claim").addEventListener("click", function () {
      api("POST", base + "/claim").then(function (h) { showError(null); applyHandoff(h); }).catch(showError);
    });
    if ($("release")) $("release").addEventListener("click", function () {
      api("POST", base + "/release").then(function (h) { showError(null); applyHandoff(h); }).catch(showError);
    });
    $("resolve").addEventListener("click", function () {
      api("POST", base + "/resolve").then(function (h) { showError(null); applyHandoff(h); }).catch(showError);
    });
    if ($("erase")) $("erase").addEventListener("click", function () {
      if (!window.confirm("Erase " + pageData.customer_name + "? Their conversations, messages, attachments, handoffs, ratings and the team's notes are deleted for good.")) return;
      erasing = true;
      api("DELETE", "/api/v1/contacts/" + pageData.contact_id)
        .then(function () { erased("Erased " + pageData.customer_name + " and everything kept about them."); })
        .catch(function (error) { erasing = false; showError(error); });
    });
    var textarea = $("reply-text");
    $("composer").addEventListener("submit", function (event) {
      event.preventDefault();
      var text = textarea.value.trim();
      if (!text) return;
      $("send").disabled = true;
      api("POST", base + "/messages", { text: text })
        .then(function (m) { showError(null); textarea.value = ""; addMessage(m); })
        .catch(showError)
        .finally(function () { renderState(); textarea.focus(); });
    });
    // A picture or a PDF goes as a reply of its own.
    $("attach").addEventListener("click", function () { $("reply-file").click(); });
    $("reply-file").addEventListener("change", function () {
      var picker = $("reply-file"), file = picker.files[0];
      picker.value = "";
      if (!file) return;
      var body = new FormData();
      body.append("file", file);
      uploading = true;
      renderState();
      api("POST", base + "/attachments", body)
        .then(function (m) { showError(null); addMessage(m); })
        .catch(showError)
        .finally(function () { uploading = false; renderState(); });
    });
    // While the box has text, the customer sees "typing" (every 3 s at most; it lasts 10).
    var typingSent = 0;
    textarea.addEventListener("input", function () {
      if (!textarea.value.trim() || Date.now() - typingSent < 3000) return;
      typingSent = Date.now();
      api("POST", base + "/typing").catch(function () {});
    });
    $("note-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var box = $("note-text");
      var text = box.value.trim();
      if (!text) return;
      $("add-note").disabled = true;
      api("POST", base + "/notes", { text: text })
        .then(function (n) { showError(null); box.value = ""; addNote(n); })
        .catch(showError)
        .finally(function () { $("add-note").disabled = false; });
    });
    $("transfer-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var note = $("transfer-note").value.trim();
      // Whom this page saw holding it: if that changed meanwhile, nothing moves.
      var body = { user_id: $("transfer-to").value, from: state.holderId || null };
      if (note) body.note = note;
      $("transfer").disabled = true;
      api("POST", base + "/transfer", body)
        .then(function (h) {
          showError(null);
          $("transfer-note").value = "";
          $("transfer-to").value = "";
          if (h.note) addNote(h.note);
          applyHandoff(h);
        })
        .catch(showError)
        .finally(function () { $("transfer").disabled = false; });
    });
    var templateForm = $("template-form");
    if (templateForm) templateForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var parameters = $("tpl-params").value.split(",").map(function (p) { return p.trim(); }).filter(Boolean);
      api("POST", base + "/messages", { template: { name: $("tpl-name").value.trim(), language: $("tpl-language").value.trim(), parameters: parameters } })
        .then(function (m) { showError(null); addMessage(m); })
        .catch(showError);
    });
    suggestions = savedReplies(textarea);
    textarea.addEventListener("keydown", function (event) {
      if (suggestions.handle(event)) return;
      if (event.isComposing || event.keyCode === 229) return;
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
  }

  // ---- Saved replies: "/" and a shortcut in the reply box lists them; Enter, Tab or a click
  // puts one in the box, names filled in, to edit or send. Text only, never markup. While the
  // box holds nothing but "/word", Enter never sends it. ----
  function savedReplies(textarea) {
    var saved = (pageData && pageData.saved_replies) || [];
    var list = $("reply-suggestions");
    var matches = [];
    var picked = 0;
    textarea.setAttribute("aria-controls", "reply-suggestions");
    textarea.setAttribute("aria-expanded", "false");
    // One pass, with a function: a name holding "$&" or "{{agent_name}}" stays as written.
    function fill(text) {
      var customer = pageData.customer_known_name;
      var filled = text.replace(/([,\s]*)\{\{\s*(customer_name|agent_name)\s*\}\}/g, function (all, lead, key) {
        if (key === "agent_name") return lead + (pageData.agent_name || "");
        // Someone without a known name is greeted without one: "Hi {{customer_name}}," → "Hi,".
        return customer ? lead + customer : "";
      });
      return customer ? filled : filled.replace(/^[,\s]+/, "");
    }
    function command() {
      var typed = /^\/(\S*)$/.exec(textarea.value);
      return typed && saved.length ? typed[1].toLowerCase() : null;
    }
    function close() {
      matches = [];
      list.hidden = true;
      list.textContent = "";
      textarea.setAttribute("aria-expanded", "false");
      textarea.removeAttribute("aria-activedescendant");
    }
    function insert(reply) {
      textarea.value = fill(reply.text);
      close();
      textarea.focus();
      textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    }
    function show(query) {
      list.textContent = "";
      matches.forEach(function (reply, i) {
        var item = document.createElement("li");
        item.id = "saved-reply-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", i === picked ? "true" : "false");
        item.dataset.shortcut = reply.shortcut;
        var name = document.createElement("code");
        name.textContent = "/" + reply.shortcut;
        var text = document.createElement("span");
        text.textContent = " " + (reply.text.length > 120 ? reply.text.slice(0, 120) + "…" : reply.text);
        item.appendChild(name);
        item.appendChild(text);
        // Before the box loses focus, so the click lands.
        item.addEventListener("mousedown", function (event) { event.preventDefault(); insert(reply); });
        list.appendChild(item);
      });
      if (!matches.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = "No saved reply matches /" + query + " · Shift+Enter to send it as text";
        list.appendChild(none);
      }
      list.hidden = false;
      textarea.setAttribute("aria-expanded", "true");
      if (matches.length) textarea.setAttribute("aria-activedescendant", "saved-reply-" + picked);
    }
    function search() {
      var query = command();
      if (query === null) return close();
      var first = saved.filter(function (r) { return r.shortcut.indexOf(query) === 0; });
      var then = saved.filter(function (r) {
        return r.shortcut.indexOf(query) !== 0 &&
          (r.shortcut.indexOf(query) > 0 || r.text.toLowerCase().indexOf(query) >= 0);
      });
      matches = first.concat(then).slice(0, 8);
      picked = 0;
      show(query);
    }
    textarea.addEventListener("input", search);
    textarea.addEventListener("blur", close);
    return {
      close: close,
      // Keys for the list; true when the key was the list's.
      handle: function (event) {
        if (event.isComposing || event.keyCode === 229) return false;
        var plain = !(event.shiftKey || event.ctrlKey || event.altKey || event.metaKey);
        var query = command();
        if (event.key === "Escape" && !list.hidden) {
          close();
        } else if (!plain || query === null) {
          return false;
        } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          if (!matches.length) return false;
          picked = (picked + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
          show(query);
        } else if (event.key === "Enter" || (event.key === "Tab" && matches.length)) {
          // A lone "/word" is never sent by Enter: it inserts the reply picked, or lists again.
          if (matches.length && !list.hidden) insert(matches[picked]); else search();
        } else {
          return false;
        }
        event.preventDefault();
        return true;
      },
    };
  }

  // ---- Knowledge base: upload with progress, copy the snippet. ----
  var upload = $("upload");
  if (upload) {
    upload.addEventListener("submit", function (event) {
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      var bar = $("upload-progress");
      var status = $("upload-status");
      bar.classList.add("active");
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) bar.firstElementChild.style.width = Math.round(100 * e.loaded / e.total) + "%";
      };
      xhr.onload = function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) {}
        if (xhr.status === 201) {
          location.href = location.pathname + "?ok=" + encodeURIComponent("Added “" + data.title + "” (" + data.chunks + " passages).");
        } else {
          bar.classList.remove("active");
          status.textContent = data && data.error ? data.error.message : "Upload failed (" + xhr.status + ")";
        }
      };
      xhr.onerror = function () { status.textContent = "Upload failed: the server could not be reached."; };
      xhr.open("POST", upload.action);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.send(new FormData(upload));
    });
  }
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = $(button.dataset.copy).textContent;
      (navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject()).then(
        function () { button.textContent = "Copied"; },
        function () { button.textContent = "Select the text and copy it"; }
      );
    });
  });

  var assignedIds = {};
  function alertUnlessAssigned(handoff) {
    if (!assigning) return alertNew(handoff);
    setTimeout(function () { if (!assignedIds[handoff.id]) alertNew(handoff); }, 2000);
  }

  // ---- The workspace event stream, resumed from the last sequence number seen. ----
  var seq = pageData ? pageData.seq : list ? Number(list.dataset.seq) : null;
  if (seq === null) return;
  var delay = 500;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    // A handoff's page also asks to be told when its customer types.
    var typing = state ? "&typing=" + encodeURIComponent(pageData.conversation_id) : "";
    var socket = new WebSocket(scheme + location.host + "/api/v1/events?after=" + seq + typing);
    socket.onopen = function () { delay = 500; document.body.classList.remove("offline"); };
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      // The one notice with no sequence number: not an event, nothing to resume from.
      if (event.type === "typing") {
        if (event.handoff_id === pageData.handoff_id) showCustomerTyping(true);
        return;
      }
      seq = Math.max(seq, event.seq);
      if (event.type.indexOf("handoff.") === 0) {
        refreshQueue();
        refreshPendingCount();
        var alerts = localStorage.getItem("baton-alerts") === "on";
        // Assigned at once, a new handoff is its assignee's news only (they hear that).
        if (event.type === "handoff.assigned") assignedIds[event.handoff.id] = true;
        if (event.type === "handoff.created" && alerts) alertUnlessAssigned(event.handoff);
        var handedToMe = event.type === "handoff.transferred" && event.handoff.claimed_by &&
          event.handoff.claimed_by.id === me && event.by && event.by.id !== me;
        if (handedToMe && alerts) alertNew(event.handoff, event.by.name + " passed you a handoff: " + event.handoff.customer.name);
        var assignedToMe = event.type === "handoff.assigned" && event.handoff.claimed_by && event.handoff.claimed_by.id === me;
        if (assignedToMe && alerts) alertNew(event.handoff, "A handoff was assigned to you: " + event.handoff.customer.name);
        if (state && event.handoff.id === pageData.handoff_id) applyHandoff(event.handoff);
      } else if (event.type === "message.created" && state && event.conversation_id === pageData.conversation_id) {
        if (event.message.author === "customer") { customerWrote = Date.now(); showCustomerTyping(false); }
        addMessage(event.message);
      } else if (event.type === "note.created" && state && event.conversation_id === pageData.conversation_id) {
        addNote(event.note);
      } else if (event.type === "message.attachment" && state && event.conversation_id === pageData.conversation_id) {
        refreshMessage(event.message_id, event.seq);
      } else if (event.type === "contact.erased") {
        refreshQueue();
        refreshPendingCount();
        // Erased from another page (this one's own erase says so when its answer comes).
        if (state && !erasing && event.handoff_ids.indexOf(pageData.handoff_id) >= 0) erased("This customer's data was erased.");
      } else if (event.type === "message.status") {
        var label = document.querySelector('[data-delivery="' + event.message_id + '"]');
        if (label) showDelivery(label, event.delivery_status, event.delivery_error);
      }
    };
    socket.onclose = function () {
      document.body.classList.add("offline");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }
  connect();
})();
