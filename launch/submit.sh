#!/usr/bin/env bash
# Submit a recipe to a running Ray cluster as a Ray job:
#
#   launch/submit.sh recipes/svg_rlrf.yaml trainer.total_epochs=2
#   launch/submit.sh --dry-run recipes/svg_rlrf.yaml        # print the exact command, submit nothing
#
# Every path and setting can be overridden by an environment variable:
#   RAY_ADDRESS     the cluster's dashboard address             (default http://127.0.0.1:8265)
#   RUNTIME_ENV     runtime_env YAML for the job                 (default launch/runtime_env.yaml)
#   WORKING_DIR     directory uploaded as the job's working dir  (default: the repository root)
#   VINCI_RL        command that runs vinci-rl on the cluster    (default: vinci-rl)
#   DEVICE          auto | cpu | gpu, passed to `vinci-rl train` (default gpu)
#   SUBMIT_ARGS     extra arguments for `ray job submit`, e.g. "--no-wait"
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DRY_RUN=0
if [ "${1:-}" = "--dry-run" ]; then DRY_RUN=1; shift; fi
if [ $# -lt 1 ]; then
  echo "usage: launch/submit.sh [--dry-run] RECIPE [hydra overrides ...]" >&2
  exit 2
fi
RECIPE=$1; shift
RAY_ADDRESS=${RAY_ADDRESS:-http://127.0.0.1:8265}
RUNTIME_ENV=${RUNTIME_ENV:-$HERE/runtime_env.yaml}
WORKING_DIR=${WORKING_DIR:-$(cd "$HERE/.." && pwd)}
VINCI_RL=${VINCI_RL:-vinci-rl}
DEVICE=${DEVICE:-gpu}
for f in "$RECIPE" "$RUNTIME_ENV"; do
  [ -f "$f" ] || { echo "launch/submit.sh: $f does not exist" >&2; exit 2; }
done
[ -d "$WORKING_DIR" ] || { echo "launch/submit.sh: WORKING_DIR $WORKING_DIR is not a directory" >&2; exit 2; }
# The recipe path as the job sees it: relative to the uploaded working dir.
RECIPE_IN_JOB=$(realpath --relative-to="$WORKING_DIR" "$RECIPE")

# shellcheck disable=SC2206
CMD=(ray job submit --address "$RAY_ADDRESS" --runtime-env "$RUNTIME_ENV" --working-dir "$WORKING_DIR" ${SUBMIT_ARGS:-}
  -- "$VINCI_RL" train "$RECIPE_IN_JOB" --address auto --device "$DEVICE" "$@")
if [ "$DRY_RUN" = 1 ]; then
  printf '%q ' "${CMD[@]}"; echo
  exit 0
fi
set -x
exec "${CMD[@]}"
