#!/bin/sh
# make fuzz: for each libFuzzer target, replays the inputs that once broke
# it (tests/fuzz/regressions/<name>/), then fuzzes it for SECONDS on a
# scratch copy of its seed corpus (tests/fuzz/corpus/<name>/), so the
# committed corpus never grows. A crash, a leak, a broken property or a
# timeout fails the target, and its input is copied into
# tests/fuzz/regressions/<name>/ to be replayed by every later run.
# The dictionary is tests/fuzz/<name>.dict, else tests/fuzz/json.dict.
# Usage: tests/fuzz/run.sh BIN_DIR SECONDS NAME...
# FUZZ_KEEP=1 keeps the scratch corpora (their paths are printed).
set -u
bindir=$1
seconds=$2
shift 2
root=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
passed=0
failed=0
failed_names=""
scratch=$(mktemp -d /tmp/payd-fuzz.XXXXXX)
cleanup() {
	if [ "${FUZZ_KEEP:-0}" = 1 ]; then
		echo "fuzz: kept $scratch"
	else
		rm -rf "$scratch"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Options for every run: a slow input (10 s) or one over 2 GiB is a
# failure too; no input longer than a request body.
opts="-timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

for name in "$@"; do
	bin=$bindir/fuzz_$name
	corpus=$root/corpus/$name
	regress=$root/regressions/$name
	work=$scratch/$name
	dict=""
	if [ -f "$root/$name.dict" ]; then
		dict="-dict=$root/$name.dict"
	else
		dict="-dict=$root/json.dict"
	fi
	mkdir -p "$work/corpus" "$work/artifacts"
	[ -d "$corpus" ] && cp "$corpus"/* "$work/corpus/" 2>/dev/null
	ok=1

	# The inputs that broke this target before: each must pass now.
	if [ -d "$regress" ] && [ -n "$(ls -A "$regress" 2>/dev/null)" ]; then
		if ! "$bin" $opts "$regress"/* >"$work/replay.log" 2>&1; then
			echo "fuzz: $name: a regression input fails again:"
			grep -E "property broken|ERROR:|runtime error|Running:" \
			    "$work/replay.log" | tail -20
			ok=0
		fi
	fi

	if [ "$ok" = 1 ]; then
		start=$(date +%s)
		# shellcheck disable=SC2086
		"$bin" $opts $dict -max_total_time="$seconds" \
		    -artifact_prefix="$work/artifacts/" "$work/corpus" \
		    >"$work/fuzz.log" 2>&1
		rc=$?
		took=$(( $(date +%s) - start ))
		runs=$(grep -Eo '^#[0-9]+' "$work/fuzz.log" | tail -1)
		cov=$(grep -Eo 'cov: [0-9]+' "$work/fuzz.log" | tail -1)
		if [ "$rc" -ne 0 ]; then
			ok=0
			echo "fuzz: $name: failed after ${took}s (exit $rc):"
			grep -E "property broken|ERROR:|SUMMARY|runtime error" \
			    "$work/fuzz.log" | head -20
			mkdir -p "$regress"
			for a in "$work/artifacts"/*; do
				[ -f "$a" ] || continue
				cp "$a" "$regress/"
				echo "fuzz: $name: input kept as" \
				    "tests/fuzz/regressions/$name/$(basename "$a")"
			done
		else
			echo "fuzz: $name: ok, ${runs#\#} runs in ${took}s," \
			    "$cov, corpus $(ls "$work/corpus" | wc -l) inputs"
		fi
	fi
	if [ "$ok" = 1 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		echo "--- tail of $name's log ---"
		tail -30 "$work/fuzz.log" 2>/dev/null ||
		    tail -30 "$work/replay.log"
	fi
done
[ "$failed" -eq 0 ] || echo "fuzz: failed:$failed_names"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
