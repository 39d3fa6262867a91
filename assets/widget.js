/* Baton chat widget. One dependency-free script:
 *   <script src="https://baton.example/widget.js" data-bot="WIDGET_KEY" async></script>
 * It lives in a shadow root, so the host page can neither break nor restyle it. It keeps the
 * visitor's conversation across reloads (the visitor token in localStorage), follows it live
 * over a WebSocket, and resumes after the last message seen when the connection comes back.
 * While a model writes the bot's answer, a draft of it grows in place of the typing dots; the
 * stored message replaces it. After an agent resolves the chat, the business may ask the
 * visitor to rate the help they got: buttons under the question, then an optional comment.
 * While a person is in the chat, the visitor can send them a picture or a PDF. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector('script[data-bot][src*="widget.js"]');
  if (!script || window.__batonWidget) return;
  window.__batonWidget = true;
  var key = script.getAttribute("data-bot");
  var base = new URL(script.src, location.href).origin;
  var storageKey = "baton:" + key;

  var css =
    ":host{all:initial}" +
    "*{box-sizing:border-box;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}" +
    ".launcher{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;background:#3b5bdb;color:#fff;cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.2);display:grid;place-items:center;z-index:2147483646}" +
    ".launcher:focus-visible,.send:focus-visible,.close:focus-visible{outline:3px solid #a5b4fc;outline-offset:2px}" +
    ".launcher svg{width:28px;height:28px}" +
    ".badge{position:absolute;top:-2px;right:-2px;min-width:22px;height:22px;border-radius:11px;background:#e03131;color:#fff;font-size:12px;font-weight:700;display:grid;place-items:center;padding:0 6px}" +
    ".panel{position:fixed;right:20px;bottom:92px;width:370px;height:560px;max-height:calc(100vh - 110px);background:#fff;border-radius:16px;box-shadow:0 12px 40px rgba(0,0,0,.22);display:flex;flex-direction:column;overflow:hidden;z-index:2147483647;color:#1c2330}" +
    ".panel[hidden],.badge[hidden],.typing[hidden]{display:none}" +
    ".head{background:#3b5bdb;color:#fff;padding:14px 16px;display:flex;align-items:center;gap:10px}" +
    ".avatar{width:36px;height:36px;border-radius:50%;background:rgba(255,255,255,.2);display:grid;place-items:center;font-weight:700}" +
    ".title{flex:1;min-width:0}.name{font-weight:700;font-size:15px}.status{font-size:12px;opacity:.85}" +
    ".close{background:none;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1;padding:4px 8px;border-radius:6px}" +
    ".log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}" +
    ".msg{max-width:82%;padding:9px 12px;border-radius:14px;font-size:14px;line-height:1.45;white-space:pre-wrap;word-wrap:break-word}" +
    ".msg.customer{align-self:flex-end;background:#3b5bdb;color:#fff;border-bottom-right-radius:4px}" +
    ".msg.bot,.msg.agent{align-self:flex-start;background:#fff;border:1px solid #e4e7ec;border-bottom-left-radius:4px}" +
    ".msg.agent{border-color:#c5d0fa}.msg.draft{opacity:.85}" +
    ".msg.system{align-self:center;background:none;color:#667085;font-size:12px;text-align:center;padding:2px 8px}" +
    ".who{font-size:11px;font-weight:600;color:#3b5bdb;margin-bottom:2px}" +
    ".typing{align-self:flex-start;background:#fff;border:1px solid #e4e7ec;border-radius:14px;padding:10px 14px}" +
    ".typing i{display:inline-block;width:6px;height:6px;margin:0 2px;border-radius:50%;background:#98a2b3;animation:b 1.2s infinite}" +
    ".typing i:nth-child(2){animation-delay:.2s}.typing i:nth-child(3){animation-delay:.4s}" +
    "@keyframes b{0%,60%,100%{opacity:.3;transform:translateY(0)}30%{opacity:1;transform:translateY(-3px)}}" +
    ".form{display:flex;gap:8px;padding:10px;border-top:1px solid #e4e7ec;background:#fff}" +
    ".input{flex:1;border:1px solid #d0d5dd;border-radius:10px;padding:9px 11px;font-size:14px;resize:none;height:40px;max-height:120px;color:#1c2330}" +
    ".input:focus{outline:2px solid #c5d0fa;border-color:#3b5bdb}" +
    ".send{border:0;background:#3b5bdb;color:#fff;border-radius:10px;padding:0 14px;font-weight:600;cursor:pointer;font-size:14px}" +
    ".send:disabled{opacity:.5}" +
    ".attach{border:0;background:none;color:#667085;cursor:pointer;padding:0 4px;border-radius:8px}.attach[hidden]{display:none}.attach svg{width:20px;height:20px}" +
    ".file{color:inherit;text-decoration:underline}.file img{display:block;max-width:100%;max-height:240px;border-radius:8px}" +
    ".note{font-size:11px;color:#98a2b3;text-align:center;padding:4px 0 8px;background:#fff}" +
    ".scores{display:flex;gap:6px;justify-content:center;margin-top:6px}" +
    ".score{border:1px solid #d0d5dd;background:#fff;border-radius:16px;padding:5px 10px;cursor:pointer;font-size:13px;color:#1c2330}" +
    ".score[aria-pressed=true]{background:#3b5bdb;border-color:#3b5bdb;color:#fff}.score:disabled{cursor:default}" +
    ".comment{display:flex;gap:6px;margin-top:6px}.comment[hidden]{display:none}.rated{margin-top:4px;font-style:italic}" +
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100%;max-height:none;border-radius:0}.launcher{right:14px;bottom:14px}}";

  var host = document.createElement("div");
  host.setAttribute("data-baton-widget", "");
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" + css + "</style>" +
    '<button class="launcher" part="launcher" aria-label="Open chat" aria-expanded="false">' +
    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"/></svg>' +
    '<span class="badge" hidden>0</span></button>' +
    '<section class="panel" role="dialog" aria-label="Chat" hidden>' +
    '<div class="head"><div class="avatar" aria-hidden="true">?</div><div class="title"><div class="name"></div><div class="status" aria-live="polite">Online</div></div>' +
    '<button class="close" aria-label="Close chat">×</button></div>' +
    '<div class="log" role="log" aria-live="polite"></div>' +
    '<form class="form"><button class="attach" type="button" aria-label="Send a picture or PDF" hidden>' +
    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true"><path d="M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7"/></svg></button>' +
    '<input class="picker" type="file" accept="image/jpeg,image/png,application/pdf" hidden><textarea class="input" rows="1" aria-label="Message" placeholder="Write a message…" maxlength="4096"></textarea>' +
    '<button class="send" type="submit">Send</button></form>' +
    '<div class="note">Powered by Baton</div></section>';
  document.body.appendChild(host);

  function q(selector) { return root.querySelector(selector); }
  var launcher = q(".launcher"), panel = q(".panel"), log = q(".log"), badge = q(".badge");
  var input = q(".input"), sendButton = q(".send"), status = q(".status"), attach = q(".attach"), picker = q(".picker");
  var typing = document.createElement("div");
  typing.className = "typing";
  typing.hidden = true;
  typing.setAttribute("aria-label", "typing");
  typing.innerHTML = "<i></i><i></i><i></i>";

  var token = null, lastSeq = 0, seen = {}, unread = 0, socket = null, delay = 500, blobs = [], unsentFile = null;
  var typingTimer = null, handoff = null, greeting = null, draft = null, unsent = null, team = null, replied = 0;
  // The rating questions on screen, by message id: their element, answer and whether open.
  var cards = {};
  var scores = [["great", "😀 Great"], ["okay", "😐 Okay"], ["poor", "🙁 Poor"]];

  function clientId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function setStatus() {
    var now = team && Date.now() + team.skew, away = team && team.away_from <= now && now < team.back_at;
    if (team) {
      // The line changes by itself when the team leaves or comes back.
      clearTimeout(team.timer);
      var next = away ? team.back_at : team.away_from;
      if (next > now) team.timer = setTimeout(setStatus, Math.min(next - now + 1000, 2147483647));
    }
    // A person can look at a picture; the bot cannot.
    attach.hidden = !handoff;
    if (handoff && handoff.status === "pending" && away) {
      var when = { weekday: "short", hour: "numeric", minute: "2-digit" };
      if (team.back_at - now > 5 * 864e5) { when.day = "numeric"; when.month = "short"; }
      status.textContent = "The team is away · back " + new Date(team.back_at).toLocaleString([], when);
    } else if (handoff && handoff.status === "pending") status.textContent = "Connecting you to the team…";
    else if (handoff && handoff.status === "in_progress") status.textContent = (handoff.agent_name || "Someone from the team") + " is here";
    else status.textContent = "Online · replies instantly";
  }

  // The dots; `who` is a person from the team, named in the header while they type.
  function showTyping(on, who) {
    clearTimeout(typingTimer);
    typing.hidden = !on;
    setStatus();
    if (on && who) status.textContent = who + " is typing…";
    if (on) {
      log.appendChild(typing);
      typingTimer = setTimeout(function () { showTyping(false); }, 10000);
    }
    log.scrollTop = log.scrollHeight;
  }

  function bubble(m) {
    if (m.kind === "rating_request" && m.id) return ratingCard(m);
    var el = document.createElement("div");
    el.className = "msg " + m.author;
    if (m.author === "agent") {
      var who = document.createElement("div");
      who.className = "who";
      who.textContent = m.author_name;
      el.appendChild(who);
    }
    if (m.attachment) showFile(el, m.attachment);
    else el.appendChild(document.createTextNode(m.text));
    return el;
  }

  /* A file in the chat, fetched with the visitor's token: a picture is shown, a PDF linked. */
  function showFile(el, file) {
    var link = document.createElement("a");
    link.className = "file";
    link.textContent = file.filename + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)";
    el.appendChild(link);
    var asked = token;
    fetch(base + file.url, { headers: { Authorization: "Bearer " + token } })
      .then(function (r) { if (!r.ok) throw new Error(); return r.blob(); })
      .then(function (blob) {
        // The chat started afresh meanwhile: the link is gone.
        if (asked !== token) return;
        link.href = URL.createObjectURL(blob);
        blobs.push(link.href);
        link.target = "_blank";
        link.download = file.filename;
        if (file.kind !== "image") return;
        var img = document.createElement("img");
        img.src = link.href;
        img.alt = file.filename;
        link.replaceChildren(img);
        img.onload = function () { log.scrollTop = log.scrollHeight; };
      })
      .catch(function () { link.textContent += " · could not be loaded"; });
  }

  /* A question about the help the visitor got: a button per score, then a comment box. */
  function ratingCard(m) {
    var el = document.createElement("div");
    el.className = "msg system rating";
    el.appendChild(document.createTextNode(m.text));
    var row = document.createElement("div");
    row.className = "scores";
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", "Your rating");
    scores.forEach(function (score) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "score";
      button.dataset.score = score[0];
      button.textContent = score[1];
      button.addEventListener("click", function () { rate(m.id, score[0]); });
      row.appendChild(button);
    });
    var comment = document.createElement("form");
    comment.className = "comment";
    comment.innerHTML = '<textarea class="input" rows="1" maxlength="1000" aria-label="Comment" placeholder="Anything to add? (optional)"></textarea>' +
      '<button class="send" type="submit">Send</button>';
    comment.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = comment.querySelector("textarea").value.trim();
      if (text && cards[m.id].score) rate(m.id, cards[m.id].score, text);
    });
    var line = document.createElement("div");
    line.className = "rated";
    el.appendChild(row);
    el.appendChild(comment);
    el.appendChild(line);
    cards[m.id] = { el: el, score: null, open: !(m.rating && m.rating.open === false) };
    showRating(m.id, m.rating || {});
    return el;
  }

  function showRating(id, rating) {
    var card = cards[id];
    if (!card) return;
    card.rating = rating;
    card.score = rating.score || null;
    Array.prototype.forEach.call(card.el.querySelectorAll(".score"), function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.score === card.score));
      button.disabled = !card.open;
    });
    card.el.querySelector(".comment").hidden = !card.open || !card.score || !!rating.comment;
    card.el.querySelector(".rated").textContent = rating.comment ? "“" + rating.comment + "”" : "";
  }

  function rate(id, score, comment) {
    request("POST", "/widget/v1/ratings", { message_id: id, score: score, comment: comment })
      .then(function (rating) { showRating(id, rating); })
      .catch(function (error) {
        var card = cards[id];
        if (!card) return;
        // Closed (a week on) or gone: the buttons go. The answer kept stays; the reason shows.
        if (error.status === 409 || error.status === 404) card.open = false;
        showRating(id, card.rating);
        card.el.querySelector(".rated").textContent = error.message;
      });
  }

  function dropDraft() {
    if (draft) log.removeChild(draft.el);
    draft = null;
  }

  /* An answer being written: shown while the bot holds the conversation, replaced by its
     message, taken away when its text is empty. */
  function showDraft(d) {
    if (handoff || !d.text) return dropDraft();
    if (!draft || draft.id !== d.id) {
      dropDraft();
      draft = { id: d.id, el: bubble({ author: "bot", text: "" }) };
      draft.el.className += " draft";
      draft.el.setAttribute("aria-busy", "true");
      log.insertBefore(draft.el, typing.parentNode ? typing : null);
    }
    draft.el.textContent = d.text;
    showTyping(false);
  }

  function add(m) {
    if (m.id && seen[m.id]) return;
    if (m.id) seen[m.id] = true;
    if (m.seq) lastSeq = Math.max(lastSeq, m.seq);
    if (m.author !== "customer") dropDraft();
    if (m.author === "agent") replied = Date.now();
    log.insertBefore(bubble(m), typing.parentNode ? typing : null);
    if (m.author !== "customer") {
      showTyping(false);
      if (panel.hidden && m.author !== "system") {
        unread += 1;
        badge.textContent = unread;
        badge.hidden = false;
        launcher.setAttribute("aria-label", "Open chat, " + unread + " unread");
      }
    }
    log.scrollTop = log.scrollHeight;
  }

  function request(method, path, body) {
    var form = body instanceof FormData, headers = form ? {} : { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(base + path, { method: method, headers: headers, body: body && !form ? JSON.stringify(body) : body })
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) {
            var error = new Error(data && data.error ? data.error.message : "HTTP " + r.status);
            error.status = r.status;
            throw error;
          }
          return data;
        });
      });
  }

  function connect() {
    var url = base.replace(/^http/, "ws") + "/widget/v1/stream?token=" + encodeURIComponent(token) + "&after=" + lastSeq;
    socket = new WebSocket(url);
    socket.onopen = function () { delay = 500; };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "message.created") add(data.message);
      else if (data.type === "message.draft") showDraft(data);
      // Only while a person holds the chat, and not just after their reply overtook it.
      else if (data.type === "typing" && handoff && handoff.status === "in_progress" && Date.now() - replied > 1500) showTyping(true, data.author_name);
      else if (data.type === "conversation.erased") restart();
      else if (data.type === "rating.updated") {
        lastSeq = Math.max(lastSeq, data.seq);
        showRating(data.message_id, data);
      }
      else if (data.type === "handoff.updated") {
        lastSeq = Math.max(lastSeq, data.seq);
        handoff = data.status === "resolved" ? null : { status: data.status, agent_name: data.agent_name };
        if (data.status !== "resolved") { showTyping(false); dropDraft(); }
        setStatus();
      }
    };
    socket.onclose = function () {
      socket = null;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }

  /* The business erased this chat (the customer asked to be forgotten): the window empties
     and starts again as a new visitor. */
  function restart() {
    if (!token) return;
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
    // Other tabs hear it too: the first to start the new chat saves its token, and the
    // others, starting a moment later, join that chat instead of each making one.
    try { if (localStorage.getItem(storageKey) === token) localStorage.removeItem(storageKey); } catch (e) {}
    token = null; lastSeq = 0; seen = {}; handoff = null; unsent = null; unsentFile = null; cards = {};
    blobs.forEach(URL.revokeObjectURL);
    blobs = [];
    dropDraft();
    showTyping(false);
    while (log.firstChild) log.removeChild(log.firstChild);
    setTimeout(start, Math.random() * 400);
  }

  function start() {
    var saved = null;
    try { saved = localStorage.getItem(storageKey); } catch (e) {}
    return request("POST", "/widget/v1/sessions", { widget_key: key, visitor_token: saved })
      .then(function (session) {
        token = session.visitor_token;
        try { localStorage.setItem(storageKey, token); } catch (e) {}
        q(".name").textContent = session.bot.name;
        q(".avatar").textContent = (session.bot.name || "?").charAt(0).toUpperCase();
        greeting = session.bot.greeting;
        handoff = session.handoff;
        team = session.team;
        if (team) team.skew = team.now - Date.now();
        setStatus();
        if (greeting) add({ author: "bot", text: greeting });
        return request("GET", "/widget/v1/messages?after=0");
      })
      .then(function (messages) {
        messages.forEach(add);
        unread = 0;
        badge.hidden = true;
        connect();
      })
      .catch(function () {
        status.textContent = "Chat unavailable, retrying…";
        setTimeout(start, 5000);
      });
  }

  function open(show) {
    panel.hidden = !show;
    launcher.setAttribute("aria-expanded", String(show));
    if (show) {
      unread = 0;
      badge.hidden = true;
      launcher.setAttribute("aria-label", "Close chat");
      log.scrollTop = log.scrollHeight;
      input.focus();
    } else {
      launcher.setAttribute("aria-label", "Open chat");
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () { open(panel.hidden); });
  q(".close").addEventListener("click", function () { open(false); });
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") open(false); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      q(".form").requestSubmit();
    }
  });
  // While a handoff is open and the box has text, the team sees "typing" (every 3 s at most).
  var typingSent = 0;
  input.addEventListener("input", function () {
    if (!handoff || !token || !input.value.trim() || Date.now() - typingSent < 3000) return;
    typingSent = Date.now();
    request("POST", "/widget/v1/typing").catch(function () {});
  });
  attach.addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () {
    var file = picker.files[0];
    picker.value = "";
    if (!file || !token) return;
    if (file.size > 5e6) return add({ author: "system", text: "Not sent: " + file.name + " is larger than 5 MB" });
    // The same file picked again after a failure keeps its id, so it is stored once.
    var fileKey = [file.name, file.size, file.lastModified].join("/");
    if (!unsentFile || unsentFile.key !== fileKey) unsentFile = { key: fileKey, id: clientId() };
    var body = new FormData();
    body.append("file", file);
    attach.disabled = true;
    // In the query, so a retry is known before the file is read, whatever happened since.
    request("POST", "/widget/v1/attachments?client_id=" + unsentFile.id, body)
      .then(function (m) { unsentFile = null; add(m); })
      .catch(function (error) {
        if (error.status === 404) return restart();
        add({ author: "system", text: "Not sent: " + error.message });
      })
      .finally(function () { attach.disabled = false; });
  });
  q(".form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || !token) return;
    sendButton.disabled = true;
    // A message keeps its id until it is stored, so sending it again after a failure that
    // hid a success stores it once.
    if (!unsent || unsent.text !== text) unsent = { text: text, id: clientId() };
    request("POST", "/widget/v1/messages", { text: text, client_id: unsent.id })
      .then(function (m) {
        unsent = null;
        input.value = "";
        add(m);
        if (!handoff) showTyping(true);
      })
      .catch(function (error) {
        // The chat was erased while this window missed the news: start afresh.
        if (error.status === 404) return restart();
        add({ author: "system", text: "Not sent: " + error.message });
      })
      .finally(function () { sendButton.disabled = false; input.focus(); });
  });

  start();
})();
