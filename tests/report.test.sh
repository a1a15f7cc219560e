# report: the properties every subcommand keeps, over captures recorded for
# real (fixtures/): what it says about a capture, what it refuses, that it
# never changes the evidence, that it runs unprivileged, WAL included.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures basic lost losses unclean web1 web2 lives beacons

# --- What a capture lacks is said once, on stderr ---------------------------
run_report info basic.db
check_eq "info: exit status 0" 0 "$rc"
check_match "info: host" "host +vm" "$(cat "$SCRATCH/out")"
check_match "info: kernel" "kernel +Linux 6\.18" "$(cat "$SCRATCH/out")"
check_match "info: clean stop" "stop +clean \(signal SIGINT\)" "$(cat "$SCRATCH/out")"
check_match "info: events per kind" "connect +12 +0" "$(cat "$SCRATCH/out")"
check_match "info: format version" "format +1 " "$(cat "$SCRATCH/out")"
check_eq "info: nothing on stderr for a whole capture" "" "$(cat "$SCRATCH/err")"

# A capture says which part of a rotated recording it is: copies of one as parts 1, 4 and 5
# (alike: each overlaps the next), and one that says it is the last part there can be.
# info looks for the others among the directory's files, never counting up to the number
# (it took minutes).
mkdir "$SCRATCH/rotated"
for part in 1 4 5 2147483647; do
	name=$([ "$part" = 1 ] && echo r.db || echo "r.$part.db")
	cp "$SCRATCH/basic.db" "$SCRATCH/rotated/$name"
	sql "$SCRATCH/rotated/$name" "UPDATE capture SET part = $part"
done
mv "$SCRATCH/rotated/r.2147483647.db" "$SCRATCH/rotated/last.db"
info_parts() { (cd "$SCRATCH/rotated" && timeout 10 "$report" info "$1" 2>&1 | sed -n '/^part /,/^EVENTS/p' | sed '$d'); }
check_eq "info: the parts beside it by number, a line for those missing" \
	"part      4 of a rotated recording (record -C), 3 of its files here:
          1   r.db             +0.000 s to +1.063 s, signal SIGINT
          2-3 (not beside it)
        > 4   r.4.db           +0.000 s to +1.063 s, signal SIGINT
          5   r.5.db           +0.000 s to +1.063 s, signal SIGINT
overlap   a part closes once the next one is open, and not before its
          connects in flight have their outcomes (kept with the connect)
          part 4 stayed open 1.063 s into part 5" "$(info_parts r.4.db)"
check_eq "info: part 2,147,483,647, the others not beside it, at once" \
	"part      2147483647 of a rotated recording (record -C), 1 of its files here:
          1-2147483646 (not beside it)
        > 2147483647 last.db          +0.000 s to +1.063 s, signal SIGINT" "$(info_parts last.db)"

run_report capable lost.db
check_eq "lost events: told once, with the count" \
	"report: lost.db: the recorder lost records ($(sql "$SCRATCH/lost.db" "select lost from event_kind where name = 'capable'") capable): this report is incomplete" \
	"$(grep lost "$SCRATCH/err")"
