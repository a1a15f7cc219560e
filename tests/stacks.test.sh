# record -K -U: stacks stored once per distinct stack, named from the capture
# alone; AUDIT checked against the call paths it was derived from.  Needs root.
source "$(dirname "$0")/lib.sh"
needs_root "stack tests" || exit 0

# Preloaded into record: tells which files it read through other processes and
# when it forked (LOG), and how long it waits to read their mappings (slow-maps.c).
preload() {
	local log=$1 ms=$2
	shift 2
	SLOW_MAPS_LOG=$log SLOW_MAPS_MS=$ms LD_PRELOAD=$(realpath "$HELPERS/slow-maps.so") \
		ASAN_OPTIONS=verify_asan_link_order=0 "$@"
}

# until_read LOG FILE: until the recorder has read FILE through some process, 30 s at most
until_read() {
	for _ in $(seq 600); do
		grep -q "^/proc/[0-9]*/root$2\$" "$1" 2> /dev/null && return
		sleep 0.05
	done
}

# held USER LOG PROGRAM ARGS...: run it as USER with --hold, until the recorder has
# read PROGRAM's file (LOG, the preloaded library's); prints its pid
held() {
	local user=$1 log=$2 out
	shift 2
	coproc HELD { exec setpriv --reuid="$user" --regid="$user" --clear-groups "$@" --hold; }
	read -r out <&"${HELD[0]}"
	until_read "$log" "$1"
	echo go >&"${HELD[1]}"
	wait "$HELD_PID"
	value pid "$out"
}

# read_through LOG PID FILE: the recorder read FILE through process PID (for the symbols)
read_through() {
	grep -qx "/proc/$2/root$3" "$1" && echo yes || echo "no: $(tr '\n' ' ' < "$1")"
}

# frames DB STACK: "symbol module-basename" per frame, innermost first, joined by " < "
frames() {
	sql "$1" "select group_concat(coalesce(f.symbol, '?'), ' < ') from (select f.symbol from stack_frame f where f.stack = $2 order by f.depth) f"
}

# --- A known call chain, from a program deleted before anything reads the capture ---
work=$(mktemp -d "$SCRATCH/prog.XXXX")
cp "$HELPERS/stackcheck" "$work/a.out"
build_id=$(readelf -n "$work/a.out" | sed -n 's/.*Build ID: //p')
db="$SCRATCH/chain.db"
coproc CHAIN { exec "$work/a.out" 1000 --wait --hold; }
read -r line <&"${CHAIN[0]}"
target=$(value pid "$line")
preload "$SCRATCH/chain.read" 0 start_record "$db" -e capable -K -U -p "$target"
echo go >&"${CHAIN[1]}"
until_read "$SCRATCH/chain.read" "$work/a.out" # it lives until then, however late
echo go >&"${CHAIN[1]}"
wait "$target"
sleep 0.3
stop_record
rm -f "$work/a.out"

check_eq "1000 checks, each with a kernel and a user stack" "1000|1000|1000" \
	"$(sql "$db" "select count(*), count(s.kstack), count(s.ustack) from ev_capable e join task t on t.id = e.task left join event_stack s on s.seq = e.seq where t.pid = $target and e.cap = 7")"
check_eq "identical checks share one stored stack of each kind" "1|1|1|1" \
	"$(sql "$db" "select count(distinct kstack), count(distinct ustack), (select count(*) from stack where user = 0), (select count(*) from stack where user = 1) from event_stack")"
kstack=$(sql "$db" "select kstack from event_stack limit 1")
ustack=$(sql "$db" "select ustack from event_stack limit 1")
check_match "the kernel stack starts at cap_capable and names the setuid path" \
	"^cap_capable < security_capable < ns_capable_setid < __sys_setuid < " "$(frames "$db" "$kstack")"
check_eq "the kernel frames are in the kernel module" "kernel" \
	"$(sql "$db" "select group_concat(distinct m.name) from stack_frame f join module m on m.id = f.module where f.stack = $kstack")"
