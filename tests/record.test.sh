# record: real BPF programs, real loopback traffic, real capability checks,
# and what lands in the capture.  Needs root.
source "$(dirname "$0")/lib.sh"
needs_root "record tests" || exit 0

# --- One capture with every kind of event -----------------------------------
db="$SCRATCH/all.db"
start_record "$db" || { fail "record starts" "$(cat "$RECORD_ERR")"; exit 0; }
recorder_pid=$RECORD_PID

# A child cgroup, so the cgroup id of the capability checks is known.
cgroup2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
test_cgroup="$cgroup2/casefile-test-$$"
mkdir -p "$test_cgroup"
test_cgroup_id=$(stat -c %i "$test_cgroup")

# (read by name below: out_var=accept$family, ${!out_var})
# shellcheck disable=SC2034
{
	accept4=$("$HELPERS/traffic" accept 4 10)
	accept6=$("$HELPERS/traffic" accept 6 10)
	refused4=$("$HELPERS/traffic" refused 4)
	refused6=$("$HELPERS/traffic" refused 6)
	abort4=$("$HELPERS/traffic" abort 4)
	abort6=$("$HELPERS/traffic" abort 6)
	unaccepted4=$("$HELPERS/traffic" unaccepted 4)
	unaccepted6=$("$HELPERS/traffic" unaccepted 6)
}
setuid_from=$(date +%s%N)
(echo $BASHPID > "$test_cgroup/cgroup.procs" && exec "$HELPERS/capcheck" setuid 1000) > "$SCRATCH/setuid.out"
setuid_to=$(date +%s%N)
setuid_pid=$(value pid "$(cat "$SCRATCH/setuid.out")")
"$HELPERS/capcheck" seccomp 50 > "$SCRATCH/seccomp.out" &
wait $!
seccomp_pid=$(value pid "$(cat "$SCRATCH/seccomp.out")")
setpriv --reuid=65534 --regid=65534 --clear-groups "$HELPERS/capcheck" setuid 20 > "$SCRATCH/denied.out"
denied_pid=$(value pid "$(cat "$SCRATCH/denied.out")")
sleep 0.3
stop_record INT
rmdir "$test_cgroup"

check_eq "SIGINT stops record with status 0" 0 "$RECORD_RC"
check_eq "clean stop is recorded" "1|signal SIGINT" "$(sql "$db" 'select clean_stop, stop_reason from capture')"
check_eq "the capture has mode 0600" 600 "$(stat -c %a "$db")"
check_eq "the capture is one file after a clean stop" "" "$(ls "$db"-wal "$db"-shm 2> /dev/null)"
check_match "the stop summary counts events per kind" "capable +[0-9]+ recorded +0 lost" "$(cat "$RECORD_ERR")"

for family in 4 6; do
	out_var=accept$family
	out=${!out_var}
	server=$(value server_pid "$out") client=$(value client_pid "$out") port=$(value port "$out")
	lo=$([ $family = 4 ] && echo 127.0.0.1 || echo ::1)
	check_eq "IPv$family: 10 connects by the client" 10 \
		"$(sql "$db" "select count(*) from tcpconnect where pid=$client and ip=$family and daddr='$lo' and saddr='$lo' and dport=$port")"
	check_eq "IPv$family: connects established, with port and latency" 10 \
		"$(sql "$db" "select count(*) from tcpconnect where pid=$client and dport=$port and outcome='established' and error=0 and lport>0 and latency_ns>0")"
	check_eq "IPv$family: 10 accepts attributed to the accepting server" 10 \
		"$(sql "$db" "select count(*) from tcpaccept where pid=$server and tid=$server and ip=$family and laddr='$lo' and lport=$port and raddr='$lo'")"
	check_eq "IPv$family: no accept attributed to the connecting client" 0 \
		"$(sql "$db" "select count(*) from tcpaccept where pid=$client")"
	check_eq "IPv$family: each accept's remote port is a connect's local port" 0 \
		"$(sql "$db" "select count(*) from tcpaccept a where pid=$server and not exists (select 1 from tcpconnect c where c.pid=$client and c.lport=a.rport)")"

	out_var=refused$family
	out=${!out_var}
	client=$(value client_pid "$out") port=$(value port "$out")
	check_eq "IPv$family: a connect to a closed port is refused" "refused|111" \
		"$(sql "$db" "select outcome, error from tcpconnect where pid=$client and dport=$port")"
	check_eq "IPv$family: the closed port's RST: no socket, no process (softirq)" "0||NO_SOCKET|$lo|$lo" \
		"$(sql "$db" "select pid, state, reason, laddr, raddr from tcpreset where lport=$port and ip=$family")"

	out_var=abort$family
	out=${!out_var}
	client=$(value client_pid "$out") lport=$(value lport "$out") port=$(value port "$out")
	check_eq "IPv$family: an abortive close sends a RST attributed to its process" "$client|traffic" \
		"$(sql "$db" "select pid, comm from tcpreset where pid=$client and lport=$lport and rport=$port and laddr='$lo' and raddr='$lo' and state is not null")"
