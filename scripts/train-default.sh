#!/usr/bin/env bash
# Retrains models/default the one way every model is trained: a live recording of the simulated
# board (300 s, no model, so nothing the old model did is in it) through `reflex train`
# (docs/training.md). Seeded, so the same recording gives the same weights.
set -euo pipefail
cd "$(dirname "$0")/.."
rec=${1:-$(mktemp -d)/sim-300s.xdf}
bin/reflex run --board sim --no-model --duration 300 --record "$rec" --quiet
bin/reflex train "$rec" --out models/default --force --seed 1 --epochs 12
echo "models/default retrained from $rec"
