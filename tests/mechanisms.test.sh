# mechanisms: each kind is recorded the best way the running kernel offers,
# the capture and `report info` say which, and a kernel that offers less
# (made to look so with CASEFILE_HIDE) gets the alternatives, with the same
# exact events, or a one-line refusal per kind.  Needs root.
source "$(dirname "$0")/lib.sh"
needs_root "mechanism tests" || exit 0

# mechanisms DB: "name=mechanism" per recorded kind, one line each
mechanisms() { sql "$1" "select name || '=' || mechanism from event_kind where enabled order by name"; }

# --- This kernel: the best of each ------------------------------------------
# What this kernel offers, read from its BTF by bpftool rather than by record.
bpftool btf dump file /sys/kernel/btf/vmlinux > "$SCRATCH/btf.txt"
offers() { grep -q "^\[[0-9]*\] $1 '$2'" "$SCRATCH/btf.txt"; }
# tracepoint_args NAME: its arguments, from btf_trace_NAME -> pointer -> prototype
tracepoint_args() {
	awk -v name="'btf_trace_$1'" '
		{ id = substr($1, 2, length($1) - 2); sub(/type_id=/, "", $4); next_of[id] = $4; vlen[id] = $NF }
		$2 == "TYPEDEF" && $3 == name { want = $4 }
		END { sub(/vlen=/, "", vlen[next_of[want]]); print vlen[next_of[want]] - 1 }' "$SCRATCH/btf.txt"
}
ways=$(offers FUNC bpf_rdonly_cast && echo "kfunc bpf_rdonly_cast" || echo "CO-RE reads")
# The state changes' programs: one with interrupts off, if the kernel lets it turn them off.
states=$(offers FUNC bpf_rdonly_cast && offers FUNC bpf_local_irq_save &&
	echo "kfuncs bpf_rdonly_cast and bpf_local_irq_save" || echo "$ways")
resets=$([ "$(tracepoint_args tcp_send_reset)" = 3 ] && echo "tp_btf/tcp_send_reset, $ways" ||
	echo "tp_btf/tcp_send_reset for full sockets, fentry/tcp_v{4,6}_send_reset for the others")
capable=$(offers TYPEDEF btf_trace_cap_capable && echo "tp_btf/cap_capable, AUDIT from the stack, learned per call path" ||
	echo "fexit/cap_capable, AUDIT from its opts")
process=$([ "$(tracepoint_args sched_process_exit)" = 2 ] && echo "tp_btf/sched_process_{exec,fork,exit}" ||
	echo "tp_btf/sched_process_{exec,fork,exit}, group death from signal->live")

db="$SCRATCH/best.db"
start_record "$db" || { fail "record starts" "$(cat "$RECORD_ERR")"; exit 0; }
stop_record INT
check_eq "every kind has the best mechanism this kernel offers" \
	"accept=tracepoint/syscalls/sys_exit_accept{,4}, $states
capable=$capable
close=tp_btf/inet_sock_set_state, $states
connect=tp_btf/inet_sock_set_state, $states
dns=cgroup_skb/ingress on the cgroup v2 root
exec=$process
exit=$process
fork=$process
outcome=tp_btf/inet_sock_set_state, $states
reset=$resets
unaccepted=tracepoint/syscalls/sys_exit_accept{,4}, $states" "$(mechanisms "$db")"
check_match "report info shows each kind's mechanism" \
	"EVENTS +RECORDED +LOST +MECHANISM.*"$'\n'"capable +[0-9]+ +0 +$capable" \
	"$("$REPORT" info "$db")"
check_eq "report info --format json carries the mechanism per kind" \
	"fexit/cap_capable, AUDIT from its opts" \
	"$(sqlite3 "$db" "update event_kind set mechanism = 'fexit/cap_capable, AUDIT from its opts' where name = 'capable'" &&
		"$REPORT" info --format json "$db" | sed -n 's/.*"kind":"capable".*"mechanism":"\([^"]*\)".*/\1/p')"
sqlite3 "$SCRATCH/old.db" < fixtures/basic.sql
check_eq "a capture of an older recorder, without mechanisms, reads with no column" \
	"EVENTS         RECORDED       LOST|null" \
	"$("$REPORT" info "$SCRATCH/old.db" | grep '^EVENTS')|$("$REPORT" info --format json "$SCRATCH/old.db" |
		sed -n 's/.*"kind":"capable".*"mechanism":\([a-z]*\).*/\1/p')"