done
for family in 4 6; do
	out_var=unaccepted$family
	out=${!out_var}
	lo=$([ $family = 4 ] && echo 127.0.0.1 || echo ::1)
	check_eq "IPv$family: a handshake reset before any accept is recorded as unaccepted" "1|104|$lo|$lo" \
		"$(sql "$db" "select e.closed_from, e.error, l.addr, r.addr from ev_unaccepted e join address l on l.id = e.laddr join address r on r.id = e.raddr where e.lport = $(value port "$out") and e.rport = $(value lport "$out") and e.t >= e.established_t")"
	out_var=accept$family
	check_eq "IPv$family: accepted connections are not unaccepted" 0 \
		"$(sql "$db" "select count(*) from ev_unaccepted where lport = $(value port "${!out_var}")")"
done
check_eq "application abort and closed port have distinct reasons" 2 \
	"$(sql "$db" "select count(distinct reason) from tcpreset where pid = $(value client_pid "$abort4") or lport = $(value port "$refused4")")"

check_eq "exactly 1000 CAP_SETUID checks for setuid(0) x1000" 1000 \
	"$(sql "$db" "select count(*) from capable where pid=$setuid_pid and cap=7 and name='CAP_SETUID' and verdict='allow'")"
check_eq "setuid checks are audited (ns_capable_setid)" "1" \
	"$(sql "$db" "select group_concat(distinct audit) from capable where pid=$setuid_pid and cap=7")"
check_eq "the checks carry ppid, cgroup id and mount namespace" \
	"$$|$test_cgroup_id|$(stat -L -c %i /proc/self/ns/mnt)" \
	"$(sql "$db" "select distinct ppid, cgroup, mntns from capable where pid=$setuid_pid")"
check_eq "seccomp filters check CAP_SYS_ADMIN without audit (ns_capable_noaudit)" "0" \
	"$(sql "$db" "select group_concat(distinct coalesce(audit, 'NULL')) from capable where pid=$seccomp_pid and cap=21")"
check_match "at least 50 such checks" "^([5-9][0-9]|[1-9][0-9]{2,})$" \
	"$(sql "$db" "select count(*) from capable where pid=$seccomp_pid and cap=21")"
check_eq "an unprivileged setuid(0) is a denied check" "20|deny" \
	"$(sql "$db" "select count(*), verdict from capable where pid=$denied_pid and cap=7 and uid=65534 group by verdict")"
check_eq "the recorder records nothing of its own" 0 \
	"$(sql "$db" "select (select count(*) from capable where pid=$recorder_pid) + (select count(*) from tcpconnect where pid=$recorder_pid) + (select count(*) from tcpaccept where pid=$recorder_pid) + (select count(*) from tcpreset where pid=$recorder_pid)")"

check_eq "event_kind counts match the rows" "1|1|1|1|0" \
	"$(sql "$db" "select (select recorded from event_kind where name='connect') = (select count(*) from ev_connect),
		(select recorded from event_kind where name='accept') = (select count(*) from ev_accept),
		(select recorded from event_kind where name='reset') = (select count(*) from ev_reset),
		(select recorded from event_kind where name='capable') = (select count(*) from ev_capable),
		(select sum(lost) from event_kind)")"
