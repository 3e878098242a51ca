// container_events.js: how a live event changes the container list without a reload. A Docker
// event from the agent (evt/host/...) sets a known container's state at once; the directory's
// container-added/-changed/-removed entry (dir/) replaces or drops its record. Only a container
// new to the list needs a reload (the bridge's ownership filter decides who sees it). Pure:
// unit-tested by tests/web/container_events.test.mjs; main.js renders after a change.

const DOCKER_STATES = { start: 'running', unpause: 'running', restart: 'running', die: 'exited',
  stop: 'exited', pause: 'paused', create: 'created' };

// 'changed', 'unchanged' or 'reload' for a directory entry event.
export function applyEntry(list, action, entry) {
  if (!entry || !entry.id) return 'reload';
  const i = list.findIndex((c) => c.id === entry.id);
  if (action.endsWith('-removed')) {
    if (i < 0) return 'unchanged';
    list.splice(i, 1);
    return 'changed';
  }
  if (i < 0) return 'reload';
  list[i] = { ...list[i], ...entry };
  return 'changed';
}

// True when a Docker event changed a listed container's state.
export function applyDocker(list, e) {
  const state = e && e.type === 'container' ? DOCKER_STATES[e.action] : undefined;
  if (!state) return false;
  const c = list.find((x) => x.id === e.id);
  if (!c || c.state === state) return false;
  c.state = state;
  return true;
}