check_eq "lost events: the report still runs" 0 "$rc"
# A capture that tells when: the warning says from when to when, also to a
# command reading a span after them (--since): it cannot know what the
# lost records would have held.
rfc3339() { echo "strftime('%Y-%m-%dT%H:%M:%S', ($1) / 1000000000, 'unixepoch') || printf('.%09dZ', ($1) % 1000000000)"; }
loss_when=$(sql "$SCRATCH/losses.db" "select e.lost || ' capable from ' || $(rfc3339 "min(l.first_t) + m.base_ns + m.realtime_offset_ns") || ' to ' ||
	$(rfc3339 "max(l.last_t) + m.base_ns + m.realtime_offset_ns") from loss l, capture m, event_kind e where e.name = 'capable'")
for since in "" "--since $(sql "$SCRATCH/losses.db" "select strftime('%H:%M:%S', stopped_at_ns / 1000000000, 'unixepoch') from capture")"; do
	# shellcheck disable=SC2086 # since: no option, or one and its value
	run_report capable $since losses.db
	check_eq "lost events: told with when they were lost${since:+, after them too ($since)}" \
		"report: losses.db: the recorder lost records ($loss_when): this report is incomplete" "$(grep lost "$SCRATCH/err")"
done
run_report tcpconnect lost.db
check_eq "a kind not recorded is said, not shown as no events" \
	"report: lost.db: connect, outcome events were not recorded (record -e capable)" \
	"$(cat "$SCRATCH/err")"
run_report tcpaccept unclean.db
last_save=$(sql "$SCRATCH/unclean.db" "select strftime('%Y-%m-%d %H:%M:%S', last_commit_at_ns / 1000000000, 'unixepoch') || printf('.%09d', last_commit_at_ns % 1000000000) from capture")
check_match "an unclean stop is said, with the last save" \
	"^report: unclean.db: no clean stop .*nothing after $last_save UTC is in it$" \
	"$(cat "$SCRATCH/err")"
check_eq "... once" 1 "$(wc -l < "$SCRATCH/err")"
run_report tcpconnect basic.db web1.db
check_eq "nothing on stderr for whole captures" "" "$(cat "$SCRATCH/err")"

# --- Bad input: one line on stderr, non-zero status, nothing on stdout -------
echo "not a database at all" > "$SCRATCH/text.db"
sqlite3 "$SCRATCH/other.db" "create table t(x); insert into t values (1)"
cp "$SCRATCH/basic.db" "$SCRATCH/newer.db" && sqlite3 "$SCRATCH/newer.db" "PRAGMA user_version = 99"
head -c 8192 "$SCRATCH/basic.db" > "$SCRATCH/truncated.db"
: > "$SCRATCH/empty.db"
for command in info tcpconnect tcpaccept tcpreset capable; do
	refused "$command: missing file" "$command" nope.db
	refused "$command: a directory" "$command" .
	refused "$command: not SQLite" "$command" text.db
	refused "$command: SQLite but not a capture" "$command" other.db
	refused "$command: an empty file" "$command" empty.db
	refused "$command: a truncated capture" "$command" truncated.db
	refused "$command: a capture from a newer format" "$command" newer.db
	check_eq "$command: ... named as such" \
		"report: newer.db was made by a newer casefile (format 99); this report reads up to 1" \
		"$(cat "$SCRATCH/err")"
	refused "$command: a bad file after a good one" "$command" basic.db nope.db
	refused "$command: no file given" "$command"
	refused "$command: unknown option" "$command" --frobnicate basic.db
	refused "$command: unknown short option" "$command" -Z basic.db
	refused "$command: --format needs a known format" "$command" --format xml basic.db
done
check_eq "unknown option: named" "report: tcpconnect: unknown option '--frobnicate' (see report tcpconnect --help)" \
	"$(run_report tcpconnect --frobnicate basic.db; cat "$SCRATCH/err")"
check_eq "missing value: named" "report: tcpconnect: option '--since' needs a value" \
	"$(run_report tcpconnect basic.db --since; cat "$SCRATCH/err")"
refused "unknown command" frobnicate basic.db
refused "no command" ""
refused "no command at all"
refused "-p not a number" tcpconnect -p abc basic.db
refused "-p negative" tcpconnect -p -1 basic.db
refused "-u out of range" capable -u 4294967295 basic.db
refused "-P port 0" tcpconnect -P 0 basic.db
refused "-P port too large" tcpaccept -P 22,70000 basic.db
refused "-P empty item" tcpconnect -P 22,,80 basic.db
refused "-P trailing comma" tcpconnect -P 22, basic.db
refused "-4 and -6 together" tcpconnect -4 -6 basic.db
refused "--since not a time" tcpconnect --since yesterday basic.db
refused "--since a bad date" tcpconnect --since 2026-02-30 basic.db
refused "--until a bad clock" tcpconnect --until 25:00 basic.db
refused "--since beyond what ns can hold" tcpconnect --since 2300-01-01 basic.db
refused "--since a bad offset" tcpconnect --since +5x basic.db
refused "--comm a bad escape" capable --comm 'a\q' basic.db
refused "--cgroup not a number" capable --cgroup abc basic.db
refused "--mntns too large" capable --mntns 4294967296 basic.db
refused "-c with -t" tcpconnect -c -t basic.db
refused "info takes no filter" info --since 01:00 basic.db
refused "info takes no --follow" info --follow basic.db
refused "tcpreset takes no -p" tcpreset -p 1 basic.db

# A capture without the table a command reads: no header, nothing at all.
cp "$SCRATCH/basic.db" "$SCRATCH/tableless.db"
sqlite3 "$SCRATCH/tableless.db" "DROP VIEW tcpconnect; DROP TABLE ev_connect"
refused "a capture without its events table" tcpconnect tableless.db
refused "... in CSV" tcpconnect --format csv tableless.db

# A capture damaged inside its events: what comes before the damage is right,
# then one line says where reading stopped, and the status is 1.
cp "$SCRATCH/basic.db" "$SCRATCH/damaged.db"
page=$(sql "$SCRATCH/damaged.db" "select max(pageno) from dbstat where name = 'ev_capable' and pagetype = 'leaf'")
printf '\xff\xff\xff\xff\xff\xff\xff\xff' |
	dd of="$SCRATCH/damaged.db" bs=1 seek=$(((page - 1) * 4096)) conv=notrunc status=none
run_report capable -v damaged.db
check_eq "damaged events: status 1" 1 "$rc"
# (report reads the page itself: pages.c)
check_match "damaged events: one line, saying so" "^report: damaged.db: cannot read ev_capable: corrupt capture: page $page is not one of the table's" \
	"$(cat "$SCRATCH/err")"
check_eq "damaged events: ... one" 1 "$(wc -l < "$SCRATCH/err")"
head -n "$(wc -l < "$SCRATCH/out")" tests/golden/capable-v > "$SCRATCH/expected"
check "damaged events: what was printed is the capture's first rows" cmp "$SCRATCH/expected" "$SCRATCH/out"
check_match "damaged events: ... some of them" "^[1-9][0-9]+$" "$(wc -l < "$SCRATCH/out")"

# --- Format 1 from its first shape on: what was added since, report reads around -----
# first-format was written before every table and column added to format 1
# (schema.sql says why those kept the version): report reads it whole.
load_fixtures first-format
for command in info summary tcpconnect tcpaccept tcpreset capable caps timeline "timeline -c" scans bruteforce; do
	# shellcheck disable=SC2086 # "timeline -c" is a command and its option
	run_report $command first-format.db
	check_eq "first-format: $command reads it, saying nothing amiss" "0|" "$rc|$(cat "$SCRATCH/err")"
done
for command in tcpconnect tcpaccept tcpreset; do
	run_report $command first-format.db
	check_eq "first-format: $command, a line per event" \
		"$(sql "$SCRATCH/first-format.db" "select count(*) from ev_${command#tcp}")" "$(($(wc -l < "$SCRATCH/out") - 1))"
done

# --- Help -----------------------------------------------------------------------
run_report --help
check_eq "report --help: status 0" 0 "$rc"
help=$(cat "$SCRATCH/out")
for command in info tcpconnect tcpaccept tcpreset capable; do
	check_match "report --help lists $command" "
  $command " "$help"
	run_report "$command" --help
	check_eq "$command --help: status 0" 0 "$rc"
	check_match "$command --help: usage and examples" "^usage: report $command .*examples:" \
		"$(tr '\n' ' ' < "$SCRATCH/out")"
done

# --- The evidence is never changed ----------------------------------------------
every_command() {
	for args in "info" "info --format json" "tcpconnect -tLU" "tcpconnect -c" "tcpconnect -o --format csv" \
		"tcpaccept -t" "tcpreset -r --format json" "capable -v -x" "capable --unique" \
		"tcpconnect --follow" "capable --since +10ms --until +1s --comm bash"; do
		# shellcheck disable=SC2086 # the arguments are words
		"$@" $args
	done
}
hash_of() { sha256sum "$@" | cut -d' ' -f1 | tr '\n' ' '; }
before=$(hash_of "$SCRATCH"/*.db)
every_command run_report basic.db lost.db unclean.db web1.db web2.db
check_eq "every command leaves every capture unchanged" "$before" "$(hash_of "$SCRATCH"/*.db)"
check_eq "... and creates no file beside them" "" "$(find "$SCRATCH" -maxdepth 1 \( -name '*-wal' -o -name '*-shm' -o -name '*-journal' \))"

# --- Nothing from the analysis machine: the same reports without /proc and /sys ---
# (report-lib.sh's without_proc_sys)
if ldd "$report" | grep -q libasan; then
	skip "the same reports without /proc and /sys" "a sanitizer's runtime reads /proc at start (the plain build runs it)"
elif without_proc_sys info basic.db > /dev/null 2>&1; then
	same=0
	for args in "info" "tcpconnect -o" "tcpaccept -t" "tcpreset -r --local" "capable -v -x --format json"; do
		# shellcheck disable=SC2086 # the command's words
		without_proc_sys $args basic.db web1.db > "$SCRATCH/out" 2>&1
		# shellcheck disable=SC2086
		(cd "$SCRATCH" && "$report" $args basic.db web1.db) > "$SCRATCH/expected" 2>&1
		cmp -s "$SCRATCH/expected" "$SCRATCH/out" && same=$((same + 1))
	done
	check_eq "the same reports without /proc and /sys" 5 "$same"
else
	fail "the same reports without /proc and /sys" "needs root or user namespaces (unshare)"
fi

# --- Any file name: spaces, ?, #, % (a URI inside) --------------------------------------
mkdir "$SCRATCH/odd ?#%dir"
cp "$SCRATCH/basic.db" "$SCRATCH/odd ?#%dir/a b%20.db"
run_report tcpconnect "odd ?#%dir/a b%20.db"
check "a file name with spaces, ?, # and %" cmp tests/golden/tcpconnect "$SCRATCH/out"

# --- Unprivileged, on files it can only read, in a directory it cannot write ---
# As root: as uid 65534 (setpriv) on its own copy.  Otherwise: as ourselves.
unprivileged() {
	if [ "$(id -u)" = 0 ]; then
		(cd "$1" && setpriv --reuid=65534 --regid=65534 --clear-groups "$report" "${@:2}")
	else
		(cd "$1" && "$report" "${@:2}")
	fi
}
readonly_copy() { # DIR FILE...: copies only the unprivileged user can read, in DIR
	local dir=$1
	mkdir "$dir"
	shift
	cp "$@" "$dir/"
	[ "$(id -u)" = 0 ] && chown 65534:65534 "$dir"/*
	chmod 0400 "$dir"/*
	chmod 0555 "$dir"
}
chmod 0711 "$SCRATCH" # where the copies are: reachable, not readable
readonly_copy "$SCRATCH/ro" "$SCRATCH/basic.db" "$SCRATCH/web1.db"
(cd "$SCRATCH" && "$report" tcpconnect -o basic.db web1.db) > "$SCRATCH/expected"
unprivileged "$SCRATCH/ro" tcpconnect -o basic.db web1.db > "$SCRATCH/out" 2> "$SCRATCH/err"
check_eq "unprivileged, read-only file and directory: status 0" "0: " "$?: $(cat "$SCRATCH/err")"
check "unprivileged: the same report" cmp "$SCRATCH/expected" "$SCRATCH/out"

# --- An unclean stop leaves a WAL: read it, change nothing, create nothing ---------
# A capture whose every row is still in its -wal: sqlite3 loads the fixture in
# WAL mode and is killed before it can checkpoint.
wal_capture() { # DB FIXTURE
	mkfifo "$SCRATCH/fifo"
	sqlite3 -batch "$1" < "$SCRATCH/fifo" > "$SCRATCH/fifo.out" &
	local loader=$!
	exec 3> "$SCRATCH/fifo"
	{
		echo "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
		cat "fixtures/$2.sql"
		echo "SELECT 'loaded';"
	} >&3
	for _ in $(seq 100); do grep -q loaded "$SCRATCH/fifo.out" && break; sleep 0.05; done
	kill -KILL $loader
	wait $loader 2> /dev/null
	exec 3>&-
	rm -f "$SCRATCH/fifo"
}
mkdir "$SCRATCH/wal"
wal_capture "$SCRATCH/wal/unclean.db" unclean
check_eq "WAL capture: the file alone holds nothing, its -wal everything" "0 yes" \
	"$(sqlite3 -batch "file:$SCRATCH/wal/unclean.db?immutable=1" "select count(*) from sqlite_schema") $([ -s "$SCRATCH/wal/unclean.db-wal" ] && echo yes)"
(cd "$SCRATCH" && "$report" capable -v -x unclean.db) > "$SCRATCH/expected" 2> /dev/null
(cd "$SCRATCH/wal" && "$report" capable -v -x unclean.db) > "$SCRATCH/out" 2> /dev/null
check "WAL capture with its -shm: read whole" cmp "$SCRATCH/expected" "$SCRATCH/out"
rm "$SCRATCH/wal/unclean.db-shm"
before=$(hash_of "$SCRATCH/wal"/*)
(cd "$SCRATCH/wal" && "$report" capable -v -x unclean.db) > "$SCRATCH/out" 2> /dev/null
check "WAL capture without -shm (copied elsewhere): read whole" cmp "$SCRATCH/expected" "$SCRATCH/out"
every_command run_report wal/unclean.db
check_eq "WAL capture: unchanged by every command" "$before" "$(hash_of "$SCRATCH/wal"/*)"
check_eq "WAL capture: no file created beside it" "unclean.db unclean.db-wal" "$(find "$SCRATCH/wal" -mindepth 1 -printf '%P\n' | sort | tr '\n' ' ' | sed 's/ $//')"
readonly_copy "$SCRATCH/walro" "$SCRATCH/wal/unclean.db" "$SCRATCH/wal/unclean.db-wal"
unprivileged "$SCRATCH/walro" capable -v -x unclean.db > "$SCRATCH/out" 2> "$SCRATCH/err"
check_eq "WAL capture, unprivileged, read-only directory: status 0" 0 "$?"
check "WAL capture, unprivileged, read-only directory: read whole" cmp "$SCRATCH/expected" "$SCRATCH/out"

# --- --follow on a capture that never stopped cleanly: until Ctrl-C -------------------
(cd "$SCRATCH" && "$report" tcpconnect unclean.db) > "$SCRATCH/expected" 2> /dev/null
(cd "$SCRATCH" && exec "$report" tcpconnect --follow unclean.db) > "$SCRATCH/out" 2> "$SCRATCH/err" &
follower=$!
sleep 1
# A loaded machine may take longer to print the first pass: wait for it, up to 10 s more.
for _ in $(seq 100); do cmp -s "$SCRATCH/expected" "$SCRATCH/out" && break; sleep 0.1; done
kill -0 $follower 2> /dev/null
check_eq "--follow waits on a capture not stopped cleanly" 0 $?
kill -INT $follower
wait $follower
check_eq "--follow: SIGINT ends it with status 0" 0 $?
check "--follow: what it printed meanwhile" cmp "$SCRATCH/expected" "$SCRATCH/out"

# --- Output goes nowhere: one line, status 1 ---------------------------------------
if [ -w /dev/full ]; then
	(cd "$SCRATCH" && "$report" capable -v basic.db > /dev/full 2> "$SCRATCH/err")
	check_eq "a full disk: status 1" 1 $?
	check_eq "a full disk: one line" "report: cannot write the output: No space left on device" \
		"$(cat "$SCRATCH/err")"
else
	skip "a full disk: status 1, one line" "/dev/full is not writable here"
fi

# --- --addr, on every command with ends: either end, both forms of IPv4 ----------
for cmd in "tcpconnect saddr daddr" "tcpaccept laddr raddr" "tcpreset laddr raddr"; do
	read -r command a b <<< "$cmd"
	for address in 127.0.0.1 ::1; do
		run_report "$command" --addr "$address" --format csv basic.db
		check_eq "$command --addr $address: the rows with it at either end, as SQL counts them" \
			"$(sql "$SCRATCH/basic.db" "SELECT count(*) FROM $command WHERE '$address' IN ($a, $b, replace($a, '::ffff:', ''), replace($b, '::ffff:', ''))")" \
			"$(($(wc -l < "$SCRATCH/out") - 1))"
	done
done
refused "--addr: not an address" tcpconnect --addr 10.0.0 basic.db
refused "--addr: not offered where events have no ends" capable --addr 127.0.0.1 basic.db

# --- Times: -T is the wall clock with milliseconds, the same under any filter -----
first_connect=$(sql "$SCRATCH/basic.db" "SELECT strftime('%H:%M:%S', min(wall_ns) / 1000000000, 'unixepoch') || printf('.%03d', min(wall_ns) / 1000000 % 1000) FROM tcpconnect WHERE ip = 6")
run_report tcpconnect -T -6 basic.db
check_eq "tcpconnect -T: the first IPv6 connect at its wall-clock time to the millisecond" \
	"$first_connect" "$(sed -n 2p "$SCRATCH/out" | cut -d' ' -f1)"
run_report tcpconnect -tT -6 basic.db
check_eq "tcpconnect -tT: TIME(s) restarts under a filter, TIME does not" "0.000 $first_connect" \
	"$(sed -n 2p "$SCRATCH/out" | awk '{print $1, $2}')"

# --- tcplife: the close kind, joined to its opening ------------------------------
run_report tcplife --format csv lives.db
check_eq "tcplife: one row per close, with the view's bytes and durations" \
	"$(sql "$SCRATCH/lives.db" "SELECT lport, rport, tx_bytes, rx_bytes, coalesce(duration_ns, ''), coalesce(closed_by, '') FROM tcpclose ORDER BY wall_ns, seq")" \
	"$(sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "SELECT lport, rport, tx_bytes, rx_bytes, duration_ns, closed_by FROM r" | tr ',' '|')"
check_eq "tcplife: a close in softirq takes its connect's or accept's process; of the connection opened before the capture, both ends lack an opening, the end closed in softirq a process" \
	"$(sql "$SCRATCH/lives.db" "SELECT count(*) - 1 FROM ev_close")|2" \
	"$(sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "SELECT sum(pid != ''), sum(opened = '') FROM r")"
check_eq "tcplife: the opener's pid is the connecting or accepting process's" 0 \
	"$(sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "ATTACH '$SCRATCH/lives.db' AS c" \
		"SELECT count(*) FROM r WHERE opened = 'connect' AND CAST(pid AS INTEGER) NOT IN (SELECT pid FROM c.tcpconnect WHERE lport = CAST(r.lport AS INTEGER))")"
refused "tcplife -L: not a port" tcplife -L 0 lives.db
refused "tcplife -s and --format json" tcplife -s --format json lives.db

# --- exfil: bytes out per process and remote, the upload flagged -----------------
run_report exfil --format csv lives.db
check_eq "exfil: the 1000003-byte upload the client opened is flagged, PCR 0.991; the 2500000 bytes a server sent are not" \
	"1000003|4321|0.991|exfil
2500000|77||" \
	"$(sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "SELECT sent, received, pcr, flag FROM r WHERE CAST(sent AS INTEGER) > 1000000 ORDER BY flag DESC")"
check_eq "exfil: every close counted once, its bytes both ways" \
	"$(sql "$SCRATCH/lives.db" "SELECT count(*), sum(tx_bytes), sum(rx_bytes) FROM tcpclose")" \
	"$(sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "SELECT sum(connections), sum(sent), sum(received) FROM r")"
check_eq "exfil --min-bytes above it: nothing flagged" "" \
	"$(run_report exfil --min-bytes 1000004 --format csv lives.db; sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "SELECT pid FROM r WHERE flag = 'exfil'")"
check_eq "exfil --pcr 0.995: nothing flagged" "" \
	"$(run_report exfil --pcr 0.995 --format csv lives.db; sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "SELECT pid FROM r WHERE flag = 'exfil'")"
check_eq "exfil --by remote: totals per remote address, most sent first" \
	"$(sql "$SCRATCH/lives.db" "SELECT raddr, sum(tx_bytes) FROM tcpclose GROUP BY raddr ORDER BY 2 DESC")" \
	"$(run_report exfil --by remote --format csv lives.db; sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "SELECT remote, sent FROM r")"
check_eq "exfil --top 1: the pair that sent most, then the flagged upload below it, and no other" \
	"2500000|
1000003|exfil" \
	"$(run_report exfil --top 1 --format csv lives.db; sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "SELECT sent, flag FROM r")"

# A connect naming a task that is not there, deep in the stream (its opening
# fetched ahead, replay's prefetch): one line, status 1, for each reader of lives.
cp "$SCRATCH/lives.db" "$SCRATCH/bad-task.db"
sql "$SCRATCH/bad-task.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
	INSERT INTO ev_connect SELECT t + i, 1000000000 + i, task, saddr, lport, daddr, dport, outcome_state,
	error, latency_ns FROM (SELECT * FROM ev_connect WHERE lport IS NOT NULL ORDER BY t LIMIT 1), n;
	UPDATE ev_connect SET task = 99999 WHERE seq = 1000000030"
for command in tcplife exfil beacons; do
	run_report "$command" bad-task.db
	check_eq "$command: a connect's task not there: one line, status 1" \
		"1|1|report: bad-task.db: cannot read task 99999: corrupt capture: not there" \
		"$rc|$(wc -l < "$SCRATCH/err")|$(head -1 "$SCRATCH/err")"
done
# timeline -c reads a connect's task in its merge for loopback ends (their
# network namespace keys the connection), else in its printing thread, as
# the connection is printed: either way one line, status 1.
run_report timeline -c bad-task.db
check_eq "timeline -c: a loopback connect's task not there: one line, status 1" \
	"1|1|report: bad-task.db: cannot read task 99999: corrupt capture: not there" \
	"$rc|$(wc -l < "$SCRATCH/err")|$(head -1 "$SCRATCH/err")"
cp "$SCRATCH/bad-task.db" "$SCRATCH/bad-task-remote.db"
sql "$SCRATCH/bad-task-remote.db" "INSERT INTO address (id, ip, addr) VALUES (99998, 4, '10.9.9.9');
	UPDATE ev_connect SET daddr = 99998 WHERE seq = 1000000030"
run_report timeline -c bad-task-remote.db
check_eq "timeline -c: a remote connect's task not there (the printing thread's): the same" \
	"1|1|report: bad-task-remote.db: cannot read task 99999: corrupt capture: not there" \
	"$rc|$(wc -l < "$SCRATCH/err")|$(head -1 "$SCRATCH/err")"
cp "$SCRATCH/bad-task-remote.db" "$SCRATCH/good-task-remote.db"
sql "$SCRATCH/good-task-remote.db" "UPDATE ev_connect SET task = (SELECT task FROM ev_connect
	WHERE seq = 1000000029) WHERE seq = 1000000030"
run_report timeline -c good-task-remote.db
awk '/ 10\.9\.9\.9:/ { exit } { print }' "$SCRATCH/out" > "$SCRATCH/before"
run_report timeline -c bad-task-remote.db
check_eq "... printed after the connections that started before it, as a sound capture's (30 and more)" \
	"$(cat "$SCRATCH/before")|1" \
	"$(cat "$SCRATCH/out")|$(($(wc -l < "$SCRATCH/before") > 30))"
run_report exfil --top 1 lives.db
check_eq "exfil --top 1: the table's last line counts the pairs left out (11 in all)" \
	"# 9 more pairs, below the top 1 (--top)" "$(tail -1 "$SCRATCH/out")"
refused "exfil --top: from 1" exfil --top 0 lives.db
refused "exfil --pcr: not a ratio" exfil --pcr 2 lives.db
refused "exfil --by: not a grouping" exfil --by host lives.db
run_report summary lives.db
check_match "summary: the upload flagged under EXFILTRATION" \
	$'EXFILTRATION[^\n]*\n  most sent [^\n]*\n  flagged +1 FOUND[^\n]*\n +traffic/[0-9]+ -> 127\\.0\\.0\\.1: 1000003 B out, 4321 in, PCR 0\\.991' \
	"$(cat "$SCRATCH/out")"
run_report summary basic.db
check_match "summary: a capture without the close kind says so" "EXFILTRATION not recorded \(no close events\)" "$(cat "$SCRATCH/out")"

# --- beacons: a jittered beacon found, a periodic upload not -----------------------
# fixtures/record-fixtures beacons: 24 connects 0.5-3 s apart with 120 bytes each,
# and 24 connects every second with 200 kB to 2 MB each, at the same time.
run_report beacons --format csv beacons.db
check_eq "beacons: the jittered client, 24 connections of 120 bytes, and nothing else" "24|120|1" \
	"$(sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "SELECT connections, median_bytes, CAST(score AS REAL) >= 0.8 FROM r")"
check_eq "beacons: its median interval within the helper's 0.5-3 s" 1 \
	"$(sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "SELECT CAST(interval_ns AS INTEGER) BETWEEN 500000000 AND 3000000000 FROM r")"
run_report beacons --score 0 --format csv beacons.db
check_eq "beacons --score 0: the periodic upload is as periodic (timing 0.9 or more) but its sizes score under 0.3, the whole under 0.8" \
	"1|1|0" \
	"$(sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "SELECT CAST(timing AS REAL) >= 0.9, CAST(data AS REAL) < 0.3, CAST(score AS REAL) >= 0.8 FROM r WHERE CAST(median_bytes AS INTEGER) > 100000")"
check_eq "beacons --connections 25: none (24 each)" "" \
	"$(run_report beacons --connections 25 --format csv beacons.db; sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "SELECT pid FROM r")"
refused "beacons --score: not from 0 to 1" beacons --score 1.5 beacons.db
run_report summary beacons.db
check_match "summary: the beacon under BEACONS" \
	$'BEACONS[^\n]*\n  1 FOUND[^\n]*\n  traffic/[0-9]+ -> 127\\.0\\.0\\.1:[0-9]+: 24 connections' "$(cat "$SCRATCH/out")"
