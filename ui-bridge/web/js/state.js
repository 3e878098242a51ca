// state.js: what the views share: the hosts and containers last loaded, the catalogue, the live
// link, and the jobs this page started. One object, owned by main.js; views read and fill it.

export const S = {
  hosts: [],
  containers: [],
  catalogue: [],
  actions: [],  // the agent actions this user may send (GET /api/v1/catalogue)
  link: null,   // the LiveLink (live_link.js)
  jobs: {},     // job id -> render(job) for jobs this page follows
  busy: {},     // container id -> the word shown while an action runs ("stopping")
};

let timers = {};
// Runs fn once, `ms` after the last call with the same name (bursts of events, one reload).
export function debounce(name, ms, fn) {
  clearTimeout(timers[name]);
  timers[name] = setTimeout(fn, ms);
}

export function clearTimers() {
  for (const t of Object.values(timers)) clearTimeout(t);
  timers = {};
}
