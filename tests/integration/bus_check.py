"""bus_check: every reply, stream message and dir/ event seen on a test mesh's bus is checked
against its JSON Schema, as the protocol catalogue names it (`dockmeshctl catalogue`).

meshlib.Mesh starts a BusCheck (`dockmeshctl watch` with the admin key, which may subscribe to
every topic) once the mesh is up and calls finish() at teardown: a message whose body does not
validate fails the test. What is checked:
  rep/<client>/  a reply whose code is 2xx, against the reply schema of the action its request
                 (seen earlier on req/...) named; a stream message (pull-progress) against its
                 body schema
  dir/           a directory event against its body schema
A reply whose request was not seen (sent before the watch subscribed) is counted, not checked;
so is a reply to a request for one host that the broker stamped with another agent's identity:
its receiver refuses it (the bus security tests forge such replies on purpose).
"""

import json
import os
import subprocess

import jsonschema

SOURCE_DIR = os.environ.get("DM_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
SCHEMAS_DIR = os.path.join(SOURCE_DIR, "schemas")


def load_catalogue(ctl):
    """{name: entry} from `dockmeshctl catalogue` (ctl: the dockmeshctl binary)."""
    out = subprocess.run([ctl, "catalogue"], capture_output=True, text=True, timeout=30,
                         check=True).stdout
    return {m["name"]: m for m in json.loads(out)["messages"]}


class SchemaSet:
    """schemas/<stem>.json, each loaded and compiled once."""

    def __init__(self, directory=SCHEMAS_DIR):
        self.directory = directory
        self._validators = {}

    def validator(self, stem):
        if stem not in self._validators:
            with open(os.path.join(self.directory, stem + ".json")) as f:
                schema = json.load(f)
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            self._validators[stem] = cls(schema)
        return self._validators[stem]

    def problems(self, stem, body):
        """The first few validation errors of body against schemas/<stem>.json, as text."""
        errors = sorted(self.validator(stem).iter_errors(body), key=lambda e: list(e.path))
        return ["%s: %s" % ("/".join(str(p) for p in e.path) or "(body)", e.message[:200])
                for e in errors[:3]]


class BusCheck:
    """Validates the messages of a meshlib.Watch on every topic."""

    def __init__(self, catalogue, schemas=None):
        self.catalogue = catalogue
        self.schemas = schemas or SchemaSet()
        self.request_action = {}  # request id -> action, from req/ messages
        self.request_host = {}    # request id -> the fqdn of req/host/<fqdn>/
        self.checked = 0
        self.unmatched = 0
        self.foreign = 0
        self.violations = []

    def _check(self, what, stem, body, msg):
        self.checked += 1
        problems = self.schemas.problems(stem, body)
        if problems:
            self.violations.append("%s (schemas/%s.json) on %s: %s; body %s" % (
                what, stem, msg.get("topic"), "; ".join(problems), json.dumps(body)[:300]))

    def _entry(self, name, kind):
        e = self.catalogue.get(name or "")
        return e if e and e.get("kind") == kind else None

    def see(self, msg):
        """One message as `dockmeshctl watch` prints it: {"topic", "sender", "envelope"}."""
        topic, env = msg.get("topic", ""), msg.get("envelope", {})
        if topic.startswith("req/"):
            if env.get("action"):
                self.request_action[env.get("id")] = env["action"]
            if topic.startswith("req/host/"):
                self.request_host[env.get("id")] = topic[len("req/host/"):].rstrip("/")
        elif topic.startswith("rep/"):
            self._see_reply(env, msg)
        elif topic.startswith("dir/"):
            e = self._entry(env.get("action"), "directory-event")
            if e is None:
                self.violations.append("dir/ carries '%s', no directory event of the catalogue"
                                       % env.get("action"))
            elif e.get("body_schema"):
                self._check("dir/ event %s" % e["name"], e["body_schema"], env.get("body"), msg)

    def _see_reply(self, env, msg):
        stream = self._entry(env.get("action"), "stream")
        if stream is not None:
            self._check("stream %s" % stream["name"], stream["body_schema"], env.get("body"), msg)
            return
        if not 200 <= env.get("code", 0) < 300 or "body" not in env:
            return
        action = self.request_action.get(env.get("re"))
        if action is None:
            self.unmatched += 1
            return
        host = self.request_host.get(env.get("re"))
        sender = msg.get("sender", "")
        if host and sender.startswith("agent:") and sender != "agent:" + host:
            self.foreign += 1
            return
        e = self.catalogue.get(action)
        if e and e.get("reply_schema"):
            self._check("reply to %s" % action, e["reply_schema"], env["body"], msg)

    def report(self):
        return "bus check: %d message(s) validated, %d reply(ies) without a seen request, " \
               "%d from another agent than the one asked, %d violation(s)" % (
                   self.checked, self.unmatched, self.foreign, len(self.violations))
