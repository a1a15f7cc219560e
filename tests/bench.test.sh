# bench: the benchmark's tools measure what they claim (bench/run trusts them).
# gen and spawn need no root; the workloads are checked against record (root).
source "$(dirname "$0")/lib.sh"
TOOLS=$BUILD/bench

# --- gen: a capture written through record's own rows/capture code ------------
db="$SCRATCH/gen.db"
out=$("$TOOLS/gen" 20000 "$db" 2> "$SCRATCH/gen.err")
check_eq "gen: exit status 0, 20000 events" "0|20000" "$?|$(value events "$out")"
check_eq "gen: a sound SQLite file" ok "$(sql "$db" 'pragma integrity_check')"
# The closes come beyond the events asked for: one per connection established.
check_eq "gen: 20000 events by kind, each connect with its outcome, nothing lost" "20000|1|0" \
	"$(sql "$db" "select (select sum(recorded) from event_kind where name not in ('outcome', 'close')),
		(select recorded from event_kind where name = 'connect') = (select count(*) from ev_connect where outcome_state is not null),
		(select sum(lost) from event_kind)")"
check_eq "gen: the rows are the counted ones" "1|1|1|1" \
	"$(sql "$db" "select (select count(*) from ev_connect) = (select recorded from event_kind where name = 'connect'),
		(select count(*) from ev_accept) = (select recorded from event_kind where name = 'accept'),
		(select count(*) from ev_reset) = (select recorded from event_kind where name = 'reset'),
		(select count(*) from ev_capable) = (select recorded from event_kind where name = 'capable')")"
check_eq "gen: a close for every connect established and every accept" 1 \
	"$(sql "$db" "select (select count(*) from ev_close) = (select count(*) from ev_connect where outcome_state = 1) + (select count(*) from ev_accept)")"
check_match "gen: report reads it, stopped cleanly" "stop +clean" "$("$REPORT" info "$db" 2>&1)"
check_eq "gen: a port scan, 200 ports of one host answered with no socket" "200|0|NO_SOCKET" \
	"$(sql "$db" "select count(distinct lport), max(pid), group_concat(distinct reason) from tcpreset where raddr = '198.51.100.66' and state is null")"
check_eq "gen: an ssh brute force, 400 accepts from one address" 400 \
	"$(sql "$db" "select count(*) from tcpaccept where raddr = '198.51.100.99' and lport = 22 and comm = 'sshd'")"
check_eq "gen: events fall within the capture's span" "1|0" \
	"$(sql "$db" "select min(wall_ns) >= (select started_at_ns from capture), count(*) filter (where wall_ns > (select stopped_at_ns from capture)) from capable")"
"$TOOLS/gen" 20000 "$SCRATCH/again.db" > /dev/null 2>&1
check_eq "gen: the same EVENTS give the same rows" \
	"$(sql "$db" 'select * from ev_capable' | md5sum)" "$(sql "$SCRATCH/again.db" 'select * from ev_capable' | md5sum)"
if [ "$(id -u)" = 0 ]; then
	check_eq "gen: AUDIT derived as record does: mmap checks 0, setuid checks 1" "0|1" \
		"$(sql "$db" "select (select group_concat(distinct audit) from ev_capable where cap = 21), (select group_concat(distinct audit) from ev_capable where cap = 7)")"
else
	skip "gen: AUDIT derived as record does" "needs root (gen reads the kernel's symbols to derive it)"
fi
"$TOOLS/gen" 0 "$SCRATCH/zero.db" 2> "$SCRATCH/zero.err"
check_eq "gen: refuses a bad count with its usage" "2|usage: gen EVENTS FILE" "$?|$(cat "$SCRATCH/zero.err")"

# --- spawn: status, time to a marker, peak memory -------------------------------
"$TOOLS/spawn" "$SCRATCH/exit.stats" sh -c 'exit 3'
check_eq "spawn: passes the exit status on and records it" "3|3" "$?|$(value status "$(cat "$SCRATCH/exit.stats")")"
"$TOOLS/spawn" -m READY -s "$SCRATCH/ready.stats" sh -c 'sleep 0.3; echo READY >&2; exec sleep 10' 2> /dev/null
stats=$(cat "$SCRATCH/ready.stats")
check_eq "spawn -m -s: stops the command with SIGINT at the marker" 130 "$(value status "$stats")"
check_match "spawn -m: ready after the 0.3 s the command slept, well before 10 s" "^0\.[3-9]|^1\." "$(value ready "$stats")"
# dd's one block is its buffer, filled whole: 50 MiB is 51200 kB, plus dd itself
# (some 3 MB), where a 1 MiB block stays under 8 MB.
"$TOOLS/spawn" "$SCRATCH/rss.stats" dd if=/dev/zero of=/dev/null bs=50M count=1 2> /dev/null
rss=$(value maxrss_kb "$(cat "$SCRATCH/rss.stats")")
check_eq "spawn: peak RSS of a 50 MiB buffer, in kB: 51200 to 59392 ($rss)" 1 "$((rss >= 51200 && rss <= 59392))"
"$TOOLS/spawn" "$SCRATCH/rss.stats" dd if=/dev/zero of=/dev/null bs=1M count=1 2> /dev/null
rss=$(value maxrss_kb "$(cat "$SCRATCH/rss.stats")")
check_eq "... of a 1 MiB buffer: under 8192 ($rss)" 1 "$((rss > 0 && rss < 8192))"

# --- the workloads, counted by record ----------------------------------------------
needs_root "bench workloads under record" || exit 0
db="$SCRATCH/storm.db"
# (LeakSanitizer's exit-time scan would add a thread and checks of its own.)
coproc STORM { ASAN_OPTIONS=detect_leaks=0 exec "$TOOLS/storm" 0.3 2 --wait; }
read -r line <&"${STORM[0]}"
storm_pid=$(value pid "$line")
start_record "$db" -p "$storm_pid" -e capable
echo go >&"${STORM[1]}"
read -r out <&"${STORM[0]}"
wait "$storm_pid"
stop_record
generated=$(value checks "$out")
check_eq "storm: each counted setuid(0) is one recorded or lost CAP_SETUID check, no other" \
	"$generated|0" \
	"$(sql "$db" "select (select count(*) from capable where pid = $storm_pid and cap = 7) + (select lost from event_kind where name = 'capable'),
		(select count(*) from capable where pid = $storm_pid and cap != 7)")"
check_eq "storm: both threads checked" 2 "$(sql "$db" "select count(distinct tid) from capable where pid = $storm_pid")"

db="$SCRATCH/churn.db"
start_record "$db" -e connect,accept,reset
"$TOOLS/churn" 0.3 > "$SCRATCH/churn.out" &
churn_pid=$!
wait $churn_pid
sleep 0.1
stop_record
n=$(value connections "$(cat "$SCRATCH/churn.out")")
check_eq "churn: each counted connection is a connect, an accept and a RST from the churn" "$n|$n|$n|0" \
	"$(sql "$db" "select (select count(*) from tcpconnect where pid = $churn_pid and outcome = 'established'),
		(select count(*) from tcpaccept where pid = $churn_pid),
		(select count(*) from tcpreset where pid = $churn_pid),
		(select sum(lost) from event_kind)")"
