#!/bin/sh
# The dockmesh web UI browser test (Playwright + Debian's Chromium against a real one-host mesh).
# Usage: tests/browser/run.sh   (DM_BUILD_DIR / DM_SOURCE_DIR as for the integration tests)
# Exit 0 passed, 1 failed, 77 skipped (no chromium or node). Screenshots: <build>/screenshots/.
exec /usr/bin/python3 "$(dirname "$0")/run_ui_test.py" "$@"