check_match "the user stack names the program's own functions" \
	"^casefile_inner < casefile_middle < casefile_outer < main( < |$)" "$(frames "$db" "$ustack")"
check_eq "the program's frames carry its path and build-id" "$work/a.out|$build_id|0" \
	"$(sql "$db" "select distinct m.name, m.build_id, m.deleted from stack_frame f join module m on m.id = f.module where f.stack = $ustack and f.symbol like 'casefile_%'")"
check_eq "... and offsets addr2line takes, with the symbol offsets" 1 \
	"$(sql "$db" "select count(*) from stack_frame where stack = $ustack and symbol = 'casefile_inner' and offset > 0 and symbol_offset > 0")"

# --- A short-lived process started while recording: named all the same ---------------
# Its first user stacks come from inside its execve, before its code is
# mapped: the recorder must not take that moment's (empty) mappings for the
# image's.  It lives until the recorder has read its program's file, not a
# fixed time that a loaded host's late reads overrun: only its image's own
# mappings lead there, so a recorder that kept the empty ones never does, and
# its frames stay unnamed after the wait's bound.  A user of its own keeps the
# machine's other processes, whose images the recorder would read first, out
# of the way.
db="$SCRATCH/short.db"
cp "$HELPERS/stackcheck" "$work/short"
chmod 0755 "$work"
preload "$SCRATCH/short.read" 0 start_record "$db" -e capable -K -U -u "$test_uid"
short=$(held "$test_uid" "$SCRATCH/short.read" "$work/short" 3)
sleep 0.3
stop_record
check_match "a process started while recording (3 checks, until its program is read) has its functions named" \
	"^casefile_inner < casefile_middle < casefile_outer < main( < |$)" \
	"$(frames "$db" "$(sql "$db" "select s.ustack from ev_capable e join task t on t.id = e.task join event_stack s on s.seq = e.seq where t.pid = $short and e.cap = 7 limit 1")")"

# --- Processes gone before their mappings are read: named from the frames' build-ids ------
# The preloaded library makes every read of another process's mappings wait
# until the process has exited (5 s at most): processes that exit after their
# checks are gone by then, every time.  The kernel gave each frame as its
# file's build-id and offset: libc is known from the recorder's own mappings,
# the program from one run held until the recorder read it.  Both orders: five
# runs' stacks are stored before the program's file is read (known by its
# build-id alone then, named when it is read), five after; the same named
# stack is stored once whichever came first.
db="$SCRATCH/gone.db"
preload "$SCRATCH/gone.read" 5000 start_record "$db" -e capable -K -U -u "$test_uid"
quick=""
gone() {
	for _ in 1 2 3 4 5; do
		out=$(setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups "$work/short" 3 --linger 0)
		quick+="${quick:+,}$(value pid "$out")"
	done
}
gone
unseen="select count(*) from module where name = '[unseen file]' and '$build_id' like build_id || '%'"
for _ in $(seq 600); do # until their stack is stored, committed within a second
	[ "$(sql "$db" "$unseen" 2> /dev/null)" = 1 ] && break
	sleep 0.05
done
holder=$(held "$test_uid" "$SCRATCH/gone.read" "$work/short" 3)
quick+=",$holder"
gone
sleep 0.3
stop_record
# Its parser process forked while the ring reader ran: a lock of ASan's allocator
# held then was the child's for ever, and it was killed, unnamed frames left.
check_eq "record forks its parser before any thread starts" "fork with 1 threads" \
	"$(grep '^fork' "$SCRATCH/gone.read")"
# Its end is checked too: the sanitizers' runtime once made a call its filter refused.
check_eq "the program's file was read through the held process, its parser alive to its end" "yes|" \
	"$(read_through "$SCRATCH/gone.read" "$holder" "$work/short")|$(grep 'parser process' "$db.stderr")"
