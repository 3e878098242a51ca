// service_rows.js: what the Services page shows for one service, from a service-list record
// (docs/services.md, "Status"): desired and running, replicas per host, the reconciler's last
// error or why it is blocked, a one-word state for the badge, and the rolling update's state
// (status.update); a service-update job's progress in words. Also reads the scale, create and
// update inputs. Pure: no DOM; views/services.js renders it. Unit-tested by tests/web/service_rows.test.mjs.

// "host1.mesh.test: 2, host2.mesh.test: 1" (running replicas first, then others with their state).
export function replicasPerHost(replicas) {
  const byHost = new Map();
  for (const r of replicas || []) {
    const h = byHost.get(r.host) || { running: 0, other: 0 };
    if (r.state === 'running' && (r.host_status || 'up') === 'up') h.running += 1; else h.other += 1;
    byHost.set(r.host, h);
  }
  return [...byHost.keys()].sort().map((host) => {
    const h = byHost.get(host);
    return h.other ? `${host}: ${h.running} (+${h.other} not running)` : `${host}: ${h.running}`;
  }).join(', ');
}

// ok: desired replicas running; converging: creates or removes under way; blocked / error: the
// reconciler says why not.
export function serviceState(status) {
  const s = status || {};
  if (s.blocked) return 'blocked';
  if ((s.running || 0) === (s.desired || 0) && (s.replicas || []).length === (s.desired || 0)) return 'ok';
  if (s.last_error) return 'error';
  return 'converging';
}

// status.update -> what the row says about the rolling update: '' when there is nothing to say
// (never updated, or the last one done), else "updating 2/3", "rolled back: <error>", "paused:
// <error>".
export function updateText(update) {
  const u = update || {};
  if (u.state === 'updating') return `updating ${u.updated || 0}/${u.replicas || 0}`;
  if (u.state === 'rolled-back') return `rolled back: ${u.error || 'no reason given'}`;
  if (u.state === 'paused') return `paused: ${u.error || 'no reason given'}`;
  return '';
}

export function serviceRow(svc) {
  const st = svc.status || { desired: (svc.spec || {}).replicas || 0, running: 0, replicas: [] };
  return {
    id: svc.id,
    label: `${svc.project_name || svc.project}/${svc.name}`,
    image: (svc.spec || {}).image || '',
    desired: st.desired || 0,
    running: st.running || 0,
    // `creating` is cleared at the reconciler's next pass after the container shows, which no
    // event announces: once every desired replica runs it is stale, so it is not shown then.
    counts: `${st.running || 0}/${st.desired || 0} running${st.creating && (st.running || 0) < (st.desired || 0) ? `, ${st.creating} being created` : ''}`,
    hosts: replicasPerHost(st.replicas),
    problem: st.blocked || st.last_error || '',
    state: serviceState(st),
    generation: svc.generation || 1,
    update: (st.update && st.update.state) || 'idle',
    updateText: updateText(st.update),
    cmd: ((svc.spec || {}).cmd || []).join(' '),
  };
}

const NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;
export const MAX_REPLICAS = 1000;

export function checkName(what, name) {
  return NAME.test(name) ? '' : `${what}: 1 to 31 of a-z, 0-9 and "-", not starting with "-".`;
}

export function readReplicas(text) {
  const n = Number(String(text).trim());
  if (String(text).trim() === '' || !Number.isInteger(n) || n < 0 || n > MAX_REPLICAS)
    return { error: `Replicas: a whole number from 0 to ${MAX_REPLICAS}.` };
  return { value: n };
}

// The create form's fields -> the POST /api/v1/services body, or {error, field}.
export function readServiceForm({ project, name, image, replicas, cmd }, splitCommand) {
  if (!project) return { error: 'Project: create or choose a project first.', field: 'project' };
  const bad = checkName('Name', name);
  if (bad) return { error: bad, field: 'name' };
  if (!image.trim()) return { error: 'Image: required.', field: 'image' };
  const r = readReplicas(replicas);
  if (r.error) return { error: r.error, field: 'replicas' };
  const spec = { image: image.trim(), replicas: r.value };
  if (cmd.trim()) spec.cmd = splitCommand(cmd.trim());
  return { body: { project, name, spec } };
}

// The update form's fields -> the PATCH /api/v1/services/{id} body, or {error, field}. Only what
// changed is sent: an unchanged image or command is left out, and nothing changed is an error.
export function readUpdateForm({ image, cmd }, current, splitCommand) {
  const body = {};
  const img = (image || '').trim();
  const c = (cmd || '').trim();
  if (img && img !== current.image) body.image = img;
  if (c && c !== current.cmd) body.cmd = splitCommand(c);
  if (!Object.keys(body).length) return { error: 'Update: give a new image or command.', field: 'image' };
  return { body };
}

// A service-update job (docs/bridge.md "Jobs") in words, for the line under the update form.
export function updateJobText(job) {
  const p = (job && job.progress) || {};
  const g = p.generation ? `generation ${p.generation}` : 'the update';
  if (!job || job.state === 'running') {
    const batches = p.batches ? `, batch ${p.batches}` : '';
    return `Rolling out ${g}: ${p.updated || 0}/${p.replicas || 0} updated${batches}…`;
  }
  if (job.state === 'done') return `${g[0].toUpperCase()}${g.slice(1)} rolled out: ${p.updated || 0}/${p.replicas || 0} updated.`;
  return `${g[0].toUpperCase()}${g.slice(1)} failed: ${(job.error && job.error.message) || p.error || 'unknown error'}`;
}
