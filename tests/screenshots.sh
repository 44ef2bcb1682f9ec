#!/usr/bin/env bash
# Runs the app under Xvfb on a small observatory and on the demo and saves a PNG of each screen in
# tests/screenshots/. Needs: xvfb xauth imagemagick xdotool (see .ci/run).
# Usage: tests/screenshots.sh [path/to/observatory-binary]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/observatory}
[ -x "$bin" ] || cargo build --release
out=tests/screenshots
work=$(mktemp -d)
trap 'kill $app $xvfb 2>/dev/null || true; rm -rf "$work"' EXIT
echo "sample passphrase" > "$work/pass"
export OBSERVATORY_PASSPHRASE_FILE="$work/pass" OBSERVATORY_IDENTITY="$work/me.identity"
"$bin" keygen --out "$work/me.identity" --name "Sample Expert" --member-state FR --clearance SECRET --work-factor 12 >/dev/null
"$bin" init "$work/sample.observatory" >/dev/null
item=$("$bin" add "$work/sample.observatory" item --name Gallium --item-kind material --stage processing)
"$bin" add "$work/sample.observatory" link --from-id "$item" --to-id CN --link-kind produced-in --share 93.8% --year 2023 >/dev/null
tech=$("$bin" add "$work/sample.observatory" technology --name "GaN power amplifiers (sample)" --area semiconductors --domains defence,space --classification restricted)
"$bin" add "$work/sample.observatory" assessment --subject-id "$tech" --date 2026-06-30 --trl 5 --criticality 8.2 --supply-risk 3.9 --eu-position lagging >/dev/null
quantum=$("$bin" list "$work/sample.observatory" technology --format json | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin)["records"] if r["name"]=="Quantum computing"][0])')
"$bin" add "$work/sample.observatory" assessment --subject-id "$quantum" --date 2026-06-30 --trl 4 --criticality 6.5 --supply-risk 1.2 >/dev/null
Xvfb :77 -screen 0 1366x768x24 >/dev/null 2>&1 & xvfb=$!
sleep 1
export DISPLAY=:77 OBSERVATORY_FILE="$work/sample.observatory" XDG_CONFIG_HOME="$work/config"
"$bin" >"$work/app.log" 2>&1 & app=$!
sleep 3
import -window root "$out/welcome.png"
# Unlock: focus the window (no window manager here), click the passphrase field, type, Enter.
win=$(xdotool search --name Observatory | head -1)
xdotool windowfocus --sync "$win" || true
xdotool mousemove 200 205 click 1
sleep 0.3
xdotool type --delay 20 "sample passphrase"
xdotool key Return
sleep 4
import -window root "$out/technologies.png"
# Open the sample technology in the editor: search, then click the first row.
xdotool mousemove 400 105 click 1
sleep 0.3
xdotool type --delay 20 "sample"
sleep 1
xdotool mousemove 500 161 click 1
sleep 1.5
import -window root "$out/editor.png"
xdotool key Escape
sleep 0.5
xdotool mousemove 55 49 click 1
sleep 1.5
import -window root "$out/dashboard.png"
# Lock, then open the built-in demo from the welcome screen and shoot every view.
xdotool mousemove 155 611 click 1
sleep 1.5
xdotool mousemove 105 418 click 1
sleep 15
shoot() { xdotool mousemove "$2" "$3" click 1; sleep 1.2; import -window root "$out/$1.png"; }
shoot demo-dashboard 55 49
shoot demo-technologies 62 78
shoot demo-items 40 123
shoot demo-organisations 64 152
shoot demo-links 38 181
shoot demo-graph 65 210
shoot demo-timeline 48 239
shoot demo-priorities 58 268
# The register as it stood on a past date: type it into "As of", Enter.
xdotool mousemove 267 49 click 1
sleep 0.3
xdotool type --delay 20 "2024-06-30"
xdotool key Return
sleep 1.5
import -window root "$out/demo-timeline-as-of-2024.png"
shoot demo-items-as-of-2024 40 123
xdotool mousemove 726 53 click 1   # Back to today
sleep 1
# The Reports view with the outline of the demo's report.
xdotool mousemove 45 297 click 1
sleep 1
shoot demo-reports 238 331
shoot demo-assessments 61 338
shoot demo-measures 51 367
shoot demo-sources 46 396
shoot demo-events 43 425
shoot demo-members 48 454
shoot demo-exchange 50 483
shoot demo-consultation 58 512
shoot demo-audit 50 541
shoot demo-items 40 123
shoot demo-item-editor 500 161
xdotool key Escape
shoot demo-import 64 582
xdotool mousemove 1246 57 click 1
sleep 0.5
shoot demo-help 116 652
echo "wrote $(ls "$out"/*.png | tr '\n' ' ')"
