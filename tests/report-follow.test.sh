# report --follow against a capture that a real `record` is writing: events
# printed as they land, the recorder never held up, and the end once it has
# stopped.  Needs root (record loads BPF programs).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"
needs_root "report --follow against a live record" || exit 0

db=$SCRATCH/live.db
start_record "$db" -e connect,accept || {
	fail "record starts" "$(cat "$RECORD_ERR")"
	exit 0
}
"$report" tcpconnect --follow "$db" > "$SCRATCH/connects" 2> "$SCRATCH/connects.err" &
connects=$!
"$report" tcpaccept --follow --format json "$db" > "$SCRATCH/accepts" 2> "$SCRATCH/accepts.err" &
accepts=$!

# wait_for NAME FILE REGEX: up to 10 s for a line of FILE matching REGEX
wait_for() {
	for _ in $(seq 100); do
		if grep -qE "$3" "$2"; then
			pass "$1"
			return
		fi
		sleep 0.1
	done
	fail "$1" "nothing matching /$3/ in $2 after 10 s: $(tail -c 300 "$2")"
}

first=$("$HELPERS/traffic" accept 4 3)
port=$(value port "$first") client=$(value client_pid "$first") server=$(value server_pid "$first")
wait_for "--follow prints connects as they land" "$SCRATCH/connects" \
	"^$client +traffic +4 +127\.0\.0\.1 +127\.0\.0\.1 +$port$"
wait_for "--follow prints accepts as they land, as JSON" "$SCRATCH/accepts" \
	"\"pid\":$server,.*\"lport\":$port}"
kill -0 "$RECORD_PID" 2> /dev/null
check_eq "... while record is still recording" 0 $?

second=$("$HELPERS/traffic" refused 6)
wait_for "--follow keeps printing what lands later" "$SCRATCH/connects" \
	"^$(value client_pid "$second") +traffic +6 +::1 +::1 +$(value port "$second")$"

stop_record INT
check_eq "record stops cleanly while followed" "0|1" "$RECORD_RC|$(sql "$db" 'select clean_stop from capture')"
check_eq "... and leaves one file" "" "$(ls "$db"-wal "$db"-shm 2> /dev/null)"

# ended NAME PID: the follower ended by itself (within 5 s), with status 0
ended() {
	for _ in $(seq 50); do
		kill -0 "$2" 2> /dev/null || break
		sleep 0.1
	done
	if kill -0 "$2" 2> /dev/null; then
		kill "$2"
		fail "$1" "still running 5 s after record stopped"
	else
		wait "$2"
		check_eq "$1" 0 $?
	fi
}
ended "--follow ends by itself when record stops (tcpconnect)" $connects
ended "--follow ends by itself when record stops (tcpaccept)" $accepts

# What it printed live is what a report of the finished capture prints, on stdout and on
# stderr: nothing there but what the capture itself tells (a state change the kernel gave no
# program, a rare miss on a loaded host, is told by every report of it).
"$report" tcpconnect "$db" > "$SCRATCH/expected" 2> "$SCRATCH/expected.err"
check "tcpconnect --follow printed every connect, once, in order" cmp "$SCRATCH/expected" "$SCRATCH/connects"
check_eq "tcpconnect --follow: on stderr what the finished capture's report says" \
	"$(cat "$SCRATCH/expected.err")" "$(cat "$SCRATCH/connects.err")"
"$report" tcpaccept --format json "$db" > "$SCRATCH/expected" 2> "$SCRATCH/expected.err"
check "tcpaccept --follow printed every accept, once, in order" cmp "$SCRATCH/expected" "$SCRATCH/accepts"
check_eq "tcpaccept --follow: on stderr what the finished capture's report says" \
	"$(cat "$SCRATCH/expected.err")" "$(cat "$SCRATCH/accepts.err")"

# follow_held DB AT NAME: report tcpconnect --follow DB in the background ($follower), held
# by the preloaded library at its AT'th open of DB until $SCRATCH/NAME-go exists; waits (10 s
# at most) until it is held ($SCRATCH/NAME-held). Its output in NAME.out and NAME.err.
follow_held() {
	HOLD_OPEN_PATH=$1 HOLD_OPEN_AT=$2 HOLD_OPEN_HELD=$SCRATCH/$3-held HOLD_OPEN_UNTIL=$SCRATCH/$3-go \
		LD_PRELOAD=$(realpath "$HELPERS/hold-open.so") ASAN_OPTIONS=verify_asan_link_order=0 \
		"$report" tcpconnect --follow "$1" > "$SCRATCH/$3.out" 2> "$SCRATCH/$3.err" &
	follower=$!
	for _ in $(seq 100); do
		[ -e "$SCRATCH/$3-held" ] && break
		sleep 0.1
	done
}

# --- A pass's reader opened after record committed more: its lookups find every task ---------
# report reads events on connections of their own (its readers), opened after the one that
# looks up their tasks.  The preloaded library holds the first reader's open until a new
# process's connect is committed: a task only the reader would see, had it read further.
db=$(realpath "$SCRATCH")/held.db
start_record "$db" -e connect || {
	fail "record starts" "$(cat "$RECORD_ERR")"
	exit 0
}
follow_held "$db" 3 held
check "--follow: its first reader held at its open" test -e "$SCRATCH/held-held"
late=$("$HELPERS/traffic" refused 4)
for _ in $(seq 100); do
	"$report" tcpconnect "$db" 2> /dev/null | grep -q "^$(value client_pid "$late") " && break
	sleep 0.1
