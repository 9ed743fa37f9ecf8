// artdag L1 web UI: the analysis tab's charts on <canvas>, with a playhead that follows
// the run page's player; clicking a chart (or the arrow keys on it) seeks the player.
// The data is the JSON web/analysis_view.py puts in the tab (script[data-analysis-data]).
// Plain browser JS, no build step; charts start on htmx:load like the rest of the UI.
(function () {
  "use strict";

  var COLOR = {
    lane: "#f8fafc", grid: "#e2e8f0", text: "#64748b",
    wave: "#64748b", beat: "rgba(99, 102, 241, 0.35)", downbeat: "rgba(192, 38, 211, 0.55)",
    downbeatMark: "#c026d3", onset: "#334155",
    energy: "#f59e0b", bass: "#e11d48", mid: "#10b981", high: "#0ea5e9",
    motion: "#7c3aed", cut: "#dc2626", playhead: "#0f172a",
  };
  var LABEL = {
    wave: "waveform", energyWave: "energy (no audio file)", beat: "beats", downbeat: "downbeats",
    onset: "onsets", energy: "energy", bass: "bass", mid: "mid", high: "high",
    motion: "motion", cut: "cuts", playhead: "player",
  };
  var BANDS = ["energy", "bass", "mid", "high"];
  var LANE = { wave: 72, curves: 84, video: 60, axis: 22, gap: 6 };
  var PAD = 6;

  function player() { return document.querySelector("video[data-hls-player]"); }

  // a tick step of 1, 2 or 5 times a power of ten giving about `count` ticks over `span`
  function tickStep(span, count) {
    var raw = span / Math.max(1, count);
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * mag >= raw) return steps[i] * mag;
    return 10 * mag;
  }

  function fmtTime(t, step) {
    if (t >= 60) {
      var m = Math.floor(t / 60), s = t - 60 * m;
      return m + ":" + (s < 10 ? "0" : "") + s.toFixed(step < 1 ? 1 : 0);
    }
    return t.toFixed(step < 1 ? 1 : 0) + " s";
  }

  // --- one chart ------------------------------------------------------------------------------

  function Chart(box, data) {
    this.box = box;
    this.data = data;
    this.canvas = box.querySelector(".analysis-canvas");
    this.overlay = box.querySelector(".analysis-playhead");
    this.legend = box.parentElement.querySelector("[data-chart-legend]");
    this.wave = null;  // {peaks, duration} of the input file, once fetched
    this.video = null;
    this.frame = 0;
    this.dur = Math.max(data.duration || 0, 0.001);
    this.hasAudio = data.beats.length > 0 || data.onsets.length > 0 ||
      Object.keys(data.curves).length > 0 || !!data.waveform;
    this.lanes = [];
    var y = 0;
    if (this.hasAudio) {
      this.lanes.push({ kind: "wave", top: y, height: LANE.wave }); y += LANE.wave + LANE.gap;
      if (Object.keys(data.curves).length) {
        this.lanes.push({ kind: "curves", top: y, height: LANE.curves }); y += LANE.curves + LANE.gap;
      }
    }
    if (data.video) { this.lanes.push({ kind: "video", top: y, height: LANE.video }); y += LANE.video + LANE.gap; }
    this.axisTop = y;
    this.height = y + LANE.axis;
    this.handlers = [];
    box.classList.remove("hidden");
    if (this.legend) this.legend.classList.remove("hidden");
    this.bind();
    this.draw();
    this.loadWaveform();
  }

  Chart.prototype.x = function (t) { return PAD + (t / this.dur) * (this.width - 2 * PAD); };
  Chart.prototype.time = function (x) {
    return Math.min(this.dur, Math.max(0, ((x - PAD) / (this.width - 2 * PAD)) * this.dur));
  };

  Chart.prototype.loadWaveform = function () {
    var self = this, w = this.data.waveform;
    if (!w) return;
    fetch(w.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (doc) {
        if (!doc || !doc.peaks || !doc.peaks.length || !(doc.duration > 0)) return;
        self.wave = { peaks: doc.peaks, duration: doc.duration, offset: w.offset || 0 };
        self.draw();
      })
      .catch(function () { /* the energy envelope stays */ });
  };

  Chart.prototype.size = function () {
    var dpr = window.devicePixelRatio || 1;
    this.width = Math.max(200, this.box.clientWidth);
    [this.canvas, this.overlay].forEach(function (c) {
      c.style.height = this.height + "px";
      c.width = Math.round(this.width * dpr);
      c.height = Math.round(this.height * dpr);
      c.getContext("2d").setTransform(dpr, 0, 0, dpr, 0, 0);
    }, this);
  };

  Chart.prototype.draw = function () {
    this.size();
    var ctx = this.canvas.getContext("2d");
    ctx.clearRect(0, 0, this.width, this.height);
    var drawn = { beats: 0, downbeats: 0, onsets: 0, cuts: 0 };
    this.lanes.forEach(function (lane) {
      ctx.fillStyle = COLOR.lane;
      ctx.fillRect(0, lane.top, this.width, lane.height);
    }, this);
    if (this.hasAudio) {  // beat lines behind the waveform and the envelopes
      var audio = this.lanes.filter(function (l) { return l.kind !== "video"; });
      var top = audio[0].top, bottom = audio[audio.length - 1].top + audio[audio.length - 1].height;
      drawn.beats = this.markers(ctx, this.data.beats, top, bottom, COLOR.beat, 1);
      drawn.downbeats = this.markers(ctx, this.data.downbeats, top, bottom, COLOR.downbeat, 2);
    }
    this.lanes.forEach(function (lane) {
      if (lane.kind === "wave") this.drawWave(ctx, lane, drawn);
      else if (lane.kind === "curves") this.drawCurves(ctx, lane);
      else this.drawVideo(ctx, lane, drawn);
      var name = lane.kind === "wave" ? (this.wave ? "waveform" : "energy")
        : lane.kind === "curves" ? "envelopes" : "video motion";
      ctx.font = "10px ui-sans-serif, system-ui, sans-serif";
      ctx.fillStyle = "rgba(248, 250, 252, 0.85)";
      ctx.fillRect(PAD + 4, lane.top + 2, ctx.measureText(name).width + 6, 13);
      ctx.fillStyle = COLOR.text;
      ctx.fillText(name, PAD + 7, lane.top + 12);
    }, this);
    this.drawAxis(ctx);
    var c = this.canvas;
    Object.keys(drawn).forEach(function (k) { c.setAttribute("data-" + k, String(drawn[k])); });
    c.setAttribute("data-drawn", this.wave ? "waveform" : "envelope");
    this.drawLegend();
    this.drawPlayhead();
  };

  // the waveform (peaks of the input file, or the energy envelope), downbeat and onset marks
  Chart.prototype.drawWave = function (ctx, lane, drawn) {
    var mid = lane.top + lane.height / 2, half = lane.height / 2 - 4;
    var cols = Math.floor(this.width - 2 * PAD);
    var peak = this.peakAt();
    ctx.fillStyle = COLOR.wave;
    for (var i = 0; i < cols; i++) {
      var a = (i / cols) * this.dur, b = ((i + 1) / cols) * this.dur;
      var v = peak(a, b);
      if (v > 0) ctx.fillRect(PAD + i, mid - v * half, 1, Math.max(1, 2 * v * half));
    }
    var top = lane.top;
    ctx.fillStyle = COLOR.downbeatMark;
    this.data.downbeats.forEach(function (t) {
      if (t < 0 || t > this.dur) return;
      var x = this.x(t);
      ctx.beginPath(); ctx.moveTo(x - 4, top); ctx.lineTo(x + 4, top); ctx.lineTo(x, top + 6); ctx.fill();
    }, this);
    ctx.fillStyle = COLOR.onset;
    this.data.onsets.forEach(function (t) {
      if (t < 0 || t > this.dur) return;
      drawn.onsets += 1;
      ctx.fillRect(Math.round(this.x(t)), lane.top + lane.height - 5, 1, 5);
    }, this);
  };

  // max amplitude in [a, b) seconds: of the file's peaks (through the analysis window), else energy
  Chart.prototype.peakAt = function () {
    var w = this.wave;
    if (w) {
      var per = w.peaks.length / w.duration;
      return function (a, b) {
        var i = Math.floor((a + w.offset) * per), j = Math.max(i + 1, Math.ceil((b + w.offset) * per));
        var m = 0;
        for (var k = Math.max(0, i); k < Math.min(j, w.peaks.length); k++) if (w.peaks[k] > m) m = w.peaks[k];
        return m;
      };
    }
    var e = this.data.curves.energy;
    if (!e) return function () { return 0; };
    return function (a, b) {
      var i = Math.floor((a - e.start) / e.step), j = Math.max(i + 1, Math.ceil((b - e.start) / e.step));
      var m = 0;
      for (var k = Math.max(0, i); k < Math.min(j, e.values.length); k++) if (e.values[k] > m) m = e.values[k];
      return m;
    };
  };

  Chart.prototype.markers = function (ctx, times, top, bottom, color, width) {
    var n = 0;
    ctx.fillStyle = color;
    times.forEach(function (t) {
      if (t < 0 || t > this.dur) return;
      n += 1;
      ctx.fillRect(Math.round(this.x(t) - width / 2), top, width, bottom - top);
    }, this);
    return n;
  };

  Chart.prototype.curve = function (ctx, lane, c, color, fill) {
    var h = lane.height - 16, base = lane.top + lane.height - 2;
    ctx.beginPath();
    for (var i = 0; i < c.values.length; i++) {
      var x = this.x(c.start + i * c.step), y = base - Math.min(1, Math.max(0, c.values[i])) * h;
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.25;
    ctx.stroke();
    if (fill && c.values.length) {
      ctx.lineTo(this.x(c.start + (c.values.length - 1) * c.step), base);
      ctx.lineTo(this.x(c.start), base);
      ctx.closePath();
      ctx.globalAlpha = 0.18;
      ctx.fillStyle = color;
      ctx.fill();
      ctx.globalAlpha = 1;
    }
  };

  Chart.prototype.drawCurves = function (ctx, lane) {
    BANDS.forEach(function (name) {
      var c = this.data.curves[name];
      if (c) this.curve(ctx, lane, c, COLOR[name], name === "energy");
    }, this);
  };

  Chart.prototype.drawVideo = function (ctx, lane, drawn) {
    var v = this.data.video;
    if (v.motion) this.curve(ctx, lane, v.motion, COLOR.motion, true);
    ctx.save();
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = COLOR.cut;
    ctx.lineWidth = 1.5;
    v.cuts.forEach(function (t) {
      if (t < 0 || t > this.dur) return;
      drawn.cuts += 1;
      var x = Math.round(this.x(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, lane.top); ctx.lineTo(x, lane.top + lane.height); ctx.stroke();
    }, this);
    ctx.restore();
  };

  Chart.prototype.drawAxis = function (ctx) {
    var step = tickStep(this.dur, Math.max(2, Math.floor(this.width / 90)));
    ctx.fillStyle = COLOR.text;
    ctx.font = "10px ui-sans-serif, system-ui, sans-serif";
    ctx.textAlign = "center";
    for (var t = 0; t <= this.dur + 1e-9; t += step) {
      var x = Math.round(this.x(t));
      ctx.fillRect(x, this.axisTop, 1, 4);
      var label = fmtTime(t, step);
      var tw = ctx.measureText(label).width / 2;
      ctx.fillText(label, Math.min(this.width - tw, Math.max(tw, x)), this.axisTop + 15);
    }
    ctx.textAlign = "start";
  };

  Chart.prototype.drawLegend = function () {
    if (!this.legend) return;
    var d = this.data, items = [];
    if (this.hasAudio) items.push(this.wave ? "wave" : "energyWave");
    if (d.beats.length) items.push("beat");
    if (d.downbeats.length) items.push("downbeat");
    if (d.onsets.length) items.push("onset");
    BANDS.forEach(function (n) { if (d.curves[n]) items.push(n); });
    if (d.video && d.video.motion) items.push("motion");
    if (d.video) items.push("cut");
    if (player()) items.push("playhead");
    var html = items.map(function (k) {
      var color = COLOR[{ energyWave: "wave", downbeat: "downbeatMark" }[k] || k];
      return '<span><i style="background:' + color + '"></i>' + LABEL[k] + "</span>";
    }).join("");
    if (this.legend.innerHTML !== html) this.legend.innerHTML = html;
  };

  // --- the playhead and seeking ----------------------------------------------------------

  Chart.prototype.drawPlayhead = function () {
    var ctx = this.overlay.getContext("2d");
    ctx.clearRect(0, 0, this.width, this.height);
    var video = this.video;
    if (!video) return;
    var t = video.currentTime || 0;
    this.canvas.setAttribute("data-playhead", t.toFixed(3));
    this.canvas.setAttribute("aria-valuenow", t.toFixed(2));
    this.canvas.setAttribute("aria-valuetext", t.toFixed(1) + " s");
    if (t > this.dur) return;
    var x = Math.round(this.x(t)) + 0.5;
    ctx.strokeStyle = COLOR.playhead;
    ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, this.axisTop); ctx.stroke();
    ctx.fillStyle = COLOR.playhead;
    ctx.beginPath(); ctx.moveTo(x - 5, 0); ctx.lineTo(x + 5, 0); ctx.lineTo(x, 6); ctx.fill();
  };

  Chart.prototype.seek = function (t) {
    var video = this.video;
    if (!video) return;
    var end = isFinite(video.duration) && video.duration > 0 ? video.duration - 0.05 : t;
    video.currentTime = Math.max(0, Math.min(t, end));
    this.drawPlayhead();
  };

  Chart.prototype.listen = function (target, name, fn) {
    target.addEventListener(name, fn);
    this.handlers.push([target, name, fn]);
  };

  Chart.prototype.bind = function () {
    var self = this;
    this.video = player();
    var canvas = this.canvas;
    this.listen(canvas, "click", function (ev) {
      var rect = canvas.getBoundingClientRect();
      self.seek(self.time(ev.clientX - rect.left));
    });
    this.listen(canvas, "keydown", function (ev) {
      if (!self.video) return;
      var t = self.video.currentTime || 0, beats = self.data.beats;
      var next = { ArrowRight: t + 1, ArrowLeft: t - 1, Home: 0, End: self.dur }[ev.key];
      if (ev.shiftKey && beats.length && (ev.key === "ArrowRight" || ev.key === "ArrowLeft")) {
        var fwd = ev.key === "ArrowRight";  // shift: to the next / previous beat
        var pick = beats.filter(function (b) { return fwd ? b > t + 0.01 : b < t - 0.01; });
        next = pick.length ? (fwd ? pick[0] : pick[pick.length - 1]) : t;
      }
      if (next === undefined) return;
      ev.preventDefault();
      self.seek(next);
    });
    if (this.video) {
      var tick = function () {
        self.drawPlayhead();
        self.frame = !self.video.paused && !self.video.ended ? window.requestAnimationFrame(tick) : 0;
      };
      var start = function () { if (!self.frame) self.frame = window.requestAnimationFrame(tick); };
      ["play", "playing", "timeupdate", "seeked", "seeking"].forEach(function (n) {
        self.listen(self.video, n, n === "play" || n === "playing" ? start : function () { self.drawPlayhead(); });
      });
      if (!this.video.paused) start();
    }
    var timer = 0;
    this.listen(window, "resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { self.draw(); }, 120);
    });
  };

  Chart.prototype.destroy = function () {
    this.handlers.forEach(function (h) { h[0].removeEventListener(h[1], h[2]); });
    this.handlers = [];
    if (this.frame) window.cancelAnimationFrame(this.frame);
    this.frame = 0;
  };

  // --- wiring -------------------------------------------------------------------------------

  var charts = [];

  function init(root) {
    charts = charts.filter(function (c) {
      if (document.body.contains(c.box)) return true;
      c.destroy();  // its tab was swapped out
      return false;
    });
    var scope = root && root.querySelectorAll ? root : document;
    var holders = scope.matches && scope.matches("[data-analysis]") ? [scope] : scope.querySelectorAll("[data-analysis]");
    Array.prototype.forEach.call(holders, function (holder) {
      if (holder.__artdagCharts) return;
      holder.__artdagCharts = true;
      var script = holder.querySelector("script[data-analysis-data]");
      var all;
      try { all = JSON.parse(script.textContent); } catch (e) { return; }
      holder.querySelectorAll("[data-chart]").forEach(function (box) {
        var data = all[Number(box.getAttribute("data-chart"))];
        if (data) charts.push(new Chart(box, data));
      });
    });
  }

  document.addEventListener("htmx:load", function (ev) { init(ev.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { if (!window.htmx) init(document); });
  window.artdagCharts = function () { return charts; };  // for tests and the console
})();