chains=$(sql "$db" "select group_concat(coalesce(f.symbol, '?') || '@' || coalesce(m.name, '?'), ' < ') from (select distinct s.ustack from ev_capable e join task t on t.id = e.task join event_stack s on s.seq = e.seq where t.pid in ($quick) and e.cap = 7) u join stack_frame f on f.stack = u.ustack left join module m on m.id = f.module group by u.ustack")
check_eq "10 processes that exited at once and one held: their 33 checks have user stacks" 33 \
	"$(sql "$db" "select count(s.ustack) from ev_capable e join task t on t.id = e.task join event_stack s on s.seq = e.seq where t.pid in ($quick) and e.cap = 7")"
check_eq "... the first five's stacks stored before the program's file was read" 1 "$(sql "$db" "$unseen")"
check_match "... each frame named: the program's functions, then libc by path" \
	"^casefile_inner@$work/short < casefile_middle@$work/short < casefile_outer@$work/short < main@$work/short < \\?@/[^ ]*libc\\.so[^ ]*$" \
	"$chains"
check_eq "... the same named stack for all of them, stored before and after the read" 1 "$(wc -l <<< "$chains")"

# --- A frame-pointer walk that leaves the stack: cut there, and said ---------------------
db="$SCRATCH/lost.db"
start_record "$db" -e capable -U -u "$test_uid"
garbage=$(setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups "$work/short" 2 --garbage)
data=$(setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups "$work/short" 2 --data)
sleep 0.3
stop_record
cut() {
	sql "$db" "select distinct st.frames || '|' || coalesce(st.cut_at, 'none') || '|' || f.symbol from ev_capable e join task t on t.id = e.task join event_stack s on s.seq = e.seq join stack st on st.id = s.ustack join stack_frame f on f.stack = st.id where t.pid = $(value pid "$1") and e.cap = 7"
}
check_eq "a return address made of text bytes ends the walk, kept as where it ended" \
	"1|$((0x206573726170206f))|casefile_lost" "$(cut "$garbage")"
check_match "a return address in the program's data ends the walk too" "^1\|[0-9]+\|casefile_lost$" "$(cut "$data")"
"$REPORT" capable -U -p "$(value pid "$garbage")" --comm short "$db" > "$SCRATCH/lost.out" 2>&1
check_match "report: the frame, then the mark, never the garbage as a frame" \
	"^ +casefile_lost\\+0x[0-9a-f]+ \\[short\\] +\\[walk ended: 0x206573726170206f is not code\\]$" \
	"$(grep -m2 '^        ' "$SCRATCH/lost.out" | paste -sd' ')"

# --- AUDIT, against the call paths it was derived from -----------------------------------
db="$SCRATCH/audit.db"
start_record "$db" -e capable -K
"$HELPERS/capcheck" setuid 20 > "$SCRATCH/setuid.out"
"$HELPERS/capcheck" seccomp 20 > "$SCRATCH/seccomp.out"
sleep 0.3
stop_record
# paths DB AUDIT: the distinct requesting functions of checks with that AUDIT value
stack_has() {
	sql "$db" "select count(*) from capable c join event_stack s on s.seq = c.seq where c.audit $1 and $2 exists (select 1 from stack_frame f where f.stack = s.kstack and f.symbol in ($3))"
}
noaudit="'ns_capable_noaudit','has_ns_capability_noaudit','has_capability_noaudit','ptracer_capable','security_vm_enough_memory_mm','cap_vm_enough_memory'"
audit="'capable','ns_capable','ns_capable_setid','has_ns_capability','has_capability','file_ns_capable','capable_wrt_inode_uidgid','cap_mmap_addr','security_mmap_addr'"
check_eq "setuid checks: audited, through ns_capable_setid" "20|1" \
	"$(sql "$db" "select count(*), group_concat(distinct audit) from capable c join event_stack s on s.seq = c.seq where c.pid = $(value pid "$(cat "$SCRATCH/setuid.out")") and c.cap = 7 and exists (select 1 from stack_frame f where f.stack = s.kstack and f.symbol = 'ns_capable_setid')")"
