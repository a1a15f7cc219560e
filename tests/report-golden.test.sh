# report: every subcommand, option, filter and format against golden output,
# over captures recorded for real (fixtures/).  No root needed.
#
# The tests are the lines of tests/golden.list; tests/golden/NAME holds each
# one's expected output.  tests/regen-golden rewrites them all from the
# current fixtures (UPDATE_GOLDEN=1 here); review the diff by hand (sqlite3 on
# the schema's views), as tests/report-oracle.test.sh does in SQL.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

list=tests/golden.list

# --- What a line may ask of the fixtures (see the top of tests/golden.list) ---

# Views the lines may query besides the schema's (temporary: no fixture changes).
views="CREATE TEMP VIEW reset_by_client AS SELECT c.* FROM tcpconnect c
	JOIN tcpreset r ON r.lport = c.lport AND r.rport = c.dport AND r.laddr = c.saddr;"

# q FIXTURE SQL: the value, rows joined by commas; nothing found fails the line
q() {
	local value
	value=$(sqlite3 -batch "$SCRATCH/$1.db" "$views $2" | paste -sd,)
	if [ -z "$value" ] || [ "$value" == "," ]; then
		echo "q $1: nothing found: $2" >&2
		return 1
	fi
	echo "$value"
}

# The pieces of Unix nanoseconds: seconds and the nine digits after them.
split_ns() { printf '%s %s' "$(($1 / 1000000000))" "$(printf '%09d' $(($1 % 1000000000)))"; }

rfc3339() {
	local s f
	read -r s f <<< "$(split_ns "$1")"
	if [ -z "${2:-}" ]; then
		echo "$(date -u -d "@$s" +%Y-%m-%dT%H:%M:%S).${f}Z"
	else # +HH:MM
		local sign=${2:0:1} h=${2:1:2} m=${2:4:2}
		s=$((s $sign (10#$h * 3600 + 10#$m * 60)))
		echo "$(date -u -d "@$s" +%Y-%m-%dT%H:%M:%S).$f$2"
	fi
}
datetime() {
	local s f
	read -r s f <<< "$(split_ns "$1")"
	echo "$(date -u -d "@$s" '+%Y-%m-%d %H:%M:%S').$f"
}
clock() {
	local s f
	read -r s f <<< "$(split_ns "$1")"
	if [ "${2:-}" == local ]; then
		echo "$(TZ=$TEST_TZ date -d "@$s" +%H:%M:%S).$f"
	else
		echo "$(date -u -d "@$s" +%H:%M:%S).$f"
	fi
}
epoch() {
	local s f
	read -r s f <<< "$(split_ns "$1")"
	echo "@$s.$f"
}
# since FIXTURE SQL UNIT: the query's wall-clock ns as an offset from the
# capture's start, rounded down to UNIT
since() {
	local ns start
	ns=$(q "$1" "$2") && start=$(q "$1" "select started_at_ns from capture") || return 1
	case $3 in
	ns) echo "+$((ns - start))ns" ;;
	us) echo "+$(((ns - start) / 1000))us" ;;
	ms) echo "+$(((ns - start) / 1000000))ms" ;;
	esac
}

# golden NAME ARGS...: `report ARGS`, run in the scratch directory (so file
# names are short and stable), prints exactly tests/golden/NAME, exit 0.
golden() {
	local name=$1 expected=tests/golden/$1 actual=$SCRATCH/golden.out rc
	shift
	(cd "$SCRATCH" && TZ=$TEST_TZ "$report" "$@") > "$actual" 2> "$SCRATCH/golden.err"
	rc=$?
	if [ $rc != 0 ]; then
		fail "golden $name" "status $rc: $(head -c 300 "$SCRATCH/golden.err")"
	elif [ ! -s "$actual" ]; then
		fail "golden $name" "report printed nothing: a golden test that cannot fail"
	elif [ -n "${UPDATE_GOLDEN:-}" ]; then
		cp "$actual" "$expected"
		pass "golden $name (written)"
	elif [ ! -f "$expected" ]; then
		fail "golden $name" "no $expected (tests/regen-golden writes it; review it by hand)"
	elif cmp -s "$expected" "$actual"; then
		pass "golden $name"
	else
		fail "golden $name" "differs: $(diff "$expected" "$actual" | head -6 | tr '\n' ' ')"
	fi
}

# The fixtures the lines name, loaded once.
# shellcheck disable=SC2046 # one name per word
load_fixtures $(grep -v '^#' "$list" | grep -o '[A-Za-z0-9_-]*\.db' | sort -u | sed 's/\.db$//')

names=()
while IFS= read -r line; do
	[[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
	name=${line%%:*}
	words=${line#*:}
	if [[ ! "$name" =~ ^[A-Za-z0-9._-]+$ ]] || [ "$name" == "$line" ]; then
		fail "golden list" "not 'NAME: ARGS': $line"
		continue
	fi
	names+=("$name")
	# The list is ours: its words are shell words, $(...) asks the fixtures.
	if ! eval "args=($words)" 2> "$SCRATCH/eval.err" || grep -q . "$SCRATCH/eval.err"; then
		fail "golden $name" "its arguments: $(head -c 300 "$SCRATCH/eval.err")"
		continue
	fi
	golden "$name" "${args[@]}"
done < "$list"

# Every golden file is some line's, every name is one line's.
stale=$(comm -23 <(ls tests/golden | sort) <(printf '%s\n' "${names[@]}" | sort))
check_eq "every file in tests/golden is a line of $list" "" "$stale"
check_eq "no two lines share a name" "" "$(printf '%s\n' "${names[@]}" | sort | uniq -d)"
