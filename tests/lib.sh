# Shared by the test files: assertions, a scratch directory, and record control.
# A test file runs as its own bash process; each assertion appends one line to
# $RESULTS ("PASS build: name", "FAIL build: name: why" or "SKIP build: name:
# why"), which tests/run tallies, and prints it in TAP's form, numbered by the
# lines of $RESULTS (a file of this test file's own: assertions made in
# subshells count too).

# shellcheck disable=SC2034 # REPORT, HELPERS, RECORD_RC...: for the test files
set -u
BUILD=${BUILD:-build}
RECORD="$BUILD/record"
REPORT="$BUILD/report"
HELPERS="$BUILD/tests"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/casefile-test.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

# result LINE TAP: append LINE to $RESULTS, print "TAP" with its number
result() {
	echo "$1" >> "$RESULTS"
	printf '%s\n' "${2/ N / $(wc -l < "$RESULTS") }"
}
pass() { result "PASS $BUILD: $1" "ok N - $1"; }
fail() { result "FAIL $BUILD: $1: $2" "not ok N - $1: $2"; }
# skip NAME WHY: a test not run here, counted and shown with its reason
skip() { result "SKIP $BUILD: $1: $2" "ok N - $1 # SKIP $2"; }

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

# check NAME COMMAND...: passes when the command succeeds
check() {
	local name=$1
	shift
	if "$@" > "$SCRATCH/check.out" 2>&1; then
		pass "$name"
	else
		fail "$name" "'$*' failed: $(head -c 300 "$SCRATCH/check.out" | tr '\n' ' ')"
	fi
}

# check_match NAME REGEX TEXT
check_match() {
	if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1" "'$3' does not match /$2/"; fi
}

# sql DB QUERY: one value (or lines), separated by |
sql() { sqlite3 -batch "$1" "$2"; }

# once_per_run NAME WHAT: for a file whose checks no build changes (WHAT they
# test instead): they run with tests/run's first build, and each other build
# skips them, saying so.  Fails (returns 1) in those others: `|| exit 0`.
once_per_run() {
	local first=${BUILDS:-build}
	first=${first%% *}
	[ "$BUILD" == "$first" ] && return 0
	skip "$1" "$2, not $BUILD: run once, with $first"
	return 1
}

# kept KEY COMMAND...: COMMAND's output (stdout and stderr), made once in a
# run of tests/run and kept in RUN_SHARED for its other builds.  KEY says
# everything the output depends on (the words, the inputs' contents: see
# contents): for what no build changes, such as a reference to compare with.
# A command that fails is not kept: its output is shown, the next build
# runs it again.
kept() {
	local key=$1 file
	shift
	[ -n "${RUN_SHARED:-}" ] || {
		"$@" 2>&1
		return
	}
	file=$RUN_SHARED/kept-$(printf '%s' "$key" | sha1sum | cut -c1-20)
	[ -f "$file" ] || { "$@" > "$file.$BASHPID" 2>&1 && mv "$file.$BASHPID" "$file"; }
	cat "$file" 2> /dev/null || { cat "$file.$BASHPID" && rm -f "$file.$BASHPID"; }
}

# contents FILE...: the files' SHA-1s, one line (a key for kept)
contents() { sha1sum "$@" | cut -c1-40 | tr '\n' ' '; }

needs_root() {
	if [ "$(id -u)" != 0 ]; then
		fail "$1" "needs root (loads BPF programs)"
		return 1
	fi
}

# start_record DB [record options...]: start recording, wait until attached.
# Sets RECORD_PID and RECORD_ERR.
start_record() {
	local db=$1
	shift
	RECORD_ERR="$db.stderr"
	"$RECORD" -o "$db" -q "$@" 2> "$RECORD_ERR" &
	RECORD_PID=$!
	for _ in $(seq 200); do
		grep -q "^record: recording" "$RECORD_ERR" 2> /dev/null && return 0
		kill -0 "$RECORD_PID" 2> /dev/null || break
		sleep 0.05
	done
	echo "record did not start: $(cat "$RECORD_ERR")" >&2
	return 1
}

# stop_record [SIGNAL]: stop it and wait; sets RECORD_RC.
stop_record() {
	kill -"${1:-INT}" "$RECORD_PID" 2> /dev/null
	wait "$RECORD_PID"
	RECORD_RC=$?
}

# wait_privileges_dropped PID: until every thread of record set no_new_privs
# (it drops its capabilities after the work that needs them, past attaching)
wait_privileges_dropped() {
	for _ in $(seq 200); do
		grep -q "NoNewPrivs:	0" /proc/"$1"/task/*/status 2> /dev/null || return 0
		sleep 0.05
	done
}

# A uid of this test run's own, so that -u keeps out what others on the machine do.
test_uid=$((60000 + $$ % 5000))

# value KEY LINE: the value of key=value in a helper's output line
value() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<< "$2"; }
