// artdag L1 web UI: the plan DAG of a run follows the run. Steps are drawn with the
// states the server knew (web/plan_view.py); the run's events (app.js dispatches them as
// "artdag:run-event") move them on: "step" events of the batch path, the live render's
// playlist/progress events (it computes every step at once) and the final status.
(function () {
  "use strict";

  var RANK = { pending: 0, stopped: 1, running: 2, failed: 3, done: 4 };
  var STATES = Object.keys(RANK);
  var runs = {};  // run id -> {steps: {step id: state}, all: null | "running" | "stopped" | "done"}
  var reloaded = {};

  function known(runId) { return runs[runId] || (runs[runId] = { steps: {}, all: null }); }

  function pageRun() {
    var page = document.querySelector("[data-run-page]");
    return page ? page.getAttribute("data-run-page") : null;
  }

  function setNode(node, state) {
    var old = node.getAttribute("data-state");
    if (old === state) return;
    node.classList.remove("dag-state-" + old);
    node.classList.add("dag-state-" + state);
    node.setAttribute("data-state", state);
    var title = node.querySelector("title");
    if (title) {
      var text = title.textContent;
      STATES.forEach(function (s) { if (text.slice(-s.length - 3) === " · " + s) text = text.slice(0, -s.length - 3); });
      title.textContent = text + " · " + state;
    }
  }

  // the drawn state moved on by what the events said (never back, but for a retry after failing)
  function next(drawn, run, id) {
    if (run.all === "done") return "done";
    var s = drawn, said = run.steps[id];
    if (said && (RANK[said] > RANK[s] || (s === "failed" && said === "running"))) s = said;
    if (run.all === "running" && RANK[s] < RANK.running) s = "running";
    if (run.all === "stopped" && (s === "running" || s === "pending")) s = "stopped";
    return s;
  }

  function apply(runId) {
    var fig = document.querySelector("figure[data-step-states]");
    if (!fig || !runId || pageRun() !== runId) return;
    var run = known(runId), done = 0, nodes = {}, state = {};
    fig.querySelectorAll(".dag-node[data-state]").forEach(function (node) {
      var id = node.getAttribute("data-node");
      nodes[id] = node;
      state[id] = next(node.getAttribute("data-state"), run, id);
    });
    // a step that started had its inputs ready: those computed inside it (inline sources) too
    var parents = {};
    fig.querySelectorAll(".dag-edge").forEach(function (e) {
      var to = e.getAttribute("data-to");
      (parents[to] = parents[to] || []).push(e.getAttribute("data-from"));
    });
    function ready(id) {
      (parents[id] || []).forEach(function (p) {
        if (state[p] === "pending" || state[p] === "stopped") { state[p] = "done"; ready(p); }
      });
    }
    Object.keys(state).forEach(function (id) { if (RANK[state[id]] >= RANK.running) ready(id); });
    Object.keys(nodes).forEach(function (id) {
      setNode(nodes[id], state[id]);
      if (state[id] === "done") done += 1;
    });
    var counter = document.querySelector("[data-steps-done]");
    if (counter) counter.textContent = String(done);
  }

  // the plan tab said "no plan yet": fetch it once the run has one
  function reloadPlan(runId) {
    var panel = document.querySelector('[data-tab-panel="plan"]');
    if (reloaded[runId] || !window.htmx || !panel || !panel.querySelector("[data-plan-empty]")) return;
    reloaded[runId] = true;
    window.htmx.ajax("GET", "/run/" + encodeURIComponent(runId) + "/plan", { target: "#run-tabs", swap: "innerHTML" });
  }

  document.addEventListener("artdag:run-event", function (ev) {
    var d = ev.detail || {}, data = d.data || {}, run = known(d.runId);
    if (d.kind === "step" && data.step_id && RANK[data.state] !== undefined) {
      run.steps[data.step_id] = data.state;
      reloadPlan(d.runId);
    } else if (d.kind === "playlist" || (d.kind === "progress" && data.frames != null)) {
      run.all = run.all || "running";
    } else if (d.kind === "status") {
      if (data.status === "completed") run.all = "done";
      else if (data.status === "failed" || data.status === "cancelled") run.all = "stopped";
      else if (data.status === "running" && data.segment_count > 0) run.all = run.all || "running";
      if (data.stage === "execute" || data.status === "completed") reloadPlan(d.runId);
    }
    apply(d.runId);
  });

  document.addEventListener("htmx:load", function (ev) {
    var elt = ev.detail && ev.detail.elt;
    if (elt && elt.querySelector && (elt.matches("figure[data-step-states]") || elt.querySelector("figure[data-step-states]"))) {
      apply(pageRun());
    }
  });
})();
