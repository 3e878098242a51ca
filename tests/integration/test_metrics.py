"""Prometheus metrics from every daemon, against a real 2-host mesh (real dockerds, broker, agents,
bridge, CURVE) started with mesh.sh --metrics-port: each /metrics passes `promtool check
metrics`, carries the series docs/metrics.md promises with values that follow what the mesh did,
and a real Prometheus on loopback scrapes all of them and answers a query for a metric of each
daemon. The packaged alert rules pass `promtool check rules` and load into that Prometheus."""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bridgelib import Bridge  # noqa: E402
from meshlib import SOURCE_DIR, Mesh, free_port_range, wait_for  # noqa: E402

PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
ALERTS = os.path.join(SOURCE_DIR, "packaging", "prometheus", "dockmesh-alerts.yml")
EXAMPLE = os.path.join(SOURCE_DIR, "packaging", "prometheus", "prometheus.example.yml")


def http_get(address, path, method="GET", timeout=10):
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type") or "", r.read().decode()
    finally:
        conn.close()


def samples(text):
    """{'name{labels}': value} of an exposition (labels as written)."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in (PROMTOOL, PROMETHEUS):
            if not os.access(tool, os.X_OK):
                raise AssertionError(tool + " is missing: scripts/deps.sh installs `prometheus`")
        cls.mesh = Mesh(hosts=2, metrics=True).up()
        cls.targets = cls.mesh.metrics_targets()
        # Something for each daemon to count: a refused and an accepted login, an API call, a
        # request to each agent and a control request to the broker.
        cls.bridge = Bridge(cls.mesh)
        r = cls.bridge.post("/api/v1/login", {"username": "admin", "password": "wrong"}, token="")
        assert r.status == 401, r
        cls.bridge = Bridge.admin(cls.mesh)
        r = cls.bridge.get("/api/v1/hosts")
        assert r.status == 200, r
        for i in (1, 2):
            rc, reply = cls.mesh.send({"action": "list-containers", "host": cls.mesh.fqdn(i)})
            assert rc == 0, reply
        rc, out = cls.mesh.ctl("hosts")
        assert rc == 0, out

    @classmethod
    def tearDownClass(cls):
        cls.mesh.down()

    def target(self, job):
        return [a for j, a in self.targets if j == job]

    def scrape(self, address):
        status, ctype, body = http_get(address, "/metrics")
        self.assertEqual(status, 200, body)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
        return body

    def test_every_daemon_passes_promtool_check_metrics(self):
        self.assertEqual(sorted(j for j, _ in self.targets),
                         ["dockmesh-agent", "dockmesh-agent", "dockmesh-bridge", "dockmesh-broker"])
        for job, address in self.targets:
            body = self.scrape(address)
            r = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(r.returncode, 0, "%s %s: %s%s" % (job, address, r.stdout, r.stderr))
            self.assertEqual(r.stdout.strip() + r.stderr.strip(), "",
                             "promtool lint findings for " + job)
            self.assertIn("process_cpu_seconds_total", body)

    def test_values_follow_what_the_mesh_did(self):
        broker = self.target("dockmesh-broker")[0]
        # The directory gauges are refreshed once a second.
        wait_for(lambda: samples(self.scrape(broker)).get(
            'dockmesh_broker_directory_hosts{status="up"}') == 2, 10, message="2 hosts up")
        b = samples(self.scrape(broker))
        self.assertGreater(b["dockmesh_broker_messages_forwarded_total"], 0)
        self.assertEqual(b["dockmesh_broker_leader"], 1)
        self.assertGreaterEqual(b['dockmesh_broker_zap_results_total{domain="bus",result="accepted"}'], 3)
        self.assertGreaterEqual(b['dockmesh_broker_connections{socket="xsub"}'], 3)
        self.assertGreaterEqual(b['dockmesh_broker_control_requests_total{action="hosts",code="2xx"}'], 1)
        self.assertIn('dockmesh_broker_messages_dropped_total{reason="acl"}', b)
        self.assertIn('dockmesh_broker_acl_decisions_total{decision="forbidden_topic"}', b)
        self.assertGreater(b['dockmesh_broker_acl_decisions_total{decision="allow"}'], 0)
        for address in self.target("dockmesh-agent"):
            a = samples(self.scrape(address))
            self.assertEqual(a["dockmesh_agent_dockerd_up"], 1)
            self.assertEqual(a["dockmesh_agent_event_stream_up"], 1)
            self.assertGreaterEqual(
                a['dockmesh_agent_docker_calls_total{method="GET",endpoint="/containers/json",outcome="ok"}'], 1)
            self.assertGreaterEqual(a['dockmesh_agent_requests_total{action="list-containers",code="200"}'], 1)
            self.assertGreaterEqual(
                a['dockmesh_agent_docker_call_seconds_count{method="GET",endpoint="/containers/json"}'], 1)
        g = samples(self.scrape(self.target("dockmesh-bridge")[0]))
        self.assertGreaterEqual(g['dockmesh_bridge_login_failures_total{reason="bad_credentials"}'], 1)
        self.assertGreaterEqual(g['dockmesh_bridge_http_requests_total{route="POST /api/v1/login",code="401"}'], 1)
        self.assertGreaterEqual(g['dockmesh_bridge_http_requests_total{route="GET /api/v1/hosts",code="200"}'], 1)
        self.assertGreaterEqual(g['dockmesh_bridge_http_request_seconds_count{route="GET /api/v1/hosts"}'], 1)
        self.assertIn('dockmesh_bridge_jobs{state="running"}', g)

    def test_raw_paths_never_become_labels(self):
        bridge = self.target("dockmesh-bridge")[0]
        for n in range(3):
            self.bridge.get("/api/v1/no-such-thing-%d" % n)
        body = self.scrape(bridge)
        self.assertNotIn("no-such-thing", body)
        self.assertGreaterEqual(samples(body)['dockmesh_bridge_http_requests_total{route="unmatched",code="404"}'], 3)
        agent = self.scrape(self.target("dockmesh-agent")[0])
        self.assertIsNone(re.search(r'endpoint="/containers/[0-9a-f]{12}', agent))

    def test_listener_answers_only_get_metrics(self):
        address = self.target("dockmesh-broker")[0]
        self.assertEqual(http_get(address, "/")[0], 404)
        self.assertEqual(http_get(address, "/metrics", method="POST")[0], 405)
        # A client that connects and says nothing does not block the next scrape for long.
        host, port = address.rsplit(":", 1)
        import socket
        with socket.create_connection((host, int(port))):
            started = time.monotonic()
            self.scrape(address)
        self.assertLess(time.monotonic() - started, 5)

    def test_alert_rules_pass_promtool(self):
        r = subprocess.run([PROMTOOL, "check", "rules", ALERTS], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS: 7 rules found", r.stdout)
        r = subprocess.run([PROMTOOL, "check", "config", EXAMPLE], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_real_prometheus_scrapes_every_daemon(self):
        work = tempfile.mkdtemp(prefix="dm-prom")
        self.addCleanup(shutil.rmtree, work, True)
        jobs = {}
        for job, address in self.targets:
            jobs.setdefault(job, []).append(address)
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "rule_files": [ALERTS],
                  "scrape_configs": [{"job_name": j, "static_configs": [{"targets": t}]}
                                     for j, t in sorted(jobs.items())]}
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            json.dump(config, f)  # YAML is a superset of JSON
        port = free_port_range(1)
        log = open(os.path.join(work, "prometheus.log"), "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            [PROMETHEUS, "--config.file", os.path.join(work, "prometheus.yml"),
             "--storage.tsdb.path", os.path.join(work, "data"),
             "--web.listen-address", "127.0.0.1:%d" % port], stdout=log, stderr=log)

        def stop():
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.addCleanup(stop)
        address = "127.0.0.1:%d" % port

        def query(expr):
            try:
                status, _, body = http_get(address, "/api/v1/query?query=" + urllib.parse.quote(expr))
            except OSError:
                return None
            if status != 200:
                return None
            return json.loads(body)["data"]["result"]

        checks = {
            'dockmesh_broker_directory_hosts{status="up"}': 1,
            "dockmesh_agent_dockerd_up == 1": 2,
            'dockmesh_bridge_login_failures_total{reason="bad_credentials"} >= 1': 1,
            'up{job=~"dockmesh-.*"} == 1': 4,
        }
        for expr, series in checks.items():
            try:
                wait_for(lambda: len(query(expr) or []) == series, 30, interval=0.25,
                         message="Prometheus answers " + expr)
            except AssertionError:
                with open(os.path.join(work, "prometheus.log")) as f:
                    sys.stderr.write(f.read()[-3000:])
                raise
        self.assertEqual(query('dockmesh_broker_directory_hosts{status="up"}')[0]["value"][1], "2")
        status, _, body = http_get(address, "/api/v1/rules")
        self.assertEqual(status, 200)
        groups = json.loads(body)["data"]["groups"]
        self.assertEqual([len(g["rules"]) for g in groups if g["name"] == "dockmesh"], [7])


if __name__ == "__main__":
    unittest.main()
