// errors.js: turns the bridge's error replies into words a person understands. The bridge's
// schema check answers `invalid_argument` with "<field>: <validator text>" (schema_registry.cpp);
// this names the field by its label and says what the schema expects instead of quoting the
// validator. Pure: no DOM, unit-tested by tests/web/errors.test.mjs.

// What a pattern means, for the fields whose pattern is not self-explanatory.
const PATTERN_HINTS = {
  image: 'an image reference such as registry:5000/name:tag, starting with a letter or digit',
  name: 'letters, digits, "_", "." and "-", starting with a letter or digit',
  template: 'lower-case letters, digits, "_", "." and "-"',
  env: 'NAME=value, the name made of letters, digits and "_"',
  working_dir: 'an absolute path (starting with "/")',
  volumes: 'an absolute path (starting with "/")',
  user: 'a user name or id, optionally :group',
  restart_policy: 'no, always, unless-stopped or on-failure[:N]',
  labels: 'letters, digits, ".", "_", "/" and "-"; dockmesh.* is reserved',
};

const CODE_WORDS = {
  invalid_argument: 'Not accepted',
  unauthorized: 'Not signed in',
  forbidden: 'Not allowed',
  not_found: 'Not found',
  conflict: 'Conflict',
  timeout: 'No answer in time',
  unavailable: 'Unavailable',
  unreachable: 'The bridge did not answer',
  too_many_requests: 'Too many requests',
};

export function fieldLabel(path) {
  const top = String(path || '').replace(/^body\./, '').split(/[.[]/)[0];
  return top ? top.replace(/_/g, ' ') : '';
}

// The schema entry of a field path such as "ports[0].host_port" or "env[2]".
function schemaOf(schema, path) {
  let s = schema;
  for (const part of String(path).replace(/^body\./, '').split('.')) {
    const m = /^([A-Za-z0-9_]*)((?:\[\d+\])*)$/.exec(part);
    if (!m || !s) return null;
    if (m[1]) s = (s.properties || {})[m[1]];
    if (m[2] && s) s = s.items;
  }
  return s || null;
}

function describeLimits(s) {
  if (!s) return '';
  const parts = [];
  if (s.minLength !== undefined && s.maxLength !== undefined) parts.push(`${s.minLength} to ${s.maxLength} characters`);
  else if (s.maxLength !== undefined) parts.push(`at most ${s.maxLength} characters`);
  if (s.minimum !== undefined && s.maximum !== undefined) parts.push(`a number from ${s.minimum} to ${s.maximum}`);
  else if (s.minimum !== undefined) parts.push(`a number of at least ${s.minimum}`);
  if (s.enum) parts.push(`one of ${s.enum.join(', ')}`);
  return parts.join(', ');
}

// The reason, in words, for one validator text about `path`.
export function explainValidator(path, text, schema) {
  const key = String(path || '').replace(/^body\./, '').split(/[.[]/)[0];
  const s = schema ? schemaOf(schema, path) : null;
  const limits = describeLimits(s);
  const t = String(text);
  let m;
  if (/pattern/i.test(t)) {
    const hint = PATTERN_HINTS[key] || (s && s.description) || 'a value of the accepted form';
    return `has characters or a form that is not accepted: use ${hint}${limits ? ` (${limits})` : ''}`;
  }
  if ((m = /Missing required property '([^']+)'/.exec(t))) return `needs ${m[1].replace(/_/g, ' ')}`;
  if (/anyOf/.test(t) && !key) return 'needs an image or a template';
  if (/type/i.test(t)) return `has the wrong kind of value${s && s.type ? `: expected ${s.type === 'integer' ? 'a whole number' : `a ${s.type}`}` : ''}`;
  if (/enum/i.test(t)) return `must be ${limits || 'one of the offered values'}`;
  if (/(less|greater|minimum|maximum|exceed)/i.test(t)) return `is out of range${limits ? `: expected ${limits}` : ''}`;
  if (/(characters|length)/i.test(t)) return `is too long or too short${limits ? `: expected ${limits}` : ''}`;
  if (/(additionalProperties|could not be validated)/i.test(t)) return 'is not a field this action takes';
  if (/(items|maxItems|minItems)/i.test(t)) return 'has too many or too few entries';
  return t.replace(/\.$/, '');
}

// {field, text}: `field` is the form field to mark (or ''), `text` the sentence to show.
export function humanError(status, data, schema) {
  const e = (data && data.error) || null;
  if (!e) return { field: '', text: status ? `The request failed (HTTP ${status}).` : 'The bridge did not answer.' };
  const words = CODE_WORDS[e.code] || 'Failed';
  const msg = String(e.message || '');
  const m = /^((?:body\.)?[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])*(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])*)*): (.*)$/s.exec(msg);
  if (e.code === 'invalid_argument' && m) {
    const field = m[1].replace(/^body\./, '').split(/[.[]/)[0];
    const label = fieldLabel(m[1]);
    const reason = explainValidator(m[1], m[2], schema);
    return { field, text: `${label.charAt(0).toUpperCase()}${label.slice(1)} ${reason}.`.replace(/\.\.$/, '.') };
  }
  if (e.code === 'invalid_argument' && /anyOf/.test(msg)) return { field: 'image', text: 'Give an image or a template.' };
  return { field: '', text: `${words}: ${msg}`.replace(/: $/, '') };
}
