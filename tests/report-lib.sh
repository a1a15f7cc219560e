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

# golden NAME ARGS...: `report ARGS`, run in the scratch directory (so file
# names are short and stable), prints exactly tests/golden/NAME, exit 0.
# UPDATE_GOLDEN=1 (tests/regen-golden) writes the file instead.
golden() {
	local name=$1 expected=tests/golden/$1 actual=$SCRATCH/golden.out rc
	shift
	(cd "$SCRATCH" && TZ=$TEST_TZ "$report" "$@") > "$actual" 2> "$SCRATCH/golden.err"
	rc=$?
	[ -n "${UPDATE_GOLDEN:-}" ] && cp "$actual" "$expected"
	if [ $rc != 0 ]; then
		fail "golden $name" "status $rc: $(head -c 300 "$SCRATCH/golden.err")"
	elif [ ! -f "$expected" ]; then
		fail "golden $name" "no $expected (UPDATE_GOLDEN=1 writes it; review it by hand)"
	elif cmp -s "$expected" "$actual"; then
		pass "golden $name"
	else
		fail "golden $name" "differs: $(diff "$expected" "$actual" | head -6 | tr '\n' ' ')"
	fi
}
