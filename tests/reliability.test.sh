# record under stress: exact loss accounting, kill -9, a full disk, size and
# event limits, rotation, and the privileges it keeps.  Needs root.
source "$(dirname "$0")/lib.sh"
needs_root "reliability tests" || exit 0

# storm N [record options...]: N setuid checks from one waiting process,
# recorded with -p; sets TARGET_PID and leaves the capture in $db.  With
# STALL set, the recorder is stalled (below) while the storm starts.
# (Not STORM_PID: bash owns that name for the coprocess and unsets it.)
storm() {
	local n=$1
	shift
	coproc STORM { exec "$HELPERS/capcheck" setuid "$n" --wait; }
	local line
	read -r line <&"${STORM[0]}"
	TARGET_PID=$(value pid "$line")
	start_record "$db" -p "$TARGET_PID" "$@" || return 1
	echo go >&"${STORM[1]}"
	[ -z "${STALL:-}" ] || stall_record "$TARGET_PID"
	wait "$TARGET_PID"
}
# cpu_ticks PID: the user and system CPU time PID has used, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# stall_record PID: stops the recorder (SIGSTOP) until PID has used 30 ms
# more of CPU making events, thousands of them, then lets it go on: its
# ring surely fills and records are lost however fast the recorder reads,
# as on a host with more cores than one reader can follow; what comes
# after is recorded.
stall_record() {
	kill -STOP "$RECORD_PID"
	local enough=$(($(cpu_ticks "$1") + $(getconf CLK_TCK) * 3 / 100))
	while kill -0 "$1" 2> /dev/null && [ "$(cpu_ticks "$1")" -lt "$enough" ]; do
		sleep 0.005
	done
	kill -CONT "$RECORD_PID"
}

capsetuid_rows() { sql "$1" "select count(*) from ev_capable e join task t on t.id = e.task where t.pid = $TARGET_PID and e.cap = 7"; }
lost_capable() { sql "$1" "select lost from event_kind where name = 'capable'"; }
# The kinds of FILE whose losses by interval or by process do not sum to their
# total ("kind:lost:by-interval:by-process ..."): nothing when every split is exact.
unsplit_losses() {
	sql "$1" "select group_concat(name || ':' || lost || ':' || by_time || ':' || by_process, ' ') from (
		select e.name, e.lost,
			(select coalesce(sum(count), 0) from loss l where l.kind = e.name) as by_time,
			(select coalesce(sum(count), 0) from process_loss p where p.kind = e.name) as by_process
		from event_kind e) where lost != by_time or lost != by_process"
}
# The capable losses FILE names per process: "pid:comm:count ..." by pid, then unattributed.
capable_losers() {
	sql "$1" "select group_concat(who, ' ') from (select coalesce(pid || ':' || comm, 'unattributed') || ':' || count as who
		from process_loss where kind = 'capable' order by pid is null, pid)"
}

# --- Overload: a storm through a 4K ring buffer ----------------------------------
db="$SCRATCH/overload.db"
STALL=1 storm 200000 -e capable -b 4K
stop_record
recorded=$(capsetuid_rows "$db") lost=$(lost_capable "$db")
echo "# overload: 200000 checks generated, $recorded recorded, $lost lost (4K ring)"
check_match "overload: records were lost (the test drives past capacity)" "^[1-9]" "$lost"
check_eq "overload: recorded + lost == generated, exactly" 200000 "$((recorded + lost))"
check_match "overload: the summary says how many were lost" "capable +$recorded recorded +$lost lost" "$(cat "$RECORD_ERR")"
check_eq "overload: the losses by interval and by process sum to each kind's" "" "$(unsplit_losses "$db")"
check_eq "overload: every capable loss is the storm's process's" "$TARGET_PID:capcheck:$lost" "$(capable_losers "$db")"

