#!/usr/bin/env bash
# Rasterises assets/packaging/icons/observatory.svg to the PNG sizes the package installs
# (hicolor theme) and the app uses as its window icon. Needs rsvg-convert (librsvg2-bin).
# The PNGs are committed: rerun this only after changing the SVG.
set -euo pipefail
cd "$(dirname "$0")/icons"
for size in 16 24 32 48 64 128 256 512; do
  rsvg-convert -w "$size" -h "$size" observatory.svg -o "observatory-$size.png"
done
