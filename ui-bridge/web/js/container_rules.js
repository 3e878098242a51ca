// container_rules.js: which catalogue actions a container's row offers in its state, which ones
// ask for a confirmation, and what a row shows while an action is under way. Pure: unit-tested
// by tests/web/container_rules.test.mjs.

const NEEDS_RUNNING = new Set(['stop-container', 'kill-container', 'restart-container',
  'follow-stats', 'exec-start', 'container-stats']);
const NEEDS_STOPPED = new Set(['start-container']);

// The catalogue's container actions that make sense for `state`.
export function actionsFor(state, actions) {
  const running = state === 'running' || state === 'restarting' || state === 'paused';
  return actions.filter((a) => a.target === 'container' &&
    !(NEEDS_RUNNING.has(a.name) && !running) && !(NEEDS_STOPPED.has(a.name) && running));
}

// The question to ask before `action` on a container in `state`, or '' when none is needed.
export function confirmation(action, c) {
  const who = c.name || String(c.id || '').slice(0, 12);
  if (action === 'kill-container') return `Kill ${who}? It gets SIGKILL and loses unsaved work.`;
  if (action === 'remove-container') {
    return c.state === 'running' ? `${who} is running. Stop and remove it? Its data in the container is lost.`
      : `Remove ${who}? Its data in the container is lost.`;
  }
  return '';
}

// The words a row shows while `action` runs ("stopping..."), or '' for quick queries.
export function busyWord(action) {
  return { 'start-container': 'starting', 'stop-container': 'stopping', 'restart-container': 'restarting',
    'kill-container': 'killing', 'remove-container': 'removing' }[action] || '';
}

// Said instead of sending an action that would do nothing.
export function pointless(action, state) {
  if (action === 'start-container' && state === 'running') return 'is already running';
  if (action === 'stop-container' && state !== 'running') return 'is not running';
  return '';
}