# --- Connections through a 4K ring: a connect's or close's loss is its process's -----
# Lost where the program runs with interrupts off (bpf/tcp.bpf.c), counted by
# process once they are on again.  -u: the churn alone; its server's closes
# come in softirq, no process's, so -u leaves them out.
db="$SCRATCH/churn-overload.db"
start_record "$db" -u "$test_uid" -e connect,close -b 4K
setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups "$BUILD/bench/churn" 0.5 > "$SCRATCH/churn.out" &
churn=$!
stall_record $churn
wait $churn
stop_record
generated=$(value connections "$(cat "$SCRATCH/churn.out")")
# kind: recorded+lost, then lost, and the losses named the churn's: "kind:generated:lost:lost".
# Recorded: the table's rows of the churn's tasks (its view must show each, checked after).
churn_losses() {
	sql "$db" "select '$1:' || ((select count(*) from ev_$1 e join task k on k.id = e.task
			where k.pid = $churn) + lost) || ':' || lost || ':'
		|| (select coalesce(sum(count), 0) from process_loss where kind = '$1' and pid = $churn)
		from event_kind where name = '$1'"
}
lost=$(sql "$db" "select lost from event_kind where name = 'connect'")
echo "# churn overload: $generated connections, $lost connects and $(sql "$db" "select lost from event_kind where name = 'close'") closes lost (4K ring)"
check_match "churn overload: connects were lost (the test drives past capacity)" "^[1-9]" "$lost"
check_eq "churn overload: connects and closes recorded + lost == generated, each loss the churn's" \
	"connect:$generated:$lost:$lost close:$generated:$(sql "$db" "select lost from event_kind where name = 'close'"):$(sql "$db" "select lost from event_kind where name = 'close'")" \
	"$(churn_losses connect) $(churn_losses close)"
check_eq "churn overload: the views show every row of their tables" \
	"$(sql "$db" "select count(*) from ev_connect") $(sql "$db" "select count(*) from ev_close")" \
	"$(sql "$db" "select count(*) from tcpconnect") $(sql "$db" "select count(*) from tcpclose")"
check_eq "churn overload: the losses by interval and by process sum to each kind's" "" "$(unsplit_losses "$db")"

# --- A flood of checks cannot hide connections ------------------------------------------
# Any user can make capability checks as fast as a core allows.  Two such
# floods as nobody, through small rings (standing in for a many-core host),
# while 20,000 connections are made: the flood's own records overflow, the
# connections' never do (each kind has its own ring).  In bursts of 1000
# that fit a 256K ring, 50 ms apart, the flood must take no room from
# them (one ring for all lost thousands so); all at once, 40k connections a
# second fill a 512K ring in 60 ms, and the rings must be read meanwhile
# whatever the writer does (a thread reads them into a queue: the writer
# committing a million checks a second lost up to 3,589 connects through
# 256K rings so: a stall of some 120 ms, which would lose 2,400 through
# 512K).  The ring is twice that of the bursts so that the reader, at
# real-time priority, is given 60 ms, not 30: two CI runs in some forty lost
# 201 and 635 connects through 256K rings, as a virtual CPU its host holds
# a while would.
# Whether two flooding cores outrun the recorder depends on the host's
# speed that hour: the recorder is stopped for 50 ms while they flood, as a
# loaded host would stop it, so that the checks overflow every time.
# pause_record SECONDS: the recorder stopped that long (SIGSTOP), the floods going on
pause_record() {
	kill -STOP "$RECORD_PID"
	sleep "$1"
	kill -CONT "$RECORD_PID"
}
# flood BURSTS PER_BURST RING LABEL
flood() {
	local bursts=$1 per_burst=$2 ring=$3 label=$4 flooders=() clients="" servers="" out
	db="$SCRATCH/flood-$bursts.db"
	start_record "$db" -b "$ring"
	for _ in 1 2; do
		setpriv --reuid=65534 --regid=65534 --clear-groups "$HELPERS/capcheck" setuid 1000000000 > /dev/null &
		flooders+=($!)
	done
	sleep 0.2
	pause_record 0.05
	for _ in $(seq "$bursts"); do
		out=$("$HELPERS/traffic" accept 4 "$per_burst")
		clients+="$(value client_pid "$out"),"
		servers+="$(value server_pid "$out"),"
		sleep 0.05
	done
	kill "${flooders[@]}"
	wait "${flooders[@]}" 2> /dev/null
	sleep 0.3
	stop_record
	lost() { sql "$db" "select lost from event_kind where name = '$1'"; }
	echo "# flood, $label: $(sql "$db" "select recorded || ' checks recorded, ' || lost || ' lost' from event_kind where name = 'capable'")"
	check_match "flood, $label: the checks overflowed their ring (the test floods)" "^[1-9]" "$(lost capable)"
	check_eq "flood, $label: 20000 connects, all established, none lost" "20000|0|0" \
		"$(sql "$db" "select count(*) from tcpconnect where pid in (${clients%,}) and outcome = 'established'")|$(lost connect)|$(lost outcome)"
	# One CI run in 13 found 19999 and nothing lost: say what the others were, and when lost.
	echo "# flood, $label: connects by outcome: $(sql "$db" "select group_concat(n, ', ') from (select ifnull(outcome, 'none') || ' ' || ifnull(error, '-') || ': ' || count(*) n from tcpconnect where pid in (${clients%,}) group by outcome, error)")"
	echo "# flood, $label: connects lost $(sql "$db" "select ifnull(group_concat(count || ' between looks ' || ((last_t - first_t) / 1000000) || ' ms apart', ', '), 'never') from loss where kind = 'connect'")"
	check_eq "flood, $label: their 20000 accepts, none lost" "20000|0" \
		"$(sql "$db" "select count(*) from tcpaccept where pid in (${servers%,})")|$(lost accept)"
	check_eq "flood, $label: the losses by interval and by process sum to each kind's" "" "$(unsplit_losses "$db")"
	check_eq "flood, $label: both flooders are named among those who lost checks" 2 \
		"$(sql "$db" "select count(*) from process_loss where kind = 'capable' and pid in (${flooders[0]}, ${flooders[1]}) and comm = 'capcheck' and count > 0")"
}
flood 20 1000 256K "in bursts"
flood 1 20000 512K "at once"

