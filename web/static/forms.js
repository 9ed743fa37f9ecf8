// artdag L1 web UI: the forms' browser side. Plain JS, no build step; every form also works
// without it (templates/form_macros.html, web/pages/*_forms.py).
//  - htmx swaps a form's answer in when the server says it carries the form's problems
//    (X-Form-Errors on a 4xx), and says other refusals (401, 5xx) above the page.
//  - media upload: drag and drop, the size limit and type checked before sending, a progress
//    bar (XMLHttpRequest upload events) to POST /cache/upload?media_only=true, errors inline.
//  - recipe editor: a line-numbered gutter, checked as you type (debounced POST
//    /recipes/validate, the validator of `artdag recipe check`), the problem's line marked.
(function () {
  "use strict";

  var LINE = 20;  // px, the editor's line height (src/app.css .editor-text)
  var PAD = 8;    // px, its top padding
  var MEDIA_EXT = /\.(mp4|m4v|mov|mkv|webm|avi|ts|mts|mpg|mpeg|ogv|mp3|wav|flac|ogg|oga|opus|m4a|aac|aif|aiff|png|jpe?g|gif|webp|bmp|tiff?)$/i;

  function $(root, sel) { return root.querySelector(sel); }
  function show(el, on) { if (el) el.classList.toggle("hidden", !on); }

  function bytes(n) {
    var units = ["B", "KiB", "MiB", "GiB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + " " + units[i];
  }

  function errorText(xhrOrStatus, body) {
    var text = "HTTP " + xhrOrStatus;
    try {
      var doc = typeof body === "string" ? JSON.parse(body) : body;
      if (doc && (doc.detail || doc.title)) {
        text = doc.detail || doc.title;
        if (doc.hint) text += " (" + doc.hint + ")";
      }
    } catch (e) { /* not JSON: keep the status */ }
    return text;
  }

  // --- htmx: inline problems are swapped in; other refusals are said above the page ----------

  function flash(text) {
    var main = document.getElementById("main");
    if (!main) return;
    var box = document.getElementById("form-flash");
    if (!box) {
      box = document.createElement("p");
      box.id = "form-flash";
      box.className = "form-error card mb-4";
      box.setAttribute("role", "alert");
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = text;
    box.classList.remove("hidden");
  }

  document.addEventListener("htmx:beforeSwap", function (ev) {
    var xhr = ev.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.getResponseHeader("X-Form-Errors")) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });
  document.addEventListener("htmx:responseError", function (ev) {
    if (ev.detail.target !== document.body) return;  // targeted forms say it themselves (app.js)
    flash(errorText(ev.detail.xhr.status, ev.detail.xhr.responseText));
  });
  document.addEventListener("htmx:sendError", function () {
    flash("the server did not answer; try again");
  });

  // --- media upload ------------------------------------------------------------------------

  function Uploader(form) {
    this.form = form;
    this.url = form.getAttribute("data-upload-url");
    this.max = Number(form.getAttribute("data-max-bytes")) || 0;
    this.input = $(form, "[data-upload-input]");
    this.zone = $(form, "[data-dropzone]");
    this.progress = $(form, "[data-upload-progress]");
    this.bar = $(form, "[data-upload-bar]");
    this.pct = $(form, "[data-upload-pct]");
    this.name = $(form, "[data-upload-name]");
    this.error = $(form, "[data-upload-error]");
    this.done = $(form, "[data-upload-done]");
    this.queue = [];
    this.busy = false;
    this.count = 0;
    this.total = 0;
    this.input.multiple = true;  // several at a time here; the no-JS form sends one
    this.input.required = false;
    this.wire();
  }

  Uploader.prototype.wire = function () {
    var self = this;
    function over(ev) { ev.preventDefault(); self.zone.classList.add("dropzone-active"); }
    function leave() { self.zone.classList.remove("dropzone-active"); }
    this.zone.addEventListener("dragenter", over);
    this.zone.addEventListener("dragover", over);
    this.zone.addEventListener("dragleave", leave);
    this.zone.addEventListener("drop", function (ev) {
      ev.preventDefault();
      leave();
      if (ev.dataTransfer && ev.dataTransfer.files) self.add(ev.dataTransfer.files);
    });
    this.input.addEventListener("change", function () {
      if (self.input.files && self.input.files.length) self.add(self.input.files);
      self.input.value = "";
    });
    this.form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (self.input.files && self.input.files.length) { self.add(self.input.files); self.input.value = ""; }
      else if (!self.busy) self.say("choose a file, or drop one here", true);
    });
  };

  Uploader.prototype.say = function (text, bad) {
    var el = bad ? this.error : this.done;
    if (!el) return;
    if (text === null) { el.textContent = ""; show(el, false); return; }
    el.textContent = el.textContent && !el.classList.contains("hidden") ? el.textContent + "\n" + text : text;
    show(el, true);
  };

  // The size limit and type, before anything is sent (the server checks both again).
  Uploader.prototype.check = function (file) {
    if (this.max && file.size > this.max) {
      return file.name + ": " + bytes(file.size) + " is over the upload limit of " + bytes(this.max);
    }
    if (file.size === 0) return file.name + ": the file is empty";
    var type = file.type || "";
    var media = /^(video|audio|image)\//.test(type) || (!type && MEDIA_EXT.test(file.name));
    if (!media) {
      return file.name + ": unsupported type (" + (type || "unknown") + "): choose a video, audio or image file";
    }
    return null;
  };

  Uploader.prototype.add = function (files) {
    if (!this.busy) {
      this.say(null, true);
      this.say(null, false);
      this.count = 0;
      this.total = 0;
      show(this.progress, false);
    }
    for (var i = 0; i < files.length; i++) {
      var problem = this.check(files[i]);
      if (problem) { this.say(problem, true); continue; }
      this.queue.push(files[i]);
      this.total += 1;
    }
    this.next();
  };

  Uploader.prototype.setProgress = function (fraction) {
    var pct = Math.round(fraction * 100);
    this.bar.style.width = pct + "%";
    this.pct.textContent = pct + " %";
    this.progress.setAttribute("aria-valuenow", String(pct));
  };

  Uploader.prototype.next = function () {
    var self = this;
    if (this.busy || !this.queue.length) return;
    var file = this.queue.shift();
    this.busy = true;
    this.count += 1;
    this.name.textContent = file.name + (this.total > 1 ? " (" + this.count + "/" + this.total + ")" : "");
    this.setProgress(0);
    this.bar.classList.remove("progress-failed", "progress-completed");
    show(this.progress, true);
    this.form.setAttribute("data-uploading", "1");
    var body = new FormData();
    body.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", this.url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (ev) {
      if (ev.lengthComputable) self.setProgress(ev.loaded / ev.total);
    });
    xhr.addEventListener("load", function () {
      if (xhr.status >= 200 && xhr.status < 300) {
        var doc = {};
        try { doc = JSON.parse(xhr.responseText); } catch (e) { doc = {}; }
        self.setProgress(1);
        self.bar.classList.add("progress-completed");
        self.say("Uploaded " + file.name + " (" + (doc.kind || "media") + ", " + bytes(file.size) + "): " + (doc.cid || ""), false);
        self.refresh();
      } else {
        self.bar.classList.add("progress-failed");
        self.say(file.name + ": " + errorText(xhr.status, xhr.responseText), true);
      }
      self.finish();
    });
    xhr.addEventListener("error", function () {
      self.bar.classList.add("progress-failed");
      self.say(file.name + ": the upload failed (connection closed by the server or the network)", true);
      self.finish();
    });
    xhr.send(body);
  };

  Uploader.prototype.finish = function () {
    this.busy = false;
    if (this.queue.length) { this.next(); return; }
    this.form.removeAttribute("data-uploading");
  };

  Uploader.prototype.refresh = function () {
    if (!window.htmx || !document.getElementById("media-list")) return;
    window.htmx.ajax("GET", window.location.pathname + window.location.search, {
      target: "#media-list", select: "#media-list", swap: "outerHTML",
    });
  };

  // --- recipe editor -----------------------------------------------------------------------

  function Editor(form) {
    this.form = form;
    this.url = form.getAttribute("data-validate-url");
    this.max = Number(form.getAttribute("data-max-bytes")) || 0;
    this.text = $(form, "[data-editor-text]");
    this.gutter = $(form, "[data-editor-gutter]");
    this.mark = $(form, "[data-editor-mark]");
    this.status = $(form, "[data-editor-status]");
    this.summary = $(form, "[data-editor-summary]");
    this.file = $(form, "[data-editor-file]");
    this.filename = $(form, "[data-editor-filename]");
    this.cursor = $(form, "[data-editor-cursor]");
    this.report = $(form, "[data-editor-report]");
    this.seq = 0;
    this.timer = null;
    this.controller = null;
    this.badLine = 0;
    this.lines = 0;
    this.wire();
    var first = $(form, "[data-check=problems] [data-line]");
    this.badLine = first ? Number(first.getAttribute("data-line")) : 0;
    this.renderGutter();
    if (this.text.value.trim() && !$(form, "[data-check=problems], [data-check=ok]")) this.validate();
  }

  Editor.prototype.wire = function () {
    var self = this;
    this.text.addEventListener("input", function () { self.renderGutter(); self.schedule(); });
    this.text.addEventListener("scroll", function () { self.sync(); });
    ["keyup", "click", "focus"].forEach(function (name) {
      self.text.addEventListener(name, function () { self.showCursor(); });
    });
    this.file.addEventListener("change", function () {
      if (self.file.files && self.file.files[0]) self.load(self.file.files[0]);
    });
    this.text.addEventListener("dragover", function (ev) { ev.preventDefault(); });
    this.text.addEventListener("drop", function (ev) {
      if (ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files.length) {
        ev.preventDefault();
        self.load(ev.dataTransfer.files[0]);
      }
    });
    this.report.addEventListener("click", function (ev) {
      var item = ev.target.closest ? ev.target.closest("[data-line]") : null;
      if (item) self.goTo(Number(item.getAttribute("data-line")), Number(item.getAttribute("data-column")));
    });
  };

  Editor.prototype.load = function (file) {
    var self = this;
    if (this.max && file.size > this.max) {
      this.showProblems([{ line: 0, column: 0, message: file.name + ": " + bytes(file.size) + " is over the recipe limit of " + bytes(this.max), hint: "", text: "" }]);
      this.file.value = "";
      return;
    }
    file.text().then(function (text) {
      self.text.value = text;
      self.filename.value = file.name;
      self.file.value = "";  // the editor now holds it: the text field is what gets posted
      self.renderGutter();
      self.validate();
    });
  };

  Editor.prototype.renderGutter = function () {
    var count = this.text.value.split("\n").length;
    if (count !== this.lines || this.gutter.getAttribute("data-bad") !== String(this.badLine)) {
      var frag = document.createDocumentFragment();
      for (var i = 1; i <= count; i++) {
        var div = document.createElement("div");
        div.textContent = String(i);
        if (i === this.badLine) div.className = "gutter-bad";
        frag.appendChild(div);
      }
      this.gutter.textContent = "";
      this.gutter.appendChild(frag);
      this.gutter.setAttribute("data-bad", String(this.badLine));
      this.lines = count;
    }
    this.sync();
  };

  Editor.prototype.sync = function () {
    this.gutter.scrollTop = this.text.scrollTop;
    if (!this.badLine) { show(this.mark, false); return; }
    this.mark.style.top = (PAD + (this.badLine - 1) * LINE - this.text.scrollTop) + "px";
    show(this.mark, true);
  };

  Editor.prototype.showCursor = function () {
    if (!this.cursor) return;
    var before = this.text.value.slice(0, this.text.selectionStart).split("\n");
    this.cursor.textContent = "line " + before.length + ", col " + (before[before.length - 1].length + 1);
  };

  Editor.prototype.goTo = function (line, column) {
    if (!line) return;
    var lines = this.text.value.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max((column || 1) - 1, 0);
    this.text.focus();
    this.text.setSelectionRange(offset, offset);
    this.text.scrollTop = Math.max(0, (line - 1) * LINE - this.text.clientHeight / 2);
    this.sync();
    this.showCursor();
  };

  Editor.prototype.schedule = function () {
    var self = this;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.validate(); }, 350);
  };

  Editor.prototype.validate = function () {
    var self = this;
    var text = this.text.value;
    var id = ++this.seq;
    if (this.controller) this.controller.abort();
    if (!text.trim()) { this.setBad(0); this.clearReport("Not checked yet."); return; }
    this.controller = window.AbortController ? new AbortController() : null;
    this.form.setAttribute("data-checking", "1");
    fetch(this.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ recipe: text, filename: this.filename.value || null }),
      signal: this.controller ? this.controller.signal : undefined,
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (doc) { return [r, doc]; });
    }).then(function (pair) {
      if (id !== self.seq) return;  // a newer check is on its way
      self.form.removeAttribute("data-checking");
      var r = pair[0], doc = pair[1];
      if (!r.ok) { self.setBad(0); self.clearReport(null, errorText(r.status, doc)); return; }
      self.render(doc);
    }).catch(function (e) {
      if (e && e.name === "AbortError") return;
      if (id === self.seq) { self.form.removeAttribute("data-checking"); self.clearReport(null, "could not check: " + e); }
    });
  };

  Editor.prototype.setBad = function (line) {
    this.badLine = line || 0;
    this.renderGutter();
  };

  Editor.prototype.clearReport = function (note, error) {
    this.status.textContent = "";
    this.summary.textContent = "";
    var p = document.createElement("p");
    p.className = error ? "form-error" : "text-sm text-slate-500 mt-2";
    p.setAttribute("data-check", error ? "error" : "none");
    p.textContent = error || note || "";
    this.status.appendChild(p);
  };

  Editor.prototype.showProblems = function (errors) {
    this.status.textContent = "";
    var ul = document.createElement("ul");
    ul.className = "mt-2 space-y-2";
    ul.setAttribute("data-check", "problems");
    errors.forEach(function (p) {
      var li = document.createElement("li");
      li.className = "problem" + (p.line ? " cursor-pointer" : "");
      li.setAttribute("data-line", String(p.line || 0));
      li.setAttribute("data-column", String(p.column || 0));
      var pos = document.createElement("span");
      pos.className = "mono font-medium";
      pos.textContent = p.line ? p.line + ":" + p.column : "";
      li.appendChild(pos);
      li.appendChild(document.createTextNode(" " + p.message));
      if (p.text) {
        var pre = document.createElement("pre");
        pre.className = "problem-source";
        pre.textContent = p.text;
        li.appendChild(pre);
      }
      if (p.hint) {
        var hint = document.createElement("p");
        hint.className = "hint";
        hint.textContent = "hint: " + p.hint;
        li.appendChild(hint);
      }
      ul.appendChild(li);
    });
    this.status.appendChild(ul);
    this.setBad(errors.length ? errors[0].line : 0);
  };

  function listOf(title, items, empty, fmt) {
    var frag = document.createDocumentFragment();
    var h = document.createElement("h3");
    h.className = "font-medium mt-3";
    h.textContent = title;
    frag.appendChild(h);
    var ul = document.createElement("ul");
    ul.className = "mt-1";
    if (!items.length) {
      var li = document.createElement("li");
      li.className = "text-slate-500";
      li.textContent = empty;
      ul.appendChild(li);
    }
    items.forEach(function (item) {
      var row = document.createElement("li");
      row.className = "mono";
      row.textContent = fmt(item);
      ul.appendChild(row);
    });
    frag.appendChild(ul);
    return frag;
  }

  Editor.prototype.render = function (doc) {
    if (doc.ok) {
      this.setBad(0);
      this.status.textContent = "";
      var p = document.createElement("p");
      p.className = "form-ok";
      p.setAttribute("data-check", "ok");
      p.textContent = "Valid: " + doc.name + " (" + doc.syntax + "), output " + doc.output + " · id " + String(doc.recipe_id).slice(0, 12) + "…";
      this.status.appendChild(p);
    } else {
      this.showProblems(doc.errors || []);
    }
    this.summary.textContent = "";
    if (doc.name === null || doc.name === undefined) return;
    this.summary.appendChild(listOf("Inputs", doc.inputs || [], "none (generated)", function (i) {
      return i.name + " · " + i.type;
    }));
    this.summary.appendChild(listOf("Parameters", doc.params || [], "none", function (p) {
      var range = p.min !== null || p.max !== null ? " [" + (p.min === null ? "" : p.min) + ", " + (p.max === null ? "" : p.max) + "]" : "";
      return p.name + " = " + JSON.stringify(p.default) + range;
    }));
  };

  // --- wiring ------------------------------------------------------------------------------

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("form[data-upload]").forEach(function (form) {
      if (!form.__artdag) form.__artdag = new Uploader(form);
    });
    scope.querySelectorAll("form[data-recipe-editor]").forEach(function (form) {
      if (!form.__artdag) form.__artdag = new Editor(form);
    });
  }

  document.addEventListener("htmx:load", function (ev) { init(ev.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { if (!window.htmx) init(document); });
})();
