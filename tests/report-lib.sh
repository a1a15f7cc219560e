# Shared by the report test files (after lib.sh): fixtures loaded into
# databases in the scratch directory, and report's path from anywhere.

# shellcheck disable=SC2153 # lib.sh's
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
# UPDATE_GOLDEN=1 (tests/regen-golden) writes the file instead.  Printing
# nothing fails: such a golden test could not fail (after the fixtures are
# re-recorded, a pid written in the arguments would select nothing: ask the
# fixture instead, with q and the time helpers below).
golden() {
	local name=$1 expected=tests/golden/$1 actual=$SCRATCH/golden.out rc
	shift
	(cd "$SCRATCH" && TZ=$TEST_TZ "$report" "$@") > "$actual" 2> "$SCRATCH/golden.err"
	rc=$?
	[ -n "${UPDATE_GOLDEN:-}" ] && [ -s "$actual" ] && cp "$actual" "$expected"
	if [ $rc != 0 ]; then
		fail "golden $name" "status $rc: $(head -c 300 "$SCRATCH/golden.err")"
	elif [ ! -s "$actual" ]; then
		fail "golden $name" "report printed nothing: a golden test that cannot fail"
	elif [ ! -f "$expected" ]; then
		fail "golden $name" "no $expected (UPDATE_GOLDEN=1 writes it; review it by hand)"
	elif cmp -s "$expected" "$actual"; then
		pass "golden $name"
	else
		fail "golden $name" "differs: $(diff "$expected" "$actual" | head -6 | tr '\n' ' ')"
	fi
}

# --- What a golden test's arguments may ask of the loaded fixtures -------------------
# Views besides the schema's (temporary: the fixture is not changed): the
# connects their client reset (traffic abort), as tcpconnect shows them.
fixture_views="CREATE TEMP VIEW reset_by_client AS SELECT c.* FROM tcpconnect c
	JOIN tcpreset r ON r.lport = c.lport AND r.rport = c.dport AND r.laddr = c.saddr;"

# q FIXTURE SQL: the query's value on $SCRATCH/FIXTURE.db, rows joined by
# commas; nothing found fails, on stderr and in the results.
q() {
	local value
	value=$(sqlite3 -batch "$SCRATCH/$1.db" "$fixture_views $2" | paste -sd,)
	if [ -z "$value" ] || [ "$value" == "," ]; then
		fail "q $1" "nothing found: $2"
		echo "q $1: nothing found: $2" >&2
		return 1
	fi
	echo "$value"
}

# Unix nanoseconds as the forms --since and --until take.
split_ns() { printf '%s %s' "$(($1 / 1000000000))" "$(printf '%09d' $(($1 % 1000000000)))"; }
rfc3339() { # NS [+HH:MM]: 2026-11-23T01:26:59.320000000Z, or in that offset
	local s f sign h m
	read -r s f <<< "$(split_ns "$1")"
	if [ -z "${2:-}" ]; then
		echo "$(date -u -d "@$s" +%Y-%m-%dT%H:%M:%S).${f}Z"
	else
		sign=${2:0:1} h=${2:1:2} m=${2:4:2}
		if [ "$sign" == - ]; then
			s=$((s - (10#$h * 3600 + 10#$m * 60)))
		else
			s=$((s + 10#$h * 3600 + 10#$m * 60))
		fi
		echo "$(date -u -d "@$s" +%Y-%m-%dT%H:%M:%S).$f$2"
	fi
}
datetime() { # NS: "2026-11-23 01:26:59.320000000" (UTC)
	local s f
	read -r s f <<< "$(split_ns "$1")"
	echo "$(date -u -d "@$s" '+%Y-%m-%d %H:%M:%S').$f"
}
clock() { # NS [local]: 01:26:59.320000000, UTC or in $TEST_TZ
	local s f
	read -r s f <<< "$(split_ns "$1")"
	if [ "${2:-}" == local ]; then
		echo "$(TZ=$TEST_TZ date -d "@$s" +%H:%M:%S).$f"
	else
		echo "$(date -u -d "@$s" +%H:%M:%S).$f"
	fi
}
epoch() { # NS: @1795397219.320000000
	local s f
	read -r s f <<< "$(split_ns "$1")"
	echo "@$s.$f"
}
since() { # FIXTURE SQL UNIT: the query's wall_ns as +N UNIT (ns, us, ms) after the capture started
	local ns start
	ns=$(q "$1" "$2") && start=$(q "$1" "select started_at_ns from capture") || return 1
	case $3 in
	ns) echo "+$((ns - start))ns" ;;
	us) echo "+$(((ns - start) / 1000))us" ;;
	ms) echo "+$(((ns - start) / 1000000))ms" ;;
	esac
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