# --- When and by whom: a flood of a user of its own, through small rings -------------------
# Only the flood's checks are recorded (-u): every loss is theirs.  The wall
# clock the capture converts its CLOCK_BOOTTIME times to (base_ns + t +
# realtime_offset_ns) is taken half a second off each end of the flood: the
# recorder looks at its loss counts every 10 ms, a look's time bounds a loss.
db="$SCRATCH/flood-losses.db"
start_record "$db" -e capable,process -u "$test_uid" -b 256K
flood_start=$(date +%s%N)
sleep 0.5
flooders=()
for _ in 1 2; do
	setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups "$HELPERS/capcheck" setuid 1000000000 > /dev/null &
	flooders+=($!)
done
sleep 1
pause_record 0.05
sleep 1
kill "${flooders[@]}"
wait "${flooders[@]}" 2> /dev/null
sleep 0.5
flood_end=$(date +%s%N)
stop_record
echo "# flood losses: $(sql "$db" "select count(*) || ' intervals, ' || ((max(last_t) - min(first_t)) / 1000000) || ' ms from the first look to the last' from loss")"
check_match "flood losses: the checks overflowed their ring (the test floods)" "^[1-9]" "$(lost_capable "$db")"
check_eq "flood losses: by interval and by process, they sum to each kind's" "" "$(unsplit_losses "$db")"
check_eq "flood losses: every loss interval lies within the flood" "0" \
	"$(sql "$db" "select count(*) from loss, capture m where m.base_ns + first_t + m.realtime_offset_ns < $flood_start
		or m.base_ns + last_t + m.realtime_offset_ns > $flood_end or first_t >= last_t")"
mapfile -t by_pid < <(printf '%s\n' "${flooders[@]}" | sort -n)
check_match "flood losses: they are the two flooders', each named, none unattributed" \
	"^${by_pid[0]}:capcheck:[1-9][0-9]* ${by_pid[1]}:capcheck:[1-9][0-9]*$" "$(capable_losers "$db")"
check_eq "flood losses: each flooder named as the process table names its exec (pid, start_ns)" 2 \
	"$(sql "$db" "select count(*) from process_loss l join process p on p.pid = l.pid and p.start_ns = l.start_ns and p.how = 'exec' and p.exe like '%/capcheck'")"

