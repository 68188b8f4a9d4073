#!/usr/bin/env bash
# The llmlab demo, on the embedded model (local/smollm2), fully offline.
# Run it with `make demo` (which sets up .venv first).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PATH="$VENV/bin:$PATH"
export LLMLAB_MODEL=${LLMLAB_MODEL:-local/smollm2}
demo=examples/demo
suite=src/llmlab/evals/examples/capitals/suite.yaml
since=$(date -u +%Y-%m-%dT%H:%M:%S)

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "1. A few calls to the embedded model, each recorded with tokens, cost and latency" \
    llmlab run "Say hello to a new llmlab user in one sentence." --max-tokens 40
llmlab run "Name three colours." --max-tokens 30 >/dev/null
llmlab run "What is 2 + 2?" --system "Answer with a number only." --max-tokens 8 >/dev/null
step "   ... and what was recorded" llmlab monitor calls --limit 5

step "2. An eval suite with 3 trials per case: pass rate, intervals, consistency" \
    llmlab eval run "$suite" --epochs 3 --markdown .llmlab/demo-report.md || true
step "   ... its report, case by case (failed cases only)" llmlab eval show latest --failed

step "3. Two versions of a prompt: one from a file, one added by hand" \
    llmlab prompts push "$demo/prompts"
llmlab prompts add capital -m "ask for the city only" \
    --template "What is the capital of {{ country }}? Answer with the name of the city only."
step "   ... the difference between them" llmlab prompts diff capital 1 2
step "   ... compared on the same cases with a paired test; promoted only if significantly better" \
    llmlab prompts compare capital 1 2 --suite "$suite" --promote production || true
step "   ... where the labels point now" llmlab prompts show capital

step "4. Stats over everything the demo just did" llmlab monitor stats --since "$since" --by model

step "5. Learn by doing: graded, hands-on labs on the same machinery" llmlab labs
printf '\n\033[1mNext:\033[0m start the first lab, then edit the file it names and check it:\n'
printf '  llmlab labs start 1\n  llmlab labs check 1\n'
