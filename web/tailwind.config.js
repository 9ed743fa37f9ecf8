/** Tailwind for the artdag L1 web UI: `npm run build:css` writes build/app.css (gitignored). */
const STATUSES = ["pending", "running", "completed", "failed", "cancelled"];

module.exports = {
  content: ["./templates/**/*.html", "./static/**/*.js", "./*.py"],
  // classes built from run statuses in templates and app.js (`badge-{{ status }}`)
  safelist: STATUSES.flatMap((s) => [`badge-${s}`, `progress-${s}`]),
  theme: { extend: {} },
  plugins: [],
};