# --- kill -9 in the middle of a storm ----------------------------------------------
db="$SCRATCH/killed.db"
coproc STORM { exec "$HELPERS/capcheck" setuid 100000000 --wait; }
read -r line <&"${STORM[0]}"
TARGET_PID=$(value pid "$line")
start_record "$db" -e capable -p "$TARGET_PID"
echo go >&"${STORM[1]}"
sleep 2.5
kill -KILL "$RECORD_PID"
killed_at=$(date +%s%N)
wait "$RECORD_PID" 2> /dev/null
kill "$TARGET_PID" && wait "$TARGET_PID" 2> /dev/null
echo "# kill -9: $(capsetuid_rows "$db") rows kept; last commit $(sql "$db" "select ($killed_at - last_commit_at_ns) / 1000000 from capture") ms before the kill"
check_eq "kill -9: the capture passes integrity_check" ok "$(sql "$db" 'PRAGMA integrity_check')"
check_match "kill -9: it holds the storm's committed events" "^[0-9]{5,}$" "$(capsetuid_rows "$db")"
check_eq "kill -9: the last commit is at most ~1 s before the kill" 1 \
	"$(sql "$db" "select $killed_at - last_commit_at_ns < 1.5e9 from capture")"
check_eq "kill -9: events up to the last commit are there" 1 \
	"$(sql "$db" "select m.last_commit_at_ns - max(c.wall_ns) < 1.5e9 from capable c, capture m")"
check_eq "kill -9: the capture says it did not stop cleanly" "0|" "$(sql "$db" 'select clean_stop, stop_reason from capture')"
check_match "kill -9: report tells the user" "NOT CLEAN" "$("$REPORT" info "$db" 2>&1)"
check_eq "kill -9: the capture has its table of skipped runs (kept at every commit)" 1 \
	"$(sql "$db" "select count(*) from sqlite_schema where name = 'skipped_run'")"

# --- A full disk, filling over several commits as it would during an incident -----
small="$SCRATCH/small"
mkdir "$small" && mount -t tmpfs -o size=2m tmpfs "$small"
db="$small/full.db"
start_record "$db" -e capable -u "$test_uid"
for _ in $(seq 100); do
	kill -0 "$RECORD_PID" 2> /dev/null || break
	setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups "$HELPERS/capcheck" setuid 10000 > /dev/null
	sleep 0.2
done
wait "$RECORD_PID"
rc=$?
check_eq "disk full: record stops with status 1" 1 "$rc"
check_match "disk full: one line on stderr, naming file and cause" \
	"^record: cannot (write|commit) to $db: database or disk is full$" \
	"$(grep -v -e '^record: recording' -e '^record: SHA-256' -e '^[0-9a-f]\{64\}  ' "$RECORD_ERR")"
check_eq "disk full: then the SHA-256 of what it kept, file by file" "$(sha256sum "$db" "$db"-wal 2> /dev/null)" \
	"$(grep -A2 '^record: SHA-256' "$RECORD_ERR" | tail -n +2)"
check_eq "disk full: the capture stays readable" ok "$(sql "$db" 'PRAGMA integrity_check')"
check_eq "disk full: the stop reason is recorded" "0|error: database or disk is full" \
	"$(sql "$db" 'select clean_stop, stop_reason from capture')"
check_match "disk full: report info says why it stopped" \
	"stop +NOT CLEAN \(error: database or disk is full\): the recorder did not finish" "$("$REPORT" info "$db" 2> /dev/null)"
check_match "disk full: committed events are kept" "^[0-9]{4,}$" "$(sql "$db" 'select count(*) from ev_capable')"
umount "$small"

# --- Loss counts the kernel will not give: an error, never a silent 0 --------------
# The preloaded library fails the recorder's map reads past the first reading of
# the counts (one read per record type): the first commit cannot count losses.
db="$SCRATCH/unreadable.db"
types=$(sql "$SCRATCH/overload.db" 'select count(*) from event_kind')
FAIL_LOOKUP_AFTER=$types LD_PRELOAD=$(realpath "$HELPERS/failing-lookup.so") ASAN_OPTIONS=verify_asan_link_order=0 \
	"$RECORD" -o "$db" -q -e capable -d 30 2> "$SCRATCH/unreadable.err"
rc=$?
check_eq "unreadable loss counts: record stops with status 1" 1 "$rc"
check_eq "... saying why, in one line" "record: cannot read the kernel's counts of lost records: Input/output error" \
	"$(grep -vE '^record: (recording|SHA-256 of each file)|^[0-9a-f]{64}  ' "$SCRATCH/unreadable.err")"