# --- Without the kfunc and the exit tracepoint's group_dead -------------------
export CASEFILE_HIDE=bpf_rdonly_cast,btf_trace_sched_process_exit/2
db="$SCRATCH/older.db"
start_record "$db" || { fail "record starts without the kfunc" "$(cat "$RECORD_ERR")"; exit 0; }
accept=$("$HELPERS/traffic" accept 4 3)
refused=$("$HELPERS/traffic" refused 6)
spawner=$(bash -c 'for _ in 1 2 3 4 5; do /bin/true; done; echo $$')
storm=$("$BUILD/bench/storm" 0.2 2)
sleep 0.3
stop_record INT
unset CASEFILE_HIDE
check_eq "without the kfunc, CO-RE reads; without group_dead, signal->live" \
	"accept=tracepoint/syscalls/sys_exit_accept{,4}, CO-RE reads
close=tp_btf/inet_sock_set_state, CO-RE reads
connect=tp_btf/inet_sock_set_state, CO-RE reads
exit=tp_btf/sched_process_{exec,fork,exit}, group death from signal->live
reset=${resets/kfunc bpf_rdonly_cast/CO-RE reads}" \
	"$(mechanisms "$db" | grep -E '^(accept|close|connect|exit|reset)=')"
server=$(value server_pid "$accept") client=$(value client_pid "$accept") port=$(value port "$accept")
check_eq "CO-RE reads: 3 connects established, with their local ports" 3 \
	"$(sql "$db" "select count(*) from tcpconnect where pid=$client and dport=$port and outcome='established' and lport>0 and saddr='127.0.0.1'")"
check_eq "CO-RE reads: 3 accepts by the server, each from a connect's port" 3 \
	"$(sql "$db" "select count(*) from tcpaccept a where pid=$server and lport=$port and laddr='127.0.0.1' and exists (select 1 from tcpconnect c where c.pid=$client and c.lport=a.rport)")"
check_eq "CO-RE reads: the 3 connections close at both ends, established" 6 \
	"$(sql "$db" "select count(*) from tcpclose where established=1 and ((lport=$port and laddr='127.0.0.1') or (rport=$port and raddr='127.0.0.1'))")"
# The accepts, read by CO-RE, take their sockets by the same key as the state changes do.
check_eq "CO-RE reads: the 3 accepted connections are not unaccepted" 0 \
	"$(sql "$db" "select count(*) from ev_unaccepted where lport=$port")"
client=$(value client_pid "$refused") port=$(value port "$refused")
check_eq "CO-RE reads: the refused connect closes from SYN_SENT, never established" 1 \
	"$(sql "$db" "select count(*) from tcpclose where rport=$port and raddr='::1' and closed_from='SYN_SENT' and established=0")"
check_eq "CO-RE reads: a refused IPv6 connect and the reset of the closed port" "1|1" \
	"$(sql "$db" "select (select count(*) from tcpconnect where pid=$client and dport=$port and outcome='refused' and daddr='::1'), (select count(*) from tcpreset where lport=$port and laddr='::1' and state is null and pid=0)")"
check_eq "signal->live: each of 5 children's exec and exit, once" "5|5" \
	"$(sql "$db" "select (select count(*) from process where ppid=$spawner and how='exec' and exe='/usr/bin/true'), (select count(*) from ev_exit e join task t on t.id=e.task where t.ppid=$spawner and t.comm='true')")"
storm_pid=$(value pid "$storm")
check_eq "signal->live: a process of three threads exits once" 1 \
	"$(sql "$db" "select count(*) from ev_exit e join task t on t.id=e.task where t.pid=$storm_pid")"

# --- Interrupts left on: a second program takes what the first misses ----------
# As on 6.2 to 6.13: the kfunc, but no bpf_local_irq_save.
export CASEFILE_HIDE=bpf_local_irq_save
db="$SCRATCH/two.db"
start_record "$db" || { fail "record starts without bpf_local_irq_save" "$(cat "$RECORD_ERR")"; exit 0; }
accept=$("$HELPERS/traffic" accept 4 3)
sleep 0.3
stop_record INT
unset CASEFILE_HIDE
check_eq "without bpf_local_irq_save, two programs take the state changes, with the kfunc" \
	"tp_btf/inet_sock_set_state, $ways" \
	"$(sql "$db" "select distinct mechanism from event_kind where name in ('connect', 'close', 'outcome')")"