seccomp_pid=$(value pid "$(cat "$SCRATCH/seccomp.out")")
check_eq "seccomp filters: one non-audited check each, do_seccomp -> ns_capable_noaudit" "20|0" \
	"$(sql "$db" "select count(*), group_concat(distinct audit) from capable c join event_stack s on s.seq = c.seq where c.pid = $seccomp_pid and c.cap = 21 and exists (select 1 from stack_frame f join stack_frame g on g.stack = f.stack and g.depth = f.depth + 1 where f.stack = s.kstack and f.symbol = 'ns_capable_noaudit' and g.symbol = 'do_seccomp')")"
check_eq "all the seccomp helper's CAP_SYS_ADMIN checks are non-audited" "0" \
	"$(sql "$db" "select group_concat(distinct coalesce(audit, 'NULL')) from capable where pid = $seccomp_pid and cap = 21")"
check_match "mmap and fork checks: not audited, through the vm_enough_memory hook" "^[1-9]" \
	"$(stack_has "= 0" "" "'security_vm_enough_memory_mm'")"
# first_lacking AUDIT LIST: the first such check that lacks one, its comm and first frames
first_lacking() {
	sql "$db" "select c.comm || ' cap ' || c.cap || ': ' || (select group_concat(symbol, ' < ') from (select f.symbol from stack_frame f where f.stack = s.kstack order by f.depth limit 8)) from capable c join event_stack s on s.seq = c.seq where c.audit $1 and not exists (select 1 from stack_frame f where f.stack = s.kstack and f.symbol in ($2)) limit 1"
}
# Host-wide: on a failure, the first offender says which call path was missed.
check_eq "every non-audited check has a non-audit requester in its stack" "0|" \
	"$(stack_has "= 0" not "$noaudit")|$(first_lacking "= 0" "$noaudit")"
check_eq "every audited check has an audit requester in its stack" "0|" \
	"$(stack_has "= 1" not "$audit")|$(first_lacking "= 1" "$audit")"
check_eq "no check with a known requester is left unknown" 0 \
	"$(sql "$db" "select count(*) from capable c join event_stack s on s.seq = c.seq where c.audit is null and exists (select 1 from stack_frame f where f.stack = s.kstack and f.depth <= 4 and f.symbol in ($noaudit, $audit))")"

# --- AUDIT learned per call path, against AUDIT from each check's own frames ----------------
# Without -K a check whose call path the recorder has learned takes no frames:
# the same checks, run under a recorder with -K (every check derived from
# its own stack) and then under one without, get the same AUDIT.
# CAP_SYS_ADMIN comes through two requesters that decide AUDIT differently
# (seccomp: ns_capable_noaudit; sethostname: ns_capable), each path learned
# after its first checks (the sleeps let the recorder poll), and must keep
# its own AUDIT.  One recorder at a time: with a second program on the
# tracepoint, the words above its arguments change from one check to the
# next (Linux 6.18), paths are seldom learned, and checks take their frames.
framed="$SCRATCH/framed.db" learned="$SCRATCH/learned.db"
# capability_paths DB [RECORD OPTIONS...]: the checks under a recorder of them
capability_paths() {
	local db=$1
	shift
	start_record "$db" -e capable "$@"
	sleep 0.5 # the recorder reads the kernel's symbols after attaching
	"$HELPERS/capcheck" seccomp 50 hostname 50 setuid 50 sleep 1 seccomp 200 hostname 200 setuid 200 \
		sleep 1 hostname 100 seccomp 100 > "$SCRATCH/paths.out"
	sleep 0.3
	stop_record
	paths_pid=$(value pid "$(cat "$SCRATCH/paths.out")")
}
capability_paths "$framed" -K
framed_pid=$paths_pid
capability_paths "$learned"
learned_pid=$paths_pid learned_err=$RECORD_ERR
# by_audit DB PID: "cap:audit:count" for the helper's checks
by_audit() {
	sql "$1" "select group_concat(cap || ':' || coalesce(audit, 'NULL') || ':' || n, ' ') from (select cap, audit, count(*) n from capable where pid = $2 group by cap, audit order by cap, audit)"
}
# (more non-audited CAP_SYS_ADMIN checks than filters: memory the process maps asks too)
each_path="^7:1:250 21:0:(3[5-9][0-9]|[4-9][0-9]{2}|[0-9]{4,}) 21:1:350$"
check_match "with -K, each path's own AUDIT: seccomp and sethostname differ, setuid audited" \
	"$each_path" "$(by_audit "$framed" "$framed_pid")"