check_eq "metadata: host, kernel, boot, recorder" \
	"$(hostname)|$(uname -r)|$(uname -m)|$(cat /proc/sys/kernel/random/boot_id)|$recorder_pid|connect,accept,reset,capable,process,dns,close" \
	"$(sql "$db" "select hostname, kernel_release, machine, boot_id, recorder_pid, event_kinds from capture")"
check_eq "metadata: the exact command line" "$RECORD -o $db -q" "$(sql "$db" "select command_line from capture")"
check_eq "wall-clock times fall inside the capture" 0 \
	"$(sql "$db" "select count(*) from capable c, capture m where c.pid=$setuid_pid and (c.wall_ns < m.started_at_ns or c.wall_ns > m.stopped_at_ns)")"
# In nanoseconds, nothing rounded: the setuid checks fall between this
# machine's clock read before and after them.  A capture's wall clock is the
# boot clock plus their difference read at start, and the two drift apart by
# NTP's slewing only, at most 500 ppm (25 us over the 50 ms of the checks, 5 ms
# were the capture 10 s old): 10 ms of slack covers it.
read -r early late within <<< "$(sqlite3 -batch -separator ' ' "$db" "select $setuid_from - min(wall_ns),
	max(wall_ns) - $setuid_to, count(*) > 0 and max($setuid_from - min(wall_ns), max(wall_ns) - $setuid_to) <= 10000000
	from capable where pid=$setuid_pid")"
check_eq "wall clock agrees with this machine's to 10 ms (first check ${early} ns before the date read before, last ${late} ns after the one after)" \
	1 "$within"

# --- A connect that times out --------------------------------------------------
# Busy loops hold every CPU in user mode meanwhile: x86_64 takes the timer's
# interrupt on the interrupted task's stack, and runs the softirq where the
# connects time out there; the closes are still nobody's.
db="$SCRATCH/timeout.db"
start_record "$db" -e connect,close
busy=()
for _ in $(seq "$(nproc)"); do
	(while :; do :; done) &
	busy+=($!)
done
timeout4=$("$HELPERS/traffic" timeout 4)
kill "${busy[@]}"
wait "${busy[@]}" 2> /dev/null
stop_record TERM
client=$(value client_pid "$timeout4") port=$(value port "$timeout4")
check_eq "SIGTERM stops cleanly" "0|1|signal SIGTERM" "$RECORD_RC|$(sql "$db" 'select clean_stop, stop_reason from capture')"
check_eq "a connect without answer times out after its SYN retries" "timeout|110|1" \
	"$(sql "$db" "select distinct outcome, error, latency_ns > 2e9 from tcpconnect where pid=$client and outcome is not 'established'")"
# The second filler and the last connect: the listener's queue is full.
check_eq "the timeouts close from SYN_SENT in a timer's softirq: no process" "2|2|110" \
	"$(sql "$db" "select count(*), sum(pid = 0), group_concat(distinct error) from tcpclose where rport=$port and closed_from='SYN_SENT'")"

# --- Filters -------------------------------------------------------------------
db="$SCRATCH/capable-only.db"
start_record "$db" -e capable
accept=$("$HELPERS/traffic" accept 4 3)
"$HELPERS/capcheck" setuid 5 > /dev/null
stop_record
check_eq "-e capable: no TCP rows" "0|0|0|0" \
	"$(sql "$db" "select (select count(*) from ev_connect), (select count(*) from ev_accept), (select count(*) from ev_reset), (select count(*) from event_kind where enabled and name != 'capable')")"
check_match "-e capable: capability checks recorded" "^[1-9]" "$(sql "$db" "select count(*) from ev_capable")"

db="$SCRATCH/tcp-only.db"
start_record "$db" -e connect,accept
accept=$("$HELPERS/traffic" accept 6 3)
"$HELPERS/capcheck" setuid 5 > /dev/null
stop_record
check_eq "-e connect,accept: 3 connects, 3 accepts, no checks or resets" "3|3|0|0" \
	"$(sql "$db" "select (select count(*) from tcpconnect where pid=$(value client_pid "$accept")), (select count(*) from tcpaccept where pid=$(value server_pid "$accept")), (select count(*) from ev_capable), (select count(*) from ev_reset)")"

