"""Stopping a child process the tests started: SIGTERM, then SIGKILL if it has not exited within
the timeout. Only the Popen the caller holds is signalled (never a process found by name)."""

import subprocess


def stop_child(proc, timeout=10.0):
    """SIGTERM `proc` (a subprocess.Popen), wait up to `timeout` s, then SIGKILL; its exit code
    (negative for a signal, as Popen reports it). A process that already exited is only reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
