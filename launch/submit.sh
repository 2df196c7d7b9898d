#!/usr/bin/env bash
# Submit a recipe to a running Ray cluster as a Ray job (`ray job submit`, the working dir uploaded):
#
#   launch/submit.sh recipes/svg_rlrf.yaml trainer.total_epochs=2
#   launch/submit.sh recipes/svg_rlrf.yaml --dry-run             # print the exact command, submit nothing
#   launch/submit.sh --no-wait --run-dir /shared/runs/svg-1 recipes/svg_rlrf.yaml
#   launch/submit.sh --run-dir /shared/runs/svg-1 recipes/svg_rlrf.yaml   # again: resumes that run
#
# Flags may come anywhere; everything else is the recipe, then Hydra overrides (an argument after `--` is
# always an override):
#   --dry-run              print the command and exit
#   --no-wait              return once the job is submitted (prints its id); follow it with
#                          `ray job logs --follow ID`, `ray job status ID`, `ray job stop ID`
#   --run-dir DIR          the run folder on the cluster (storage every trainer node mounts); submitting again
#                          with the same DIR resumes from its last checkpoint
#   --submission-id ID     the job's id (default: Ray picks one)
#
# Environment (every path and setting overridable):
#   RAY_ADDRESS     the cluster's dashboard address             (default http://127.0.0.1:8265)
#   RAY             the `ray` executable                         (default: the repository's .venv/bin/ray, else
#                                                                 `ray` on PATH; no venv activation needed)
#   RUNTIME_ENV     runtime_env YAML for the job                 (default launch/runtime_env.yaml)
#   WORKING_DIR     directory uploaded as the job's working dir  (default: the repository root)
#   VINCI_RL        command that runs vinci-rl on the cluster    (default: vinci-rl)
#   DEVICE          auto | cpu | gpu, passed to `vinci-rl train` (default gpu)
#   RUN_DIR         same as --run-dir
#   SUBMIT_ARGS     extra arguments for `ray job submit`, e.g. "--entrypoint-num-cpus 1"
#   RAY_AUTH_TOKEN_PATH / RAY_AUTH_TOKEN   the cluster's token when it uses token authentication (Ray 2.60 does
#                                          when a token exists at its head); token mode is then switched on
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: launch/submit.sh [--dry-run] [--no-wait] [--run-dir DIR] [--submission-id ID] RECIPE [overrides ...]" >&2; exit 2; }

DRY_RUN=0
WAIT_ARGS=()
JOB_ID_ARGS=()
RUN_DIR=${RUN_DIR:-}
POSITIONAL=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --no-wait) WAIT_ARGS=(--no-wait) ;;
    --run-dir) [ $# -ge 2 ] || usage; RUN_DIR=$2; shift ;;
    --run-dir=*) RUN_DIR=${1#--run-dir=} ;;
    --submission-id) [ $# -ge 2 ] || usage; JOB_ID_ARGS=(--submission-id "$2"); shift ;;
    --submission-id=*) JOB_ID_ARGS=(--submission-id "${1#--submission-id=}") ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    --) shift; POSITIONAL+=("$@"); break ;;
    --*) echo "launch/submit.sh: unknown flag $1" >&2; usage ;;
    *) POSITIONAL+=("$1") ;;
  esac
  shift
done
[ ${#POSITIONAL[@]} -ge 1 ] || usage
RECIPE=${POSITIONAL[0]}
OVERRIDES=("${POSITIONAL[@]:1}")

RAY_ADDRESS=${RAY_ADDRESS:-http://127.0.0.1:8265}
RUNTIME_ENV=${RUNTIME_ENV:-$HERE/runtime_env.yaml}
WORKING_DIR=${WORKING_DIR:-$(cd "$HERE/.." && pwd)}
VINCI_RL=${VINCI_RL:-vinci-rl}
DEVICE=${DEVICE:-gpu}
if [ -z "${RAY:-}" ]; then
  if [ -x "$HERE/../.venv/bin/ray" ]; then RAY=$(cd "$HERE/.." && pwd)/.venv/bin/ray
  elif command -v ray >/dev/null; then RAY=$(command -v ray)
  else echo "launch/submit.sh: no ray executable: install the repository (make install) or set RAY=/path/to/ray" >&2; exit 2
  fi
fi
for f in "$RECIPE" "$RUNTIME_ENV"; do
  [ -f "$f" ] || { echo "launch/submit.sh: $f does not exist" >&2; exit 2; }
done
[ -d "$WORKING_DIR" ] || { echo "launch/submit.sh: WORKING_DIR $WORKING_DIR is not a directory" >&2; exit 2; }
# The recipe path as the job sees it: relative to the uploaded working dir.
RECIPE_IN_JOB=$(realpath --relative-to="$WORKING_DIR" "$RECIPE")
case "$RECIPE_IN_JOB" in ../*) echo "launch/submit.sh: $RECIPE is outside WORKING_DIR $WORKING_DIR (it would not be uploaded)" >&2; exit 2 ;; esac
RUN_DIR_ARGS=()
if [ -n "$RUN_DIR" ]; then
  case "$RUN_DIR" in /*|~*) ;; *) echo "launch/submit.sh: --run-dir $RUN_DIR must be an absolute path on the cluster (the job's working dir is a temporary copy)" >&2; exit 2 ;; esac
  RUN_DIR_ARGS=(--run-dir "$RUN_DIR")
fi
# A token given explicitly means token mode (Ray itself only switches it on for a local cluster it finds).
if [ -z "${RAY_AUTH_MODE:-}" ] && { [ -n "${RAY_AUTH_TOKEN:-}" ] || [ -n "${RAY_AUTH_TOKEN_PATH:-}" ]; }; then
  export RAY_AUTH_MODE=token
  echo "launch/submit.sh: token authentication on (RAY_AUTH_MODE=token, token from ${RAY_AUTH_TOKEN_PATH:-RAY_AUTH_TOKEN})" >&2
fi

# shellcheck disable=SC2206
CMD=("$RAY" job submit --address "$RAY_ADDRESS" --runtime-env "$RUNTIME_ENV" --working-dir "$WORKING_DIR"
  "${WAIT_ARGS[@]}" "${JOB_ID_ARGS[@]}" ${SUBMIT_ARGS:-}
  -- $VINCI_RL train "$RECIPE_IN_JOB" --address auto --device "$DEVICE" "${RUN_DIR_ARGS[@]}" "${OVERRIDES[@]}")
if [ "$DRY_RUN" = 1 ]; then
  printf '%q ' "${CMD[@]}"; echo
  exit 0
fi
set -x
exec "${CMD[@]}"
