"""HTTP over a unix socket (a dockerd's API socket), one connection per call."""

import http.client
import json
import socket


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("docker", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def call_raw(socket_path, method, path, data=None, headers=None, timeout=60):
    """One request with a raw body (bytes or a file): (HTTP status, body bytes)."""
    conn = UnixHTTPConnection(socket_path, timeout)
    try:
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def call_json(socket_path, method, path, body=None, timeout=60, headers=None):
    """One request with a JSON body (or none): (HTTP status, parsed JSON, the text when it is not
    JSON, or None when the answer is empty)."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, raw = call_raw(socket_path, method, path, data, headers, timeout)
    text = raw.decode(errors="replace")
    if not text:
        return status, None
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text
