# The frame of tests/deploy's scripts, sourced first by each (as
# `. "$(dirname -- "$0")/lib.sh"`, after setting test_name, the word its
# last line starts with): it goes to the checkout's root and loads
# tests/lib/stack.sh, then gives the checks: one "ok N - what" or
# "not ok N - what" line each, counted, and finish, the last line
# "<test_name>: N passed, M failed", false when any check failed.
: "${test_name:?set test_name before sourcing tests/deploy/lib.sh}"
root=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
cd "$root" || exit 1
. "$root/tests/lib/stack.sh"

pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'ok %d - %s\n' "$((pass + fail))" "$1"; }
nok() { fail=$((fail + 1)); printf 'not ok %d - %s\n' "$((pass + fail))" "$1"; }
check() { # description command...
	desc=$1
	shift
	if "$@"; then ok "$desc"; else nok "$desc"; return 1; fi
}
# Runs a command until it succeeds, every 0.1 s, at most tries times: a
# guard against a hang, not a bound on how fast the machine is.
eventually() { # tries command...
	et=$1
	shift
	ei=0
	until "$@"; do
		ei=$((ei + 1))
		[ "$ei" -ge "$et" ] && return 1
		sleep 0.1
	done
}
# Runs a command with its output into a file (not the check's own line).
logged() { # file command...
	lf=$1
	shift
	"$@" >"$lf" 2>&1
}
finish() {
	echo "$test_name: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
