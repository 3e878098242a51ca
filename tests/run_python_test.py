#!/usr/bin/python3
"""run_python_test.py FILE [ARGS...]: runs one Python test file (unittest, -v) as CTest's command
and fails it when a test was skipped, unless tests/allowed_skips.txt lists that test with its
reason. A skip is otherwise indistinguishable from a pass in unittest's exit status, and a test
that checks nothing because something was missing must not count as passed."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ALLOWED = os.path.join(HERE, "allowed_skips.txt")
# unittest -v: "test_x (module.Class.test_x) ... skipped 'reason'" (also "test_x (module.Class)")
SKIP = re.compile(r"^(\w+) \(([\w.]+)\).* skipped '(.*)'$")
# The summary line: "OK (skipped=2)" / "FAILED (failures=1, skipped=2)".
SUMMARY = re.compile(r"^(OK|FAILED) \(.*skipped=(\d+)")


def allowed_skips():
    """{"file.Class.test": reason} from allowed_skips.txt ("<test id> | <reason>" per line)."""
    out = {}
    with open(ALLOWED, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            test, sep, reason = line.partition("|")
            if not sep or not reason.strip():
                sys.exit(f"{ALLOWED}: '{line}' needs '<test id> | <reason>'")
            out[test.strip()] = reason.strip()
    return out


def main():
    allowed = allowed_skips()
    # Run as a script, a test's module is __main__: list it by the file's name instead.
    files = [a for a in sys.argv[1:] if a.endswith(".py")]
    module = os.path.splitext(os.path.basename(files[0]))[0] if files else "__main__"
    proc = subprocess.Popen([sys.executable, *sys.argv[1:]], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    unlisted, seen, total = [], 0, 0
    for line in proc.stdout:
        sys.stdout.write(line)
        summary = SUMMARY.match(line.strip())
        if summary:
            total = int(summary.group(2))
        m = SKIP.match(line.strip())
        if not m:
            continue
        seen += 1
        where = re.sub(r"^__main__\b", module, m.group(2))
        test_id = where if where.endswith("." + m.group(1)) else f"{where}.{m.group(1)}"
        if test_id not in allowed:
            unlisted.append((test_id, m.group(3)))
    rc = proc.wait()
    if total > seen:  # a skip whose line was interleaved with output: it cannot be listed
        unlisted.append(("(unnamed)", f"{total - seen} skip(s) without a readable line"))
    for test_id, reason in unlisted:
        print(f"run_python_test: {test_id} was skipped ('{reason}') and is not in "
              f"tests/allowed_skips.txt: a skip counts as a failure", flush=True)
    return rc if rc != 0 else (1 if unlisted else 0)


if __name__ == "__main__":
    sys.exit(main())
