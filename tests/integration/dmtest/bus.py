"""A bus client's sockets: PUB to a broker's XSUB port and SUB from its XPUB port, both with
CURVE, speaking the envelope of common/envelope.hpp directly (msgpack). Several brokers: connect
to each, as dockmesh clients do. Use from one thread only (zmq sockets are not thread-safe)."""

import time
import uuid

import msgpack
import zmq


def read_key_file(path):
    """A dockmesh key file (`public-key = ...`, `secret-key = ...`) as a dict; a file holding
    only a key (broker.pub written bare) gives {"public-key": <its last line>}."""
    keys = {}
    with open(path) as f:
        text = f.read()
    for line in text.splitlines():
        line = line.strip()
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            keys[k.strip()] = v.strip()
    if "public-key" not in keys and text.strip():
        keys["public-key"] = text.strip().splitlines()[-1].strip()
    return keys


class BusClient:
    """server_key, public, secret: Z85 strings. endpoints: (xsub, xpub) pairs, one per broker.
    ctx: a zmq.Context to share (the client makes and ends its own when None)."""

    def __init__(self, server_key, public, secret, endpoints, client_id, ctx=None, hwm=None):
        self.client_id = client_id
        self.reply_topic = "rep/%s/" % client_id
        self._own_ctx = ctx is None
        self.ctx = ctx or zmq.Context()
        self.pub = self.ctx.socket(zmq.PUB)
        self.sub = self.ctx.socket(zmq.SUB)
        for s in (self.pub, self.sub):
            s.linger = 0
            s.curve_serverkey = server_key.encode()
            s.curve_publickey = public.encode()
            s.curve_secretkey = secret.encode()
        if hwm is not None:  # 0 = unbounded: a flood must not be dropped by our own queues
            self.pub.sndhwm = hwm
            self.sub.rcvhwm = hwm
        for xsub, xpub in endpoints:
            self.connect(xsub, xpub)
        self.pending = []  # (topic, envelope) read while waiting for something else

    def connect(self, xsub, xpub):
        self.pub.connect(xsub)
        self.sub.connect(xpub)

    def subscribe(self, prefix):
        self.sub.setsockopt(zmq.SUBSCRIBE, prefix.encode())

    def publish(self, topic, env):
        """env: a dict (packed here) or bytes (sent as they are, for malformed-input tests)."""
        raw = env if isinstance(env, bytes) else msgpack.packb(env, use_bin_type=True)
        self.pub.send_multipart([topic.encode(), raw])

    def receive(self, timeout):
        """The next (topic, envelope dict) within timeout seconds, or None."""
        if self.pending:
            return self.pending.pop(0)
        if not self.sub.poll(int(max(0, timeout) * 1000)):
            return None
        frames = self.sub.recv_multipart()
        # The broker appends '\0' and the sender's identity (its stamp) to the topic.
        topic = frames[0].split(b"\0", 1)[0].decode(errors="replace")
        return topic, msgpack.unpackb(frames[1] if len(frames) > 1 else b"\xc0", raw=False)

    def probe(self):
        """A probe envelope for our own reply topic."""
        return {"v": 1, "id": uuid.uuid4().hex, "action": "probe", "from": self.client_id}

    def wait_probe(self, timeout, copies=1, window=0.2):
        """Publishes probes on our own reply topic until `copies` of one come back within
        `window` seconds (one per broker the client is connected through). Returns True, or
        False at the deadline."""
        self.subscribe(self.reply_topic)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            probe = self.probe()
            self.publish(self.reply_topic, probe)
            seen, end = 0, time.monotonic() + window
            while time.monotonic() < end and seen < copies:
                m = self.receive(min(0.05, max(0, end - time.monotonic())))
                seen += bool(m and m[1].get("id") == probe["id"])
            if seen >= copies:
                return True
        return False

    def close(self):
        self.pub.close(0)
        self.sub.close(0)
        if self._own_ctx:
            self.ctx.term()
