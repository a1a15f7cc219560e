# report: reading captures recorded for real (fixtures/), without root.
source "$(dirname "$0")/lib.sh"

# load NAME: the fixture as a database in the scratch directory; prints its path
load() {
	local db="$SCRATCH/$1.db"
	[ -f "$db" ] || sqlite3 -batch "$db" < "fixtures/$1.sql"
	echo "$db"
}

basic=$(load basic)
lost=$(load lost)
unclean=$(load unclean)

out=$("$REPORT" info "$basic")
check_eq "info: exit status 0" 0 $?
check_match "info: host and kernel" "host +vm, Linux 6\.18" "$out"
check_match "info: clean stop" "stop +clean \(signal SIGINT\)" "$out"
check_match "info: events per kind" "connect +12 +0" "$out"
check_match "info: format version" "format +1 " "$out"
check_match "info: lost events are shown" "capable +[0-9]+ +[1-9][0-9]*" "$("$REPORT" info "$lost")"
check_match "info: an unclean stop is said" "NOT CLEAN" "$("$REPORT" info "$unclean")"

before=$(sha256sum < "$basic")
"$REPORT" info "$basic" > /dev/null
check_eq "report leaves the capture unchanged" "$before" "$(sha256sum < "$basic")"

# Bad input: one line on stderr, non-zero status.
bad_capture() {
	local name=$1
	shift
	"$REPORT" "$@" > "$SCRATCH/out" 2> "$SCRATCH/err"
	local rc=$? lines
	lines=$(wc -l < "$SCRATCH/err")
	if [ "$rc" != 0 ] && [ "$lines" == 1 ] && [ ! -s "$SCRATCH/out" ]; then
		pass "$name"
	else
		fail "$name" "status $rc, $lines line(s) on stderr: $(tr '\n' ' ' < "$SCRATCH/err"), stdout: $(head -c 100 "$SCRATCH/out")"
	fi
}
echo "not a database at all" > "$SCRATCH/text.db"
sqlite3 "$SCRATCH/other.db" "create table t(x); insert into t values (1)"
cp "$basic" "$SCRATCH/newer.db" && sqlite3 "$SCRATCH/newer.db" "PRAGMA user_version = 99"
head -c 4096 "$basic" > "$SCRATCH/truncated.db"
bad_capture "missing file" info "$SCRATCH/nope.db"
bad_capture "a directory" info "$SCRATCH"
bad_capture "not SQLite" info "$SCRATCH/text.db"
bad_capture "SQLite but not a capture" info "$SCRATCH/other.db"
bad_capture "a truncated capture" info "$SCRATCH/truncated.db"
bad_capture "a capture from a newer format" info "$SCRATCH/newer.db"
check_match "... named as such" "made by a newer casefile \(format 99\); this report reads up to 1" "$(cat "$SCRATCH/err")"
bad_capture "unknown command" frobnicate "$basic"
bad_capture "no file given" info