done
touch "$SCRATCH/held-go"
wait_for "--follow: a connect committed while its reader was held, its task found" \
	"$SCRATCH/held.out" "^$(value client_pid "$late") +traffic +4 +127\.0\.0\.1 +127\.0\.0\.1 +$(value port "$late")$"
stop_record INT
ended "--follow ends by itself (its reader held a while)" $follower
check_eq "--follow: on stderr what the finished capture's report says (its reader held a while)" \
	"$("$report" tcpconnect "$db" 2>&1 > /dev/null)" "$(cat "$SCRATCH/held.err")"

# --- A -wal there when report looks, gone when SQLite reads: the file whole, still saying WAL ---
# A writer that closes in WAL mode (record when it cannot leave it, sqlite3) deletes its -wal
# once checkpointed; the file still says WAL.  The preloaded library holds report between its
# look beside the file and SQLite's first read while the -wal goes.
wal=$(realpath "$SCRATCH")/walmode.db
cp "$db" "$wal"
sql "$wal" "PRAGMA journal_mode = WAL" > /dev/null
: > "$wal-wal"
follow_held "$wal" 2 wal
check "--follow: held between its look at the -wal and SQLite's first read" test -e "$SCRATCH/wal-held"
rm -f "$wal-wal"
touch "$SCRATCH/wal-go"
ended "--follow: a -wal gone since it looked, the file read as it is now" $follower
check_eq "... on stderr what the file's report says" "$("$report" tcpconnect "$wal" 2>&1 > /dev/null)" \
	"$(cat "$SCRATCH/wal.err")"
"$report" tcpconnect "$wal" > "$SCRATCH/expected" 2> /dev/null
check "... every connect printed" cmp "$SCRATCH/expected" "$SCRATCH/wal.out"

# --- --follow across a rotation: into every next part, until record stops ---------------------
uid=$test_uid
db=$SCRATCH/rotating.db
start_record "$db" -C 1M -u "$uid" -b 64M -e connect,capable || {
	fail "record -C starts" "$(cat "$RECORD_ERR")"
	exit 0
}
"$report" tcpconnect --follow "$db" > "$SCRATCH/rotating" 2> "$SCRATCH/rotating.err" &
follower=$!
# -d names addresses per capture (peers.c): a part joins its captures as it comes
"$report" tcpconnect -d --follow "$db" > "$SCRATCH/rotating.named" 2> "$SCRATCH/rotating.named.err" &
named_follower=$!
as_uid() { setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"; }
as_uid "$HELPERS/traffic" accept 4 5 > /dev/null
# Some 21 bytes a check: 300,000 checks fill several files of 1M.
as_uid "$HELPERS/capcheck" setuid 300000 > /dev/null
after=$(as_uid "$HELPERS/traffic" refused 6)
wait_for "--follow -C: prints the connects of a later part" "$SCRATCH/rotating" \
	"^$(value client_pid "$after") +traffic +6 +::1 +::1 +$(value port "$after")$"
stop_record INT
ended "--follow -C: ends by itself once the last part stopped" $follower
ended "--follow -C -d: ends by itself once the last part stopped" $named_follower
parts=("$SCRATCH"/rotating*.db)
check_match "-C 1M: the recording rotated" "^[3-9]|^[1-9][0-9]" "${#parts[@]}"
files=("$db")
for n in $(seq 2 ${#parts[@]}); do files+=("$SCRATCH/rotating.$n.db"); done
"$report" tcpconnect "${files[@]}" > "$SCRATCH/expected" 2> /dev/null
check_eq "--follow -C: 6 connects, before and after the rotations" 6 "$(grep -c traffic "$SCRATCH/expected")"
check "--follow -C: printed every connect of every part, once, in order" \
	cmp "$SCRATCH/expected" "$SCRATCH/rotating"
"$report" tcpconnect -d "${files[@]}" > "$SCRATCH/expected.named" 2> /dev/null
check "--follow -C -d: named every part's connects as a read of the parts does" \
	cmp "$SCRATCH/expected.named" "$SCRATCH/rotating.named"
expected_err=""
for n in $(seq 2 ${#parts[@]}); do
	prev=$([ "$n" = 2 ] && echo "$db" || echo "$SCRATCH/rotating.$((n - 1)).db")
	expected_err+="report: $prev: part $((n - 1)) of the recording goes on in $SCRATCH/rotating.$n.db"$'\n'
done
# besides what the parts tell of themselves: state changes the kernel gave no program, if any.
told_skips() { grep ': the kernel skipped ' "$@" | sort; }
check_eq "--follow -C: one line on stderr per new part" "$expected_err" \
	"$(grep -v ': the kernel skipped ' "$SCRATCH/rotating.err")"$'\n'
check_eq "--follow -C: the kernel's skipped runs told as a report of the parts tells them" \
	"$("$report" tcpconnect "${files[@]}" 2>&1 > /dev/null | told_skips)" \
	"$(told_skips "$SCRATCH/rotating.err")"

# A part its writer closed in WAL mode (its -wal checkpointed and deleted): still the next part.
[ -e "$SCRATCH/rotating.2.db" ] && sql "$SCRATCH/rotating.2.db" "PRAGMA journal_mode = WAL" > /dev/null
"$report" tcpconnect --follow "$db" > "$SCRATCH/again" 2> "$SCRATCH/again.err"
check "--follow -C: a part left in WAL mode followed too" cmp "$SCRATCH/expected" "$SCRATCH/again"
check_eq "... one line on stderr per new part" "$expected_err" \
	"$(grep -v ': the kernel skipped ' "$SCRATCH/again.err")"$'\n'