check_eq "... and so does the capture, which did not stop cleanly" \
	"0|error: cannot read the kernel's counts of lost records: Input/output error" \
	"$(sql "$db" 'select clean_stop, stop_reason from capture')"
FAIL_LOOKUP_AFTER=0 LD_PRELOAD=$(realpath "$HELPERS/failing-lookup.so") ASAN_OPTIONS=verify_asan_link_order=0 \
	"$RECORD" -o "$SCRATCH/unreadable-at-start.db" -q -e capable -d 30 2> "$SCRATCH/unreadable.err"
check_eq "unreadable from the start: status 1, one line, no file" \
	"1|record: cannot read the kernel's counts of lost records: Input/output error|" \
	"$?|$(cat "$SCRATCH/unreadable.err")|$(ls "$SCRATCH"/unreadable-at-start.db* 2> /dev/null)"

# --- Limits ---------------------------------------------------------------------------------
db="$SCRATCH/max-events.db"
storm 300000 -e capable --max-events 5000
wait "$RECORD_PID"
rc=$?
check_eq "--max-events: a clean stop" "0|1|max-events" "$rc|$(sql "$db" 'select clean_stop, stop_reason from capture')"
# Queued: in the 16M ring and 8M in the recorder's queue (within twice the ring).
check_eq "--max-events: at least the limit, plus only what was queued" 1 \
	"$(sql "$db" "select count(*) between 5000 and 5000 + 2 * 16777216 / 144 from ev_capable")"

db="$SCRATCH/max-size.db"
storm 3000000 -e capable --max-size 1M -b 256K
wait "$RECORD_PID"
rc=$?
check_eq "--max-size: a clean stop" "0|1|max-size" "$rc|$(sql "$db" 'select clean_stop, stop_reason from capture')"
# Past the limit by at most what the ring buffer and the recorder's queue
# held: 16M together (a 256K ring) of records of 144 bytes, ~117,000 rows of ~23 bytes.
check_eq "--max-size 1M: between 1M and 1M + the rows of a 256K ring and its 15.75M queue" 1 \
	"$(sql "$db" "select page_count * page_size between 1048576 and 1048576 + 3 * 1024 * 1024 from pragma_page_count, pragma_page_size")"

# --- Rotation during a storm: each part tells its own losses, whole ---------------------------
db="$SCRATCH/lossy-rotated.db"
STALL=1 storm 600000 -e capable -C 1M -b 256K
stop_record
files=("$SCRATCH"/lossy-rotated*.db)
total=0 lost=0 unsplit="" losers=""
for f in "${files[@]}"; do
	total=$((total + $(capsetuid_rows "$f") + $(lost_capable "$f")))
	lost=$((lost + $(lost_capable "$f")))
	unsplit+=$(unsplit_losses "$f")
	losers+=$(sql "$f" "select count(*) from process_loss where kind = 'capable' and pid != $TARGET_PID")
done
echo "# rotation with losses: ${#files[@]} files, $lost lost"
check_match "-C with losses: several files, and losses (the test drives past capacity)" "^([2-9]|[1-9][0-9]) [1-9]" "${#files[@]} $lost"
check_eq "-C with losses: recorded + lost over all files == generated" 600000 "$total"
check_eq "-C with losses: in each file, losses by interval and by process sum to its totals" "" "$unsplit"
# A loss the kernel counts between the recorder's two readings at a rotation
# (its kind's total, then the map by process) is in one part's total and the
# other's map: the part left with it holds it unattributed (a NULL pid), never
# named to another process.
check_eq "-C with losses: in each file, no capable loss is named to another process than the storm" "$(printf '0%.0s' "${files[@]}")" "$losers"