server=$(value server_pid "$accept") client=$(value client_pid "$accept") port=$(value port "$accept")
check_eq "two programs: 3 connects established, 3 accepts, 6 closes, none unaccepted" "3|3|6|0" \
	"$(sql "$db" "select (select count(*) from tcpconnect where pid=$client and dport=$port and outcome='established' and lport>0), (select count(*) from tcpaccept where pid=$server and lport=$port), (select count(*) from tcpclose where established=1 and ((lport=$port and laddr='127.0.0.1') or (rport=$port and raddr='127.0.0.1'))), (select count(*) from ev_unaccepted where lport=$port)")"

# --- A kind this kernel cannot record ----------------------------------------
no_capable="record: this kernel cannot record capable: it lacks the tracepoint capability:cap_capable (Linux 6.14+), or fexit on cap_capable"
db="$SCRATCH/refused.db"
CASEFILE_HIDE=btf_trace_cap_capable,cap_capable "$RECORD" -o "$db" -q -d 1 -e connect,capable 2> "$SCRATCH/refused.err"
check_eq "asked for with -e, a kind this kernel lacks is refused in one line" "1|$no_capable|no file" \
	"$?|$(cat "$SCRATCH/refused.err")|$([ -e "$db" ] && echo file || echo no file)"
db="$SCRATCH/default.db"
CASEFILE_HIDE=btf_trace_cap_capable,cap_capable "$RECORD" -o "$db" -q -d 1 2> "$SCRATCH/default.err"
check_eq "by default, it is named and left out; the others are recorded" \
	"0|$no_capable|connect,accept,reset,process,dns,close|0|" \
	"$?|$(head -1 "$SCRATCH/default.err")|$(sql "$db" "select event_kinds from capture")|$(sql "$db" "select enabled, mechanism from event_kind where name = 'capable'")"
CASEFILE_HIDE=BPF_MAP_TYPE_RINGBUF "$RECORD" -o "$SCRATCH/floor.db" -q -d 1 2> "$SCRATCH/floor.err"
check_eq "below the floor (no ring buffer), every kind is named, one line each, and record fails" \
	"1|7|7" "$?|$(wc -l < "$SCRATCH/floor.err")|$(grep -c "^record: this kernel cannot record [a-z]*: it lacks BPF ring buffers (Linux 5.8+)$" "$SCRATCH/floor.err")"

# Without the tracepoint, fexit if this kernel lets a program attach to
# cap_capable (tried at start), else one line; never a failed load.
db="$SCRATCH/fexit.db"
CASEFILE_HIDE=btf_trace_cap_capable "$RECORD" -o "$db" -q -d 1 -e capable 2> "$SCRATCH/fexit.err"
rc=$?
if [ $rc = 0 ]; then
	check_eq "without the tracepoint, fexit records the checks, AUDIT from their opts" \
		"fexit/cap_capable, AUDIT from its opts|0" \
		"$(sql "$db" "select mechanism from event_kind where name = 'capable'")|$(sql "$db" "select count(*) from ev_capable where audit is null")"
else
	check_eq "without the tracepoint, and fexit refused by this kernel, one line" \
		"1|record: this kernel cannot record capable: it lacks the tracepoint capability:cap_capable (Linux 6.14+), or fexit on cap_capable" \
		"$rc|$(cat "$SCRATCH/fexit.err")"
fi

