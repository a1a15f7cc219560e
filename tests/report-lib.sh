# Shared by the report test files (after lib.sh): fixtures loaded into
# databases in the scratch directory, and report's path from anywhere.

report=$PWD/$REPORT

# A time zone of its own (POSIX TZ, no tzdata needed): --local shows +05:30.
TEST_TZ=IST-5:30

# load_fixtures NAME...: fixtures/NAME.sql as $SCRATCH/NAME.db
load_fixtures() {
	for name in "$@"; do
		sqlite3 -batch "$SCRATCH/$name.db" < "fixtures/$name.sql" ||
			fail "load fixture $name" "sqlite3 failed"
	done
}

# run_report ARGS...: report in the scratch directory; stdout, stderr and the
# status in $SCRATCH/out, $SCRATCH/err and $rc
run_report() {
	(cd "$SCRATCH" && TZ=$TEST_TZ "$report" "$@") > "$SCRATCH/out" 2> "$SCRATCH/err"
	rc=$?
}

# refused NAME ARGS...: report refuses with one line on stderr, a non-zero
# status and nothing on stdout
refused() {
	local name=$1 lines
	shift
	run_report "$@"
	lines=$(wc -l < "$SCRATCH/err")
	if [ "$rc" != 0 ] && [ "$lines" == 1 ] && [ ! -s "$SCRATCH/out" ]; then
		pass "$name"
	else
		fail "$name" "status $rc, $lines line(s) on stderr: $(head -c 300 "$SCRATCH/err" | tr '\n' ' '), stdout: $(head -c 100 "$SCRATCH/out")"
	fi
}

# without_proc_sys ARGS...: report ARGS in the scratch directory with an empty
# tmpfs over /proc and over /sys, in a mount namespace of its own: nothing of
# the analysis machine's kernel to read.  Not for a sanitizer build: its
# runtime, not report, reads /proc/self/maps at start.
without_proc_sys() {
	local mount=(unshare --mount)
	[ "$(id -u)" = 0 ] || mount=(unshare --user --map-root-user --mount)
	(cd "$SCRATCH" && "${mount[@]}" sh -c 'mount -t tmpfs none /proc && mount -t tmpfs none /sys && exec "$@"' \
		sh "$report" "$@")
}