# --- Rotation -----------------------------------------------------------------------------------
uid=$test_uid
db="$SCRATCH/rotated.db"
coproc STORM { exec setpriv --reuid=$uid --regid=$uid --clear-groups "$HELPERS/capcheck" setuid 600000 --wait; }
read -r line <&"${STORM[0]}"
TARGET_PID=$(value pid "$line")
# A ring that holds the whole storm: lost counts are per kind, so a loss here
# could not be told from the other processes' checks (traffic forks and execs).
start_record "$db" -C 1M -u "$uid" -b 64M
echo go >&"${STORM[1]}"
for _ in 1 2 3 4 5 6; do setpriv --reuid=$uid --regid=$uid --clear-groups "$HELPERS/traffic" accept 4 20 > /dev/null; done
wait "$TARGET_PID"
stop_record
parts=("$SCRATCH"/rotated*.db)
check_match "-C 1M: several files" "^[3-9]|^[1-9][0-9]" "${#parts[@]}"
check_eq "-C: numbered before the extension" "rotated.2.db" "$(basename "$(ls "$SCRATCH"/rotated.2.db)")"
total=0 connects=0 no_outcome=0 bad=""
for n in $(seq ${#parts[@]}); do
	f=$([ "$n" = 1 ] && echo "$db" || echo "$SCRATCH/rotated.$n.db")
	expect=$([ "$n" = ${#parts[@]} ] && echo "1|$n|signal SIGINT" || echo "1|$n|rotated")
	got=$(sql "$f" 'select clean_stop, part, stop_reason from capture')
	[ "$got" == "$expect" ] || bad+="$f: $got "
	total=$((total + $(capsetuid_rows "$f") + $(lost_capable "$f")))
	connects=$((connects + $(sql "$f" 'select count(*) from ev_connect')))
	no_outcome=$((no_outcome + $(sql "$f" 'select count(*) from ev_connect where outcome_state is null')))
done
check_eq "-C: each file is a clean capture with its part number" "" "$bad"
check_eq "-C: recorded + lost over all files == generated" 600000 "$total"
check_eq "-C: 120 connects recorded across the files" 120 "$connects"
check_eq "-C: every connect has its outcome, whichever file holds it" 0 "$no_outcome"
# report info of a part: its number, the set beside it, and why spans overlap.
info_parts="" overlaps=0
for n in $(seq ${#parts[@]}); do
	f=$([ "$n" = 1 ] && echo "$db" || echo "$SCRATCH/rotated.$n.db")
	info_parts+="$("$REPORT" info --format json "$f" | grep '"kind":"connect"' | sed -E 's|.*"part":([0-9]+),"parts":([0-9]+),.*|\1/\2|') "
	[ "$n" = 1 ] && continue
	prev=$([ "$n" = 2 ] && echo "$db" || echo "$SCRATCH/rotated.$((n - 1)).db")
	overlaps=$((overlaps + $(sql "$prev" "select stopped_at_ns from capture") > $(sql "$f" "select started_at_ns from capture")))
done
check_eq "report info --format json: each part's number, and the parts of its recording" \
	"$(for n in $(seq ${#parts[@]}); do printf '%s/%s ' "$n" ${#parts[@]}; done)" "$info_parts"
"$REPORT" info "$SCRATCH/rotated.2.db" > "$SCRATCH/info" 2>&1
check_eq "report info of part 2: says which part, of how many files here" \
	"part      2 of a rotated recording (record -C), ${#parts[@]} of its files here:" \
	"$(grep '^part ' "$SCRATCH/info")"
check_match "... lists every part, itself marked, with its span from the first one's start" \
	"^  +1 +$db +\\+0\\.000 s to \\+[0-9.]+ s, rotated
> 2 +$SCRATCH/rotated\\.2\\.db +\\+[0-9.]+ s to" \
	"$(grep -A2 '^part ' "$SCRATCH/info" | tail -2 | sed 's/^ *> /> /; s/^ *\([0-9]\)/  \1/')"
check_eq "... and, where spans overlap, why" "$((overlaps > 0))" "$(grep -c '^overlap   a part closes once the next one is open' "$SCRATCH/info")"

# --- Runs the kernel skipped: in the capture, per part, as record tells them --------------------
# Forcing a program's run to be skipped takes an interrupt on its CPU while it
# runs: rare.  What the rotated recording's parts hold must sum, per program,
# to what record told on stderr at its stop, whatever it was (often nothing).
told=$(sed -n 's/^record: the kernel skipped \([0-9]*\) runs of \([a-z_0-9]*\),.*/\2:\1/p' "$RECORD_ERR" | sort | tr '\n' ' ')
kept=$(for f in "${parts[@]}"; do sql "$f" "select program || ' ' || runs from skipped_run"; done |
	awk '{ runs[$1] += $2 } END { for (p in runs) print p ":" runs[p] }' | sort | tr '\n' ' ')
echo "# skipped runs over the rotated recording: ${told:-none}"
check_eq "skipped runs: every part has the table" "${#parts[@]}" \
	"$(for f in "${parts[@]}"; do sql "$f" "select count(*) from sqlite_schema where name = 'skipped_run'"; done | grep -c '^1$')"
check_eq "skipped runs: the parts hold, per program, what record told at its stop" "$told" "$kept"
check_eq "skipped runs: a part's rows name the kinds their program records" "" \
	"$(for f in "${parts[@]}"; do sql "$f" "select program from skipped_run where runs <= 0 or (program like 'tcp_state_change%' and kinds != 'connect,accept,close')"; done)"
# report shows them, copied from a part: exactly, where losses are told.
cp "$SCRATCH/rotated.2.db" "$SCRATCH/skipped.db"
sql "$SCRATCH/skipped.db" "delete from skipped_run; insert into skipped_run values ('tcp_state_change', 'connect,accept,close', 12), ('process_exit', 'process', 3)"
"$REPORT" info "$SCRATCH/skipped.db" > "$SCRATCH/info" 2> /dev/null
# One sentence a program, the same in info, summary and html.
sentences="3 runs of process_exit skipped by the kernel: process events may be missing
12 runs of tcp_state_change skipped by the kernel: connect,accept,close events may be missing"
check_eq "report info: one line per program with skipped runs, and the kinds it may miss" \
	"missed    ${sentences//$'\n'/$'\n'missed    }" "$(grep '^missed ' "$SCRATCH/info")"
check_eq "report info --format csv: the capture's skipped runs on each of its rows" \
	"$(sql "$SCRATCH/skipped.db" "select count(*) from event_kind") rows: 3 process_exit process < 12 tcp_state_change connect,accept,close" \
	"$("$REPORT" info --format csv "$SCRATCH/skipped.db" 2> /dev/null | python3 -c 'import csv, sys
rows = list(csv.DictReader(sys.stdin))
print(len(rows), "rows:", " / ".join(sorted({r["skipped_runs"] for r in rows})))')"
check_eq "report info --format json: RUNS PROGRAM KINDS lines" \
	'["3 process_exit process","12 tcp_state_change connect,accept,close"]' \
	"$("$REPORT" info --format json "$SCRATCH/skipped.db" 2> /dev/null | head -1 | sed 's/.*"skipped_runs"://; s/}$//')"
cp "$SCRATCH/skipped.db" "$SCRATCH/untold.db"
sql "$SCRATCH/untold.db" "drop table skipped_run"
check_eq "report info --format json: null where the capture has no table" "null" \
	"$("$REPORT" info --format json "$SCRATCH/untold.db" 2> /dev/null | head -1 | sed 's/.*"skipped_runs"://; s/}$//')"
"$REPORT" tcpconnect "$SCRATCH/skipped.db" > /dev/null 2> "$SCRATCH/err"
check_eq "report tcpconnect: its warning names the skipped runs" \
	"report: $SCRATCH/skipped.db: the kernel skipped 3 runs of process_exit (process), 12 runs of tcp_state_change (connect,accept,close): their events are missing, this report is incomplete" \
	"$(grep skipped "$SCRATCH/err")"
check_eq "report summary: a line per program under its capture" "    ${sentences//$'\n'/$'\n'    }" \
	"$("$REPORT" summary "$SCRATCH/skipped.db" 2> /dev/null | grep 'skipped by the kernel')"
check_eq "report summary --format csv: a row of section skipped per program" \
	"skipped,process_exit,process,3,$(sed -n 1p <<< "$sentences")
skipped,tcp_state_change,\"connect,accept,close\",12,\"$(sed -n 2p <<< "$sentences")\"" \
	"$("$REPORT" summary --format csv "$SCRATCH/skipped.db" 2> /dev/null |
		python3 -c 'import csv, sys
for r in csv.DictReader(sys.stdin):
    if r["section"] == "skipped":
        csv.writer(sys.stdout, lineterminator="\n").writerow([r[k] for k in ("section", "kind", "subject", "count", "detail")])')"
"$REPORT" html -o "$SCRATCH/skipped.html" "$SCRATCH/skipped.db" 2> /dev/null
check_eq "report html: the capture's lost cell says it in the same words" "$sentences" \
	"$(grep -o '<span class="skipped" data-runs="[0-9]*">[^<]*</span>' "$SCRATCH/skipped.html" |
		sed 's/<[^>]*>//g')"
"$REPORT" info "$SCRATCH/rotated.2.db" > "$SCRATCH/info" 2> "$SCRATCH/err"
check_eq "report info of a part: skipped runs as its table says" \
	"$(sql "$SCRATCH/rotated.2.db" "select 'missed    ' || runs || ' runs of ' || program || ' skipped by the kernel: ' || kinds || ' events may be missing' from skipped_run order by program")" \
	"$(grep '^missed ' "$SCRATCH/info")"
check_eq "... and its warning only when the table has a row" "$(sql "$SCRATCH/rotated.2.db" "select count(*) > 0 from skipped_run")" \
	"$(grep -c 'the kernel skipped' "$SCRATCH/err")"
# A count the recorder cannot have written: one line, nothing printed, status 1.
for damage in "update skipped_run set runs = -1 where program = 'process_exit'" \
	"update skipped_run set runs = 'many' where program = 'process_exit'" \
	"update skipped_run set runs = 1.5 where program = 'process_exit'"; do
	cp "$SCRATCH/skipped.db" "$SCRATCH/damaged.db"
	sql "$SCRATCH/damaged.db" "$damage"
	for command in info tcpconnect summary; do
		"$REPORT" "$command" "$SCRATCH/damaged.db" > "$SCRATCH/out" 2> "$SCRATCH/err"
		rc=$?
		check_eq "$damage: $command refuses in one line, nothing on stdout" \
			"1::report: $SCRATCH/damaged.db: cannot read its skipped runs: corrupt capture: a count out of range" \
			"$rc:$(cat "$SCRATCH/out"):$(cat "$SCRATCH/err")"
	done
done

# --- Privileges ---------------------------------------------------------------------------------
caps_of() { awk '/^CapEff|^CapPrm|^CapBnd|^NoNewPrivs/ { printf "%s ", $2 }' "/proc/$1/status"; }
db="$SCRATCH/privileges.db"
start_record "$db" -e capable
wait_privileges_dropped "$RECORD_PID"
check_eq "attached: no capability left, no new privileges" \
	"0000000000000000 0000000000000000 0000000000000000 1 " "$(caps_of "$RECORD_PID")"
# policy:priority of each of its threads, counted ("N*P:R ...")
policies() {
	for task in /proc/"$1"/task/*; do awk '{ print $41 ":" $40 }' "$task/stat"; done |
		sort | uniq -c | awk '{ printf "%s*%s ", $1, $2 }'
}
check_eq "the thread reading the rings runs at the lowest real-time priority (SCHED_RR 1), the writer as it was" \
	"1*0:0 1*2:1 " "$(policies "$RECORD_PID")"
out=$("$HELPERS/capcheck" setuid 3)
sleep 1.2
stop_record
check_eq "... and recording goes on" 3 "$(sql "$db" "select count(*) from capable where pid = $(value pid "$out") and cap = 7")"
check_eq "... and stops cleanly" "0|1" "$RECORD_RC|$(sql "$db" 'select clean_stop from capture')"

others="$SCRATCH/others"
mkdir "$others" && chown 65534:65534 "$others" && chmod 755 "$others"
db="$others/privileges.db"
start_record "$db" -e capable
wait_privileges_dropped "$RECORD_PID"
check_eq "a directory only its owner may write: CAP_DAC_OVERRIDE alone is kept" \
	"0000000000000002 0000000000000002 0000000000000002 1 " "$(caps_of "$RECORD_PID")"
stop_record
check_eq "... and the capture closes cleanly there" "0|1|" "$RECORD_RC|$(sql "$db" 'select clean_stop from capture')|$(ls "$db"-wal 2> /dev/null)"