check_match "AUDIT learned per call path is each path's own, as with -K" \
	"$each_path" "$(by_audit "$learned" "$learned_pid")"
check_match "most checks came with their AUDIT, learned from their path's first ones" \
	"capable AUDIT: ([5-9][0-9]{2}|[0-9]{4,}) came with the check" "$(cat "$learned_err")"

# --- TCP events with stacks, chosen in -e --------------------------------------------------
db="$SCRATCH/tcp.db"
start_record "$db" -K -U -e connect:stack,accept,reset:stack
out=$("$HELPERS/traffic" abort 4)
sleep 0.3
stop_record
client=$(value client_pid "$out")
check_match "connect:stack: the connect's kernel stack is connect()'s" "tcp_v4_connect < __inet_stream_connect" \
	"$(frames "$db" "$(sql "$db" "select s.kstack from tcpconnect c join event_stack s on s.seq = c.seq where c.pid = $client")")"
check_match "connect:stack: its user stack goes through libc's connect to main" "^connect < main" \
	"$(frames "$db" "$(sql "$db" "select s.ustack from tcpconnect c join event_stack s on s.seq = c.seq where c.pid = $client")")"
check_eq "accept without :stack has none" 0 "$(sql "$db" "select count(*) from ev_accept a join event_stack s on s.seq = a.seq")"
check_match "reset:stack: an application's RST shows close() to tcp_send_active_reset" \
	"^tcp_send_active_reset < tcp_disconnect < __tcp_close < tcp_close" \
	"$(frames "$db" "$(sql "$db" "select s.kstack from tcpreset r join event_stack s on s.seq = r.seq where r.pid = $client")")"

# --- Options ---------------------------------------------------------------------------------
"$RECORD" -o "$SCRATCH/x.db" -e connect:stack > /dev/null 2> "$SCRATCH/err"
check_eq ":stack without -K or -U is refused" "2|record: ':stack' in -e needs -K or -U" "$?|$(cat "$SCRATCH/err")"
"$RECORD" -o "$SCRATCH/x.db" -e connect -K > /dev/null 2> "$SCRATCH/err"
check_match "-K with nothing to take stacks of is refused" "^2\|record: -K and -U take stacks" "$?|$(cat "$SCRATCH/err")"
"$RECORD" -o "$SCRATCH/x.db" -e connect:heap -K > /dev/null 2> "$SCRATCH/err"
check_match "an unknown mark is refused" "^2\|record: unknown event kind 'connect:heap'" "$?|$(cat "$SCRATCH/err")"
check_eq "... and nothing was created" "" "$(ls "$SCRATCH/x.db" 2> /dev/null)"

db="$SCRATCH/caps.db"
start_record "$db" -e capable -U
wait_privileges_dropped "$RECORD_PID"
check_eq "-U: every thread keeps only what naming user frames needs (PTRACE, DAC_READ_SEARCH, CHECKPOINT_RESTORE), the ring reader nothing" \
	"0000000000000000 0000000000000000 0000000000000000 1 
0000010000080004 0000010000080004 0000010000080004 1 " \
	"$(for task in /proc/"$RECORD_PID"/task/*; do awk '/^CapEff|^CapPrm|^CapBnd|^NoNewPrivs/ { printf "%s ", $2 }' "$task/status"; echo; done | sort -u)"
check_eq "-U: the image watcher and the ring reader are threads of their own" 3 "$(find /proc/"$RECORD_PID"/task -mindepth 1 -maxdepth 1 | wc -l)"
stop_record
