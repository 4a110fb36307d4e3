#!/usr/bin/env bash
# Validates docker-compose.yml (and the Compose files it would merge) with the Compose CLI, when there is one.
# CI calls this; on a machine without a Compose CLI it says so and succeeds.
#   docker compose (v2+ plugin)  -> `docker compose config -q`
#   docker-compose (standalone)  -> `docker-compose config -q`
# No Docker engine is needed: `config` only parses, interpolates and checks the model.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  echo "skipped: no docker compose CLI"
  exit 0
fi

echo "compose: $("${compose[@]}" version 2>/dev/null | head -n1)"
"${compose[@]}" -f docker-compose.yml config -q
# With every profile on, so the pipeline services are checked too.
"${compose[@]}" -f docker-compose.yml --profile services config -q
echo "docker-compose.yml: valid"
