#!/usr/bin/env bash
# The same analysis as tests/benches/analysis.rs, with networkx, on the graph file it writes.
# Uses the system Python's networkx, or makes a venv with it (target/networkx-venv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null || { echo "python3 is not installed" >&2; exit 1; }
python=python3
if ! python3 -c 'import networkx' 2>/dev/null; then
    venv="$here/../../target/networkx-venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q networkx >&2
    python="$venv/bin/python"
fi
exec "$python" "$here/networkx_analysis.py" "$@"