db="$SCRATCH/pid.db"
coproc WAITING { exec "$HELPERS/capcheck" setuid 7 --wait; }
read -r line <&"${WAITING[0]}"
target=$(value pid "$line")
start_record "$db" -p "$target"
"$HELPERS/capcheck" setuid 3 > /dev/null
"$HELPERS/traffic" refused 4 > /dev/null
echo go >&"${WAITING[1]}"
wait "$target"
stop_record
check_eq "-p: exactly the target's 7 checks" 7 "$(sql "$db" "select count(*) from capable where pid=$target and cap=7")"
check_eq "-p: nothing from any other process, no unattributed resets" "0|0|0" \
	"$(sql "$db" "select (select count(*) from capable where pid != $target), (select count(*) from tcpconnect where pid != $target), (select count(*) from tcpreset)")"
check_eq "-p is in the metadata" "$target" "$(sql "$db" "select filter_pid from capture")"

# last_path_reads PID: for each CPU on which the capability_check of the
# recorder PID holds a last call path, whether the words its last check read
# where they lie (read_stack_words()) are that path's: "same" or "other"
last_path_reads() {
	python3 - "$1" << 'PY'
import json, subprocess, sys

def bpftool(*args):
    out = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else None

names = {m["id"]: m["name"] for m in bpftool("map", "show") or []}
for prog in bpftool("prog", "show") or []:
    ids = prog.get("map_ids", []) if prog.get("name") == "capability_check" else []
    rodata = [bpftool("map", "dump", "id", str(i)) for i in ids if names.get(i) == "casefile.rodata"]
    settings = {k: v for entry in (rodata[0] or [{}])[0].get("formatted", {}).get("value", {}).get(".rodata", [])
                for k, v in entry.items()} if rodata else {}
    if settings.get("recorder_tgid") != int(sys.argv[1]):
        continue
    for i in ids:
        if names.get(i) == "path_scratch":
            for cpu in bpftool("map", "dump", "id", str(i))[0]["formatted"]["values"]:
                v = cpu["value"]
                if v["has_last"]:
                    print("same" if v["last_read"]["words"] == v["last_words"] else "other")
PY
}

# A storm's checks come down one call path, and each reads that path's four
# words where they lie: the last check of the storm found them on a CPU.  On
# another CPU the last check may have read other words: a stale word left in
# the window by an earlier call (a page fault, a preemption) that lies in the
# kernel's text makes another path, looked up again, not a wrong one.  Were
# the places wrong, no CPU would ever read the same.
# A path is read so once the recorder has learned its AUDIT from a check's
# record: a thousand checks first, and 3 s for that (on a loaded host a
# storm of 100,000 at once had ended before, and no CPU held a path).
db="$SCRATCH/last-path.db"
coproc WAITING { exec "$HELPERS/capcheck" setuid 1000 sleep 3 setuid 100000 sleep 5 --wait; }
read -r line <&"${WAITING[0]}"
target=$(value pid "$line")
start_record "$db" -p "$target" -e capable
echo go >&"${WAITING[1]}"
for _ in $(seq 200); do
	[ "$(sql "$db" "select count(*) from capable where pid=$target")" = 101000 ] && break
	sleep 0.1
done
reads=$(last_path_reads "$RECORD_PID" | tr '\n' ' ')
wait "$target"
stop_record
check_eq "a storm's 1000 and 100000 checks, recorded" 101000 "$(sql "$db" "select count(*) from capable where pid=$target and cap=7")"
check_match "a storm's last check read its call path's words where they lie" "^(same (same |other )?|other same )$" "$reads"

db="$SCRATCH/uid.db"
start_record "$db" -u 65534
setpriv --reuid=65534 --regid=65534 --clear-groups "$HELPERS/capcheck" setuid 4 > "$SCRATCH/nobody.out"
"$HELPERS/capcheck" setuid 6 > /dev/null
stop_record
check_eq "-u: only that user's events" "0" "$(sql "$db" "select count(*) from capable where uid != 65534")"
check_eq "-u: its 4 denied setuid checks" "4|deny" \
	"$(sql "$db" "select count(*), verdict from capable where pid=$(value pid "$(cat "$SCRATCH/nobody.out")") and cap=7")"

