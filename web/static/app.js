// artdag L1 web UI: the live HLS player with run status, and DAG interactions
// (the forms' upload, editor and error swaps are in forms.js).
// Plain browser JS, no build step; components start on htmx:load so pages
// swapped in by hx-boost get them too.
(function () {
  "use strict";

  var TERMINAL = { completed: true, failed: true, cancelled: true };

  function field(root, name) { return root.querySelector('[data-field="' + name + '"]'); }

  function shortId(text, keep) {
    return text.length <= keep + 2 ? text : text.slice(0, keep) + "\u2026";
  }

  // --- run status (SSE with a polling fallback) -----------------------------------------

  function RunStatus(page, runId, onTerminal) {
    this.page = page;
    this.runId = runId;
    this.onTerminal = onTerminal;
    this.source = null;
    this.timer = null;
    this.closed = false;
  }

  // Every event also goes to the page's other parts (the plan DAG: static/plan_live.js)
  // as an "artdag:run-event" with detail {runId, kind, data}.
  RunStatus.prototype.apply = function (ev, kind) {
    document.dispatchEvent(new CustomEvent("artdag:run-event", {
      detail: { runId: this.runId, kind: kind || ev.type || "status", data: ev },
    }));
    var card = document.getElementById("run-status");
    if (!card) return;
    if (typeof ev.progress === "number") {
      var pct = Math.round(ev.progress * 1000) / 10;
      var bar = field(card, "progress-bar");
      if (bar) bar.style.width = pct + "%";
      var txt = field(card, "progress");
      if (txt) txt.textContent = pct + " %";
    }
    if (typeof ev.segment_count === "number") {
      var seg = field(card, "segments");
      if (seg) seg.textContent = String(ev.segment_count);
    }
    if (ev.playlist_cid) {
      var cid = field(card, "playlist-cid");
      if (cid && cid.getAttribute("data-cid") !== ev.playlist_cid) {
        cid.setAttribute("data-cid", ev.playlist_cid);
        cid.innerHTML = "";
        var a = document.createElement("a");
        a.className = "mono link cid-flash";
        a.href = "/ipfs/" + ev.playlist_cid;
        a.title = ev.playlist_cid;
        a.setAttribute("hx-boost", "false");
        a.textContent = shortId(ev.playlist_cid, 16);
        cid.appendChild(a);
      }
      var link = field(card, "ipfs-link");
      if (link) link.classList.remove("hidden");
    }
    if (ev.output_cid) {
      var out = field(card, "output-cid");
      if (out) out.textContent = shortId(ev.output_cid, 16);
    }
    if (ev.status) {
      var badge = field(card, "status");
      if (badge) { badge.textContent = ev.status; badge.className = "badge badge-" + ev.status; }
      this.page.setAttribute("data-status", ev.status);
      if (ev.error) {
        var err = field(card, "error");
        if (err) { err.textContent = ev.error; err.classList.remove("hidden"); }
      }
      if (TERMINAL[ev.status]) this.finish(ev.status);
    }
  };

  RunStatus.prototype.finish = function (status) {
    if (this.closed) return;
    this.closed = true;
    this.stop();
    // the final row (CIDs, timestamps) from the server
    if (window.htmx) window.htmx.trigger(document.body, "poll-status");
    if (this.onTerminal) this.onTerminal(status);
  };

  RunStatus.prototype.start = function () {
    var self = this;
    if (window.EventSource) {
      var es = new EventSource("/runs/" + encodeURIComponent(this.runId) + "/events");
      this.source = es;
      ["status", "playlist", "progress", "step"].forEach(function (kind) {
        es.addEventListener(kind, function (msg) {
          try { self.apply(JSON.parse(msg.data), kind); } catch (e) { /* ignore a malformed event */ }
        });
      });
      es.onerror = function () {
        if (self.closed) return;
        es.close();
        self.source = null;
        self.poll();
      };
    } else {
      this.poll();
    }
  };

  RunStatus.prototype.poll = function () {
    var self = this;
    if (this.timer || this.closed) return;
    this.timer = setInterval(function () {
      fetch("/api/run/" + encodeURIComponent(self.runId), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (run) { if (run) self.apply(run, "status"); })
        .catch(function () {});
    }, 1500);
  };

  RunStatus.prototype.stop = function () {
    if (this.source) { this.source.close(); this.source = null; }
    if (this.timer) { clearInterval(this.timer); this.timer = null; }
  };

  // --- the live player ----------------------------------------------------------------------

  function Player(video) {
    this.video = video;
    this.src = video.getAttribute("data-src");
    // an ABR ladder run also writes a multivariant playlist beside the top rung's
    this.master = video.getAttribute("data-master");
    this.hls = null;
    this.waitTimer = null;
    this.ended = false;
    this.state = document.querySelector('[data-field="player-state"]');
    this.latencyField = document.querySelector('[data-field="latency"]');
    this.renditionField = document.querySelector('[data-field="rendition"]');
    this.picker = document.querySelector('[data-field="rendition-picker"]');
    this.pickerLabel = document.querySelector('[data-field="rendition-label"]');
    this.latencyTimer = null;
  }

  function levelName(level) {
    var size = level.height ? level.height + "p" : (level.width ? level.width + "w" : "");
    var rate = level.bitrate ? (level.bitrate / 1e6).toFixed(level.bitrate < 1e6 ? 2 : 1) + " Mb/s" : "";
    return [size, rate].filter(Boolean).join(" · ") || "single";
  }

  // The rendition picker lists the multivariant playlist's variants (hidden for one rendition);
  // "auto" hands the choice back to hls.js's bandwidth estimator.
  Player.prototype.fillPicker = function (hls) {
    var picker = this.picker;
    if (!picker) return;
    while (picker.options.length > 1) picker.remove(1);
    hls.levels.forEach(function (level, i) {
      var opt = document.createElement("option");
      opt.value = String(i);
      opt.textContent = levelName(level);
      picker.appendChild(opt);
    });
    picker.value = "-1";
    if (this.pickerLabel) this.pickerLabel.classList.toggle("hidden", hls.levels.length < 2);
    picker.onchange = function () {
      // currentLevel switches now (flushing the buffer); -1 re-enables automatic switching
      hls.currentLevel = parseInt(picker.value, 10);
    };
  };

  Player.prototype.showLevel = function (hls, index) {
    var level = hls.levels[index];
    if (!level) return;
    var auto = hls.autoLevelEnabled ? " (auto)" : "";
    this.video.setAttribute("data-level", String(index));
    this.video.setAttribute("data-level-height", String(level.height || 0));
    if (this.renditionField) this.renditionField.textContent = "rendition " + levelName(level) + auto;
  };

  // Live latency: how far the frame shown is behind the wall clock, from the playlist's
  // EXT-X-PROGRAM-DATE-TIME (a paced run stamps real time); hls.js's distance to the live edge
  // when that reads nonsense (a run rendered faster than real time runs ahead of the clock).
  Player.prototype.showLatency = function () {
    var hls = this.hls;
    if (!hls || !this.latencyField) return;
    if (this.ended) { this.latencyField.textContent = ""; this.video.removeAttribute("data-latency"); return; }
    var shown = hls.playingDate;
    var glass = shown ? (Date.now() - shown.getTime()) / 1000 : NaN;
    var text;
    var value;
    if (glass >= 0 && glass < 600) {
      value = glass;
      text = "latency " + glass.toFixed(1) + " s";
    } else if (isFinite(hls.latency) && hls.latency > 0) {
      value = hls.latency;
      text = hls.latency.toFixed(1) + " s behind the live edge";
    } else {
      return;
    }
    this.video.setAttribute("data-latency", value.toFixed(2));
    this.latencyField.textContent = text;
  };

  Player.prototype.say = function (text) {
    if (this.state) this.state.textContent = text;
    this.video.setAttribute("data-player-state", text);
  };

  // The playlist 404s until the first segment exists: wait for it, then attach.
  Player.prototype.start = function () {
    var self = this;
    var tries = 0;
    function attempt() {
      fetch(self.src, { cache: "no-store" }).then(function (r) {
        if (r.ok) {
          // Low-Latency HLS (HLS_PART_SECONDS): hls.js must keep to the playlist's PART-HOLD-BACK
          return r.text().then(function (text) {
            self.lowLatency = text.indexOf("CAN-BLOCK-RELOAD=YES") >= 0;
            self.pickSource();
          });
        }
        tries += 1;
        var page = document.querySelector("[data-run-page]");
        var status = page ? page.getAttribute("data-status") : "";
        if (TERMINAL[status] && tries > 3) { self.say("no playable output (" + status + ")"); return; }
        self.waitTimer = setTimeout(attempt, 700);
      }).catch(function () { self.waitTimer = setTimeout(attempt, 1500); });
    }
    attempt();
  };

  // The multivariant playlist when the run has a ladder (it is written with the first
  // segment of every rung), else the single media playlist.
  Player.prototype.pickSource = function () {
    var self = this;
    if (!this.master) { this.attach(); return; }
    fetch(this.master, { cache: "no-store" }).then(function (r) {
      if (r.ok) { self.src = self.master; self.video.setAttribute("data-ladder", "1"); }
      self.attach();
    }).catch(function () { self.attach(); });
  };

  Player.prototype.attach = function () {
    var self = this;
    var video = this.video;
    if (window.Hls && window.Hls.isSupported()) {
      // join one segment behind the live edge (hls.js's default, 3, shows a run ~9 s late:
      // bench/latency.py) and catch up at up to 1.5x when playback falls behind
      // lowLatencyMode: a Low-Latency HLS playlist is played from its parts with blocking
      // reloads, PART-HOLD-BACK behind the edge (liveSyncDurationCount would override that)
      var config = {
        liveDurationInfinity: true, lowLatencyMode: true, backBufferLength: 60,
        maxLiveSyncPlaybackRate: 1.5
      };
      if (!this.lowLatency) config.liveSyncDurationCount = 1;
      video.setAttribute("data-low-latency", this.lowLatency ? "1" : "0");
      var hls = new window.Hls(config);
      this.hls = hls;
      hls.on(window.Hls.Events.LEVEL_UPDATED, function (_e, data) {
        var d = data.details;
        video.setAttribute("data-fragments", String(d.fragments.length));
        if (!d.live && !self.ended) {
          self.ended = true;  // ENDLIST: hls.js stops reloading the playlist by itself
          video.setAttribute("data-endlist", "1");
          self.say("complete: " + d.fragments.length + " segments, " + d.totalduration.toFixed(1) + " s");
        } else if (d.live) {
          self.say("live: " + d.fragments.length + " segments");
        }
      });
      hls.on(window.Hls.Events.ERROR, function (_e, data) {
        if (!data.fatal) return;
        if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) { hls.startLoad(); }
        else if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) { hls.recoverMediaError(); }
        else { self.say("playback error: " + data.details); self.destroy(); }
      });
      hls.loadSource(this.src);
      hls.attachMedia(video);
      hls.on(window.Hls.Events.LEVEL_SWITCHED, function (_e, data) { self.showLevel(hls, data.level); });
      this.latencyTimer = setInterval(function () { self.showLatency(); }, 1000);
      hls.on(window.Hls.Events.MANIFEST_PARSED, function () {
        self.fillPicker(hls);
        var p = video.play();
        if (p && p.catch) p.catch(function () { self.say("press play to start"); });
      });
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = this.src;  // Safari plays HLS natively
      video.play();
    } else {
      this.say("this browser cannot play HLS");
    }
    video.addEventListener("ended", function () { self.say("ended"); });
  };

  Player.prototype.destroy = function () {
    if (this.waitTimer) clearTimeout(this.waitTimer);
    if (this.latencyTimer) { clearInterval(this.latencyTimer); this.latencyTimer = null; }
    if (this.hls) { this.hls.destroy(); this.hls = null; }
  };

  // --- DAG interactions ---------------------------------------------------------------------

  function initDag(fig) {
    var svg = fig.querySelector("svg");
    var panel = fig.querySelector("[data-dag-details]");
    function trace(id, on) {
      svg.querySelectorAll(".dag-edge").forEach(function (e) {
        if (e.getAttribute("data-from") === id || e.getAttribute("data-to") === id) e.classList.toggle("dag-edge-hot", on);
      });
    }
    svg.querySelectorAll(".dag-node").forEach(function (node) {
      var id = node.getAttribute("data-node");
      node.addEventListener("mouseenter", function () { trace(id, true); });
      node.addEventListener("mouseleave", function () { trace(id, false); });
      function show() {
        svg.querySelectorAll(".dag-selected").forEach(function (n) { n.classList.remove("dag-selected"); });
        node.classList.add("dag-selected");
        var details = {};
        try { details = JSON.parse(node.getAttribute("data-details")); } catch (e) { details = { id: id }; }
        panel.textContent = JSON.stringify(details, null, 2);
        panel.classList.remove("hidden");
      }
      node.addEventListener("click", show);
      node.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); show(); } });
    });
  }

  // htmx forms: show the API's JSON error in the form's target (htmx does not swap 4xx/5xx),
  // and announce success (data-on-success) so other parts of the page can refresh.
  document.addEventListener("htmx:responseError", function (ev) {
    var target = ev.detail.target;
    if (!target || !ev.detail.elt || ev.detail.elt.tagName !== "FORM") return;
    if (target === document.body) return;  // a boosted page form: forms.js says it
    var text = "HTTP " + ev.detail.xhr.status;
    try {
      var doc = JSON.parse(ev.detail.xhr.responseText);
      text = (doc.detail || doc.title || text) + (doc.field ? " [" + doc.field + "]" : "");
    } catch (e) { /* not JSON: keep the status */ }
    target.textContent = text;
    target.classList.add("text-rose-600");
  });
  document.addEventListener("htmx:afterRequest", function (ev) {
    var elt = ev.detail.elt;
    if (!ev.detail.successful || !elt || !elt.getAttribute) return;
    var name = elt.getAttribute("data-on-success");
    if (name && window.htmx) {
      if (ev.detail.target) ev.detail.target.classList.remove("text-rose-600");
      window.htmx.trigger(document.body, name);
    }
  });

  // --- wiring ---------------------------------------------------------------------------------

  var live = [];  // players and status streams of the current page

  function cleanup() {
    live.forEach(function (c) { (c.destroy || c.stop).call(c); });
    live = [];
  }

  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("video[data-hls-player]").forEach(function (video) {
      if (video.__artdag) return;
      var player = new Player(video);
      video.__artdag = player;
      live.push(player);
      player.start();
      var page = document.querySelector("[data-run-page]");
      if (page && !TERMINAL[page.getAttribute("data-status")]) {
        var status = new RunStatus(page, video.getAttribute("data-run"), null);
        live.push(status);
        status.start();
      }
    });
    (root.querySelectorAll ? root : document).querySelectorAll("[data-dag]").forEach(function (fig) {
      if (fig.__artdag) return;
      fig.__artdag = true;
      initDag(fig);
    });
  }

  document.addEventListener("htmx:beforeSwap", function (ev) {
    // a boosted navigation replaces the page: stop its player and event stream
    if (ev.detail && ev.detail.target === document.body) cleanup();
  });
  document.addEventListener("htmx:load", function (ev) { init(ev.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { if (!window.htmx) init(document); });
})();
