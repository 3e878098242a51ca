// api.js: the console's one way to call the bridge: REST under /api/v1 with the session token;
// container actions go through POST /api/v1/messages under their catalogue names. Answers
// {status, ok, data}; a 401 signs the user out (session.js registers that hook).

export const session = {
  token: sessionStorage.getItem('dm_token') || '',
  user: sessionStorage.getItem('dm_user') || '',
  role: sessionStorage.getItem('dm_role') || '',
  onExpired: null,
};

export async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (session.token) opts.headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    return { status: 0, ok: false, data: { error: { code: 'unreachable', message: 'the bridge did not answer' } } };
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401 && path !== '/api/v1/login' && session.onExpired) session.onExpired();
  return { status: res.status, ok: res.ok, data, redirected: res.redirected };
}

export const send = (message) => api('POST', '/api/v1/messages', message);