# --- Duration ---------------------------------------------------------------------
db="$SCRATCH/duration.db"
"$RECORD" -o "$db" -q -d 1 -e capable 2> "$SCRATCH/duration.err"
rc=$?
check_eq "-d 1 stops by itself with status 0" "0|1|duration" "$rc|$(sql "$db" 'select clean_stop, stop_reason from capture')"
# What -d bounds is the recording, from its start to its stop, as the capture
# says: not the process's life, whose loading a busy machine can stretch.
check_match "-d 1 records for a second" "^1[0-9]{3}$" \
	"$(sql "$db" 'select (stopped_at_ns - started_at_ns) / 1000000 from capture')"

# --- The output file ----------------------------------------------------------------
db="$SCRATCH/duration.db"
before=$(sha256sum < "$db")
"$RECORD" -o "$db" -q -d 1 2> "$SCRATCH/exists.err"
rc=$?
check_eq "an existing capture is not overwritten" "1|$before" "$rc|$(sha256sum < "$db")"
check_match "... and record says to use -f" "^record: cannot create .*File exists \(use -f to replace it\)$" "$(cat "$SCRATCH/exists.err")"
"$RECORD" -o "$db" -q -f -d 0.5 -e capable 2> /dev/null
check_eq "-f replaces it" "0|1" "$?|$(sql "$db" "select count(*) from capture where command_line like '%-f%'")"

echo "evidence" > "$SCRATCH/target"
ln -s "$SCRATCH/target" "$SCRATCH/planted.db"
"$RECORD" -o "$SCRATCH/planted.db" -q -d 0.5 2> /dev/null
check_eq "a symlink planted at the path is not followed" "1|evidence" "$?|$(cat "$SCRATCH/target")"
"$RECORD" -o "$SCRATCH/planted.db" -q -f -d 0.5 -e capable 2> /dev/null
check_eq "with -f the symlink is refused: it is no capture" "1|evidence|symbolic link" \
	"$?|$(cat "$SCRATCH/target")|$(stat -c %F "$SCRATCH/planted.db")"
"$RECORD" -o "$SCRATCH/planted.db" -q -ff -d 0.5 -e capable 2> /dev/null
check_eq "with -ff the symlink is replaced, its target untouched" "0|evidence|regular file" \
	"$?|$(cat "$SCRATCH/target")|$(stat -c %F "$SCRATCH/planted.db")"

(umask 000 && "$RECORD" -o "$SCRATCH/umask.db" -q -d 0.5 -e capable 2> /dev/null)
check_eq "mode 0600 whatever the umask" 600 "$(stat -c %a "$SCRATCH/umask.db")"

# --- Bad input: one line on stderr, status 2 (usage) or 1, nothing left behind -----
RECORD_ABS=$(realpath "$RECORD")
mkdir "$SCRATCH/bad" && cd "$SCRATCH/bad" || exit 1
bad_input() {
	local name=$1 expect_rc=$2
	shift 2
	"$RECORD_ABS" "$@" > out 2> err < /dev/null
	local rc=$? lines
	lines=$(wc -l < err)
	if [ "$rc" == "$expect_rc" ] && [ "$lines" == 1 ] && [ -z "$(find . -mindepth 1 ! -name out ! -name err)" ]; then
		pass "$name"
	else
		fail "$name" "status $rc, $lines line(s): $(tr '\n' ' ' < err), files: $(find . -mindepth 1 -printf '%P ')"
	fi
	rm -f out err
}
bad_input "unknown option" 2 -x
bad_input "unknown long option" 2 --frobnicate
bad_input "unknown event kind" 2 -e connect,bogus
bad_input "empty event list" 2 -e ,
bad_input "option without its value" 2 -o
bad_input "duration not a number" 2 -d ten
bad_input "negative duration" 2 -d -5
bad_input "absurd duration" 2 -d 1e12
bad_input "pid not a number" 2 -p abc
bad_input "pid out of range" 2 -p 99999999999
bad_input "uid out of range" 2 -u -1
bad_input "ring buffer not a power of two" 2 -b 3000
bad_input "ring buffer too large" 2 -b 4G
bad_input "stray argument" 2 extra
bad_input "unwritable output path" 1 -o /proc/casefile-nope/x.db -d 1
