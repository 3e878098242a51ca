// schema_form.js: the create form, generated from the create-container schema that the catalogue
// names (GET /api/v1/schemas/create-container), narrowed to what the create policy lets this user
// do (GET /api/v1/policy?host=). fieldsFor() decides which fields and how they are entered;
// readRequest() turns what was typed into the request body, or says per field what is wrong.
// Pure: no DOM; views/create.js renders the fields. Unit-tested by tests/web/schema_form.test.mjs.

import { splitCommand } from './text.js';

// Set by the scheduler or chosen by the source switch, never typed into the form; healthcheck is
// a nested object the form's key=value map cannot express (the API and services take it).
const NOT_OFFERED = new Set(['first_instance', 'template', 'image', 'healthcheck']);
// The order a person fills them in; fields the schema has beyond these follow.
const ORDER = ['name', 'cmd', 'entrypoint', 'env', 'ports', 'volumes', 'binds', 'memory', 'cpus',
  'restart_policy', 'network_mode', 'labels', 'instances', 'working_dir', 'user', 'stop_timeout',
  'start', 'per_host_names'];

const RESTART_CHOICES = ['', 'no', 'always', 'unless-stopped', 'on-failure'];

function kindOf(name, s) {
  if (name === 'memory') return 'bytes';
  if (name === 'cmd' || name === 'entrypoint') return 'command';
  if (name === 'restart_policy' || name === 'network_mode') return 'select';
  if (s.type === 'boolean') return 'check';
  if (s.type === 'integer' || s.type === 'number') return 'number';
  if (s.type === 'array' && s.items && s.items.type === 'object') return name === 'ports' ? 'ports' : 'lines';
  if (s.type === 'array') return 'lines';
  if (s.type === 'object') return 'map';
  return 'text';
}

function networkChoices(ctx) {
  const out = ['none', ''];
  if (ctx.role === 'admin' || (ctx.policy && ctx.policy.host_network === true)) out.push('host');
  return out;
}

function placeholderOf(name, kind, ctx) {
  const pol = (ctx && ctx.policy) || {};
  if (name === 'ports') {
    const r = pol.ports ? ` (host ports ${pol.ports.min}-${pol.ports.max})` : '';
    return `8080:80/tcp, one per line${r}`;
  }
  if (name === 'binds') {
    if (ctx.role === 'admin') return 'src:/dst[:ro], one per line';
    const pre = pol.bind_prefixes || [];
    return pre.length ? `volume:/dst or a path under ${pre.join(', ')}` : 'volume-name:/dst[:ro] (named volumes only)';
  }
  if (kind === 'bytes') return 'e.g. 256m, 1g (empty = no limit)';
  if (kind === 'lines') return 'one per line';
  if (kind === 'map') return 'key=value, one per line';
  if (kind === 'command') return "sh -c 'echo hello; sleep 3600'";
  return '';
}

// [{name, label, kind, hint, placeholder, choices?, min?, max?, step?, default?}]
export function fieldsFor(schema, ctx = {}) {
  const props = (schema && schema.properties) || {};
  const names = [...ORDER.filter((n) => props[n]), ...Object.keys(props).filter((n) => !ORDER.includes(n))];
  const out = [];
  for (const name of names) {
    if (NOT_OFFERED.has(name)) continue;
    const s = props[name];
    const kind = kindOf(name, s);
    const f = { name, label: name.replace(/_/g, ' '), kind, hint: s.description || '',
      placeholder: placeholderOf(name, kind, ctx) };
    if (name === 'restart_policy') f.choices = RESTART_CHOICES;
    if (name === 'network_mode') f.choices = networkChoices(ctx);
    if (kind === 'number') {
      f.min = s.minimum; f.max = s.maximum; f.step = s.type === 'integer' ? 1 : 0.1;
    }
    if (s.default !== undefined) f.default = s.default;
    out.push(f);
  }
  return out;
}

const UNITS = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

// "256m" -> 268435456; null when it is not a size.
export function parseBytes(text) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)\s*$/i.exec(String(text));
  if (!m) return null;
  const unit = m[2].toLowerCase().replace('i', '');
  if (!(unit in UNITS)) return null;
  return Math.round(parseFloat(m[1]) * UNITS[unit]);
}

// "[ip:]host:container[/proto]" or "container[/proto]" -> the schema's port object; null if not.
export function parsePort(text) {
  const m = /^\s*(?:(?:([0-9a-fA-F.:]+|\[[0-9a-fA-F:]+\]):)?(\d{1,5}):)?(\d{1,5})(?:\/(tcp|udp|sctp))?\s*$/.exec(String(text));
  if (!m) return null;
  const p = { container_port: Number(m[3]) };
  if (m[2] !== undefined) p.host_port = Number(m[2]);
  if (m[1]) p.host_ip = m[1].replace(/^\[|\]$/g, '');
  if (m[4]) p.protocol = m[4];
  if (p.container_port < 1 || p.container_port > 65535 || (p.host_port ?? 0) > 65535) return null;
  return p;
}

function lines(text) {
  return String(text || '').split('\n').map((l) => l.trim()).filter(Boolean);
}

// One field's value from what was typed: {value} (undefined = leave out) or {error}.
function readField(f, raw, ctx) {
  if (f.kind === 'check') return { value: !!raw === !!f.default ? undefined : !!raw };
  const text = String(raw ?? '').trim();
  if (!text) return {};
  switch (f.kind) {
    case 'command': return { value: splitCommand(text) };
    case 'select': return { value: text };
    case 'bytes': {
      const n = parseBytes(text);
      return n === null ? { error: 'is not a size: write a number with k, m or g, e.g. 256m' } : { value: n };
    }
    case 'number': {
      const n = Number(text);
      if (!isFinite(n) || (f.step === 1 && !Number.isInteger(n))) return { error: `is not a ${f.step === 1 ? 'whole ' : ''}number` };
      if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) return { error: `must be from ${f.min ?? '-'} to ${f.max ?? '-'}` };
      return { value: n };
    }
    case 'ports': return readPorts(text, ctx);
    case 'lines': return { value: lines(text) };
    case 'map': {
      const out = {};
      for (const l of lines(text)) {
        const i = l.indexOf('=');
        if (i < 1) return { error: `"${l}" is not key=value` };
        out[l.slice(0, i).trim()] = l.slice(i + 1).trim();
      }
      return { value: out };
    }
    default: return { value: text };
  }
}

function readPorts(text, ctx) {
  const pol = (ctx && ctx.policy) || {};
  const out = [];
  for (const l of lines(text)) {
    const p = parsePort(l);
    if (!p) return { error: `"${l}" is not a port: write host:container[/tcp|udp], e.g. 8080:80` };
    if (ctx.role !== 'admin' && pol.ports && p.host_port && (p.host_port < pol.ports.min || p.host_port > pol.ports.max))
      return { error: `host port ${p.host_port} is outside this host's range ${pol.ports.min}-${pol.ports.max}` };
    out.push(p);
  }
  return { value: out };
}

// {body, errors: [{field, text}]} from values {name: string|boolean}.
export function readRequest(fields, values, ctx = {}) {
  const body = {};
  const errors = [];
  for (const f of fields) {
    const r = readField(f, values[f.name], ctx);
    if (r.error) errors.push({ field: f.name, text: `${f.label.charAt(0).toUpperCase()}${f.label.slice(1)} ${r.error}.` });
    else if (r.value !== undefined && !(Array.isArray(r.value) && !r.value.length)) body[f.name] = r.value;
  }
  if (body.instances === 1) delete body.instances;
  return { body, errors };
}