# --- DNS answers: on the cgroup v2 root, or a packet socket's filter -------------
# answers NAME N [NETNS]: N answers for NAME over loopback, in a network
# namespace of their own if NETNS is given; then the count record kept.
answers() {
	if [ -n "${3:-}" ]; then
		unshare -n sh -c "ip link set lo up && exec $HELPERS/dnsanswer $1 $2" > /dev/null
	else
		"$HELPERS/dnsanswer" "$1" "$2" > /dev/null
	fi
}
dns_rows() { sql "$1" "select count(*) || '|' || count(distinct address) from dns where name = '$2' and ttl = 300"; }
name=host$$.casefile.test other=netns$$.casefile.test
# record_answers DB WHERE: record -e dns into DB while 7 answers come here
# and 5 in another network namespace
record_answers() {
	start_record "$1" -e dns || { fail "record starts for DNS $2" "$(cat "$RECORD_ERR")"; exit 0; }
	answers "$name" 7
	answers "$other" 5 netns
	sleep 0.3
	stop_record INT
}
db="$SCRATCH/dns.db"
record_answers "$db" "on the cgroup v2 root"
check_eq "on the cgroup v2 root: 7 answers here and 5 in another network namespace, each once" \
	"cgroup_skb/ingress on the cgroup v2 root|7|7|5|5|0" \
	"$(sql "$db" "select mechanism from event_kind where name = 'dns'")|$(dns_rows "$db" "$name")|$(dns_rows "$db" "$other")|$(sql "$db" "select lost from event_kind where name = 'dns'")"

export CASEFILE_HIDE=cgroup2
db="$SCRATCH/dns-packet.db"
record_answers "$db" "without cgroup v2"
unset CASEFILE_HIDE
check_eq "without cgroup v2, a packet socket's filter: the 7 answers of its network namespace only" \
	"socket filter on a packet socket|7|7|0|0" \
	"$(sql "$db" "select mechanism from event_kind where name = 'dns'")|$(dns_rows "$db" "$name")|$(dns_rows "$db" "$other")"

# cgroup v2 not mounted (a fresh machine): record mounts it for itself alone;
# and on the cgroup v2 root, DNS needs no CAP_NET_RAW.
db="$SCRATCH/dns-mount.db"
unshare -m sh -c "grep ' cgroup2 ' /proc/self/mounts | cut -d' ' -f2 | xargs -r umount
	setpriv --bounding-set=-net_raw -- $RECORD -o $db -q -e dns 2> $db.stderr &
	record=\$!
	for _ in \$(seq 200); do grep -qs '^record: recording' $db.stderr && break; sleep 0.05; done
	$HELPERS/dnsanswer $name 3 > /dev/null
	sleep 0.3
	kill -INT \$record
	wait \$record
	echo \$?
	grep -c ' cgroup2 ' /proc/self/mounts" > "$SCRATCH/mount.out"
check_eq "without a cgroup2 mount nor CAP_NET_RAW: record mounts its own, the 3 answers kept, no mount left here" \
	"0|0|cgroup_skb/ingress on the cgroup v2 root|3|3" \
	"$(paste -sd'|' "$SCRATCH/mount.out")|$(sql "$db" "select mechanism from event_kind where name = 'dns'")|$(dns_rows "$db" "$name")"

# In a cgroup namespace of its own (a container's), the root is out of reach:
# the packet socket, as before.  A subtree bound where cgroup2 is mounted:
# record mounts the root for itself, and sees the other namespace's answers.
db="$SCRATCH/dns-cgroupns.db"
# until_recording FILE: until record's stderr there says it records (10 s at most)
until_recording() { for _ in $(seq 200); do grep -qs '^record: recording' "$1" && return; sleep 0.05; done; }
unshare -C "$RECORD" -o "$db" -q -e dns 2> "$db.err" &
until_recording "$db.err"
answers "$name" 2
sleep 0.3
kill -INT $!
wait $!
check_eq "in a cgroup namespace of its own: the packet socket, its 2 answers" \
	"socket filter on a packet socket|2|2" \
	"$(sql "$db" "select mechanism from event_kind where name = 'dns'")|$(dns_rows "$db" "$name")"
cgroup2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
subtree="$cgroup2/casefile-test-$$"
mkdir "$subtree"
db="$SCRATCH/dns-subtree.db"
unshare -m sh -c "mount --bind $subtree $cgroup2 && exec $RECORD -o $db -q -e dns" 2> "$db.err" &
until_recording "$db.err"
answers "$other" 4 netns
sleep 0.3
kill -INT $!
wait $!
rmdir "$subtree"
check_eq "a subtree where cgroup2 is mounted: record mounts the root, the other namespace's 4 answers" \
	"cgroup_skb/ingress on the cgroup v2 root|4|4" \
	"$(sql "$db" "select mechanism from event_kind where name = 'dns'")|$(dns_rows "$db" "$other")"
