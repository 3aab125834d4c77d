#!/usr/bin/env bash
# Mutation score of the modules that decide who is paged: states, routing, delivery, uptime,
# percentiles and response parsing. Each module is mutated on its own, in a copy of the working
# tree under mutants/ (kept out of git), with only the fast tests that cover it, so a surviving
# mutant names a behaviour those tests do not pin down.
#
#   bash bench/mutation.sh              every module, then the table
#   bash bench/mutation.sh routing      only the modules whose name contains "routing"
#
# MUTATION_MAX_CHILDREN (default 2): mutmut's parallel test runs; the machine is shared.
# Equivalent mutants (no test can tell them apart from the original) are listed, one a line, in
# bench/mutation_equivalents.md and left out of the score.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="$repo/.venv/bin/python"
work_root="$repo/mutants"
equivalents="$repo/bench/mutation_equivalents.md"
max_children="${MUTATION_MAX_CHILDREN:-2}"
only="${1:-}"

# name | files to mutate (globs, space-separated) | tests that cover them (space-separated)
modules=(
  "decide|domain/decide.py|tests/test_decide.py tests/test_decide_snapshots.py"
  "uptime|analytics/uptime.py|tests/test_uptime_math.py tests/test_uptime_edges.py"
  "histogram|analytics/histogram.py analytics/histogram_codec.py analytics/histogram_blobs.py|tests/test_histogram.py tests/test_histogram_serialized.py tests/test_histogram_edges.py"
  "routing|alerting/routing.py|tests/test_routing.py tests/test_alert_policy.py"
  "delivery|storage/alerting.py storage/deliveries.py|tests/test_delivery_protocol.py tests/test_delivery_order.py"
  "http_response|checks/http_response.py|tests/test_http_response.py"
)

if ! "$python" -c 'import mutmut, sys; v = tuple(int(p) for p in mutmut.__version__.split(".")[:2]); sys.exit(v < (3, 8))' 2>/dev/null; then
  echo "installing mutmut (a bench tool, not a dependency of Upwatch)" >&2
  "$python" -m pip install --quiet 'mutmut>=3.8'
fi

# Every package the tests import is copied; only the module under test is mutated.
source_paths=()
for entry in "$repo"/*/__init__.py; do
  source_paths+=("$(basename "$(dirname "$entry")")")
done
source_paths+=(app.py router.py)

copy_tree() {  # the working tree as it is now (tracked and new files, not ignored ones)
  local target="$1"
  mkdir -p "$target"
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard -- . ':!:mutants' \
    | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' \
    | tar --null -T - -cf -) | (cd "$target" && tar -xf -)
}

write_config() {  # setup.cfg of the copy: the repository's own pyproject has no [tool.mutmut]
  local target="$1" mutate="$2" tests="$3"
  {
    echo "[mutmut]"
    echo "source_paths="
    printf '    %s\n' "${source_paths[@]}"
    echo "only_mutate="
    for path in $mutate; do printf '    %s\n' "$path"; done
    echo "also_copy="
    printf '    %s\n' alembic.ini .streamlit migrations
    echo "pytest_add_cli_args_test_selection="
    for path in $tests; do printf '    %s\n' "$path"; done
    echo "pytest_add_cli_args="
    printf '    %s\n' -q -p no:cacheprovider -p no:randomly
  } >"$target/setup.cfg"
}

rows=()
for spec in "${modules[@]}"; do
  IFS='|' read -r name mutate tests <<<"$spec"
  if [[ -n "$only" && "$name" != *"$only"* ]]; then
    continue
  fi
  target="$work_root/$name"
  echo "== $name: mutating $mutate with $tests" >&2
  # mutmut keeps each mutant's verdict and re-runs only mutants whose source changed: a fresh
  # start, so changed tests are measured too.
  rm -rf "$target/mutants"
  copy_tree "$target"
  write_config "$target" "$mutate" "$tests"
  (cd "$target" && "$repo/.venv/bin/mutmut" run --max-children "$max_children" >"$target/run.log" 2>&1) \
    || { echo "mutmut failed for $name, see $target/run.log" >&2; tail -20 "$target/run.log" >&2; continue; }
  (cd "$target" && "$repo/.venv/bin/mutmut" results --all true >"$target/results.txt")
  row="$("$python" - "$name" "$target/results.txt" "$equivalents" <<'PY'
import re
import sys

name, results_file, equivalents_file = sys.argv[1:]
statuses = {}
for line in open(results_file, encoding="utf-8"):
    key, _, status = line.strip().rpartition(": ")
    if key:
        statuses[key] = status
listed = set(re.findall(r"`([\w.]+__mutmut_\d+)`", open(equivalents_file, encoding="utf-8").read()))
equivalent = {key for key in statuses if key in listed and statuses[key] != "killed"}
killed = sum(1 for key, status in statuses.items() if status in ("killed", "timeout"))
scored = len(statuses) - len(equivalent)
score = 100.0 * killed / scored if scored else 0.0
print(f"{name} | {len(statuses)} | {killed} | {len(equivalent)} | {score:.1f} %")
survivors = sorted(k for k, s in statuses.items() if s not in ("killed", "timeout") and k not in equivalent)
with open(results_file.replace("results.txt", "survivors.txt"), "w", encoding="utf-8") as out:
    out.writelines(f"{k}: {statuses[k]}\n" for k in survivors)
PY
)"
  rows+=("$row")
  echo "$row   (survivors: mutants/$name/survivors.txt; diff: cd mutants/$name && mutmut show NAME)" >&2
done

echo
echo "module | mutants | killed+timeout | equivalent | score"
echo "---|---|---|---|---"
printf '%s\n' "${rows[@]}"
