# record's process lives and DNS answers: every pid in an event resolves to
# what it ran, who started it, and the name its address was looked up as.
# Needs root (and dnsmasq, which scripts/install-deps installs).
source "$(dirname "$0")/lib.sh"
needs_root "lineage tests" || exit 0

# image DB PID START T: the executable process (PID, START) ran at time T
image() {
	sql "$1" "select exe from process where pid = $2 and start_ns = $3 and how != 'fork' and t <= $4 order by t desc limit 1"
}

# --- A local DNS server, on a loopback address of this test's own ---------------
dns_ip="127.$((20 + $$ % 200)).$((1 + $$ / 200 % 250)).53"
answer4="127.0.0.$((2 + $$ % 250))"
dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces --listen-address="$dns_ip" \
	--port=53 --address=/evil.casefile.test/"$answer4" --address=/evil6.casefile.test/::1 \
	2> "$SCRATCH/dnsmasq.err" &
dnsmasq_pid=$!
trap 'kill $dnsmasq_pid 2> /dev/null; rm -rf "$SCRATCH"' EXIT
echo "nameserver $dns_ip" > "$SCRATCH/resolv.conf"
# Programs see our DNS server in a mount namespace of their own.
with_our_dns() { unshare -m sh -c "mount --bind $SCRATCH/resolv.conf /etc/resolv.conf && cd $work && $1"; }

sleep 60 &
already_running=$!
work=$(mktemp -d "$SCRATCH/work.XXXX")
cp "$HELPERS/resolve" "$work/a.out"
db="$SCRATCH/lineage.db"
start_record "$db" -e connect,process,dns
with_our_dns "./a.out evil.casefile.test 9 4 > out4"
with_our_dns "exec sh -c 'exec ./a.out evil6.casefile.test 9 6 > out6'"
kill "$already_running"
wait "$already_running" 2> /dev/null
sleep 0.3
stop_record
kill $dnsmasq_pid

pid4=$(value pid "$(cat "$work/out4")") pid6=$(value pid "$(cat "$work/out6")")
check_eq "the a.out's exec: its path, the name it was run as, its command line" \
	"$work/a.out|./a.out|./a.out evil.casefile.test 9 4|0|0" \
	"$(sql "$db" "select exe, filename, args, exe_deleted, exe_world_writable from process where pid = $pid4 and how = 'exec'")"
IFS='|' read -r ppid exec_t <<< "$(sql "$db" "select ppid, t from process where pid = $pid4 and how = 'exec'")"
check_eq "its parent: the shell that started it (after unshare exec'd it), with its command line" \
	"/usr/bin/dash|sh -c 'mount --bind $SCRATCH/resolv.conf /etc/resolv.conf && cd $work && ./a.out evil.casefile.test 9 4 > out4'" \
	"$(sql "$db" "select exe, args from process where pid = $ppid and how = 'exec' and t <= $exec_t order by t desc limit 1")"
connect=$(sql "$db" "select c.ts_ns - m.base_ns, c.start_ns, c.daddr from tcpconnect c, capture m where c.pid = $pid4")
IFS='|' read -r connect_t start daddr <<< "$connect"
check_eq "its connect goes to the DNS answer" "$answer4" "$daddr"
check_eq "... and resolves, by pid and start, to the a.out" "$work/a.out" "$(image "$db" "$pid4" "$start" "$connect_t")"
check_eq "the DNS answer: the name asked, the address, before the connect" "evil.casefile.test|1" \
	"$(sql "$db" "select d.name, d.t < $connect_t from dns d join address a on a.id = d.address where a.addr = '$answer4'")"
check_eq "an AAAA answer too" "evil6.casefile.test|::1" \
	"$(sql "$db" "select d.name, a.addr from dns d join address a on a.id = d.address where d.name = 'evil6.casefile.test'")"

check_eq "a process that execs four times: four images, one process" "/usr/bin/unshare /usr/bin/dash /usr/bin/dash $work/a.out|1" \
	"$(sql "$db" "select group_concat(exe, ' '), count(distinct start_ns) from (select exe, start_ns from process where pid = $pid6 and how = 'exec' order by t)")"
connect6=$(sql "$db" "select c.ts_ns - m.base_ns, c.start_ns from tcpconnect c, capture m where c.pid = $pid6")
IFS='|' read -r connect6_t start6 <<< "$connect6"
check_eq "... its connect resolves to the image it ran then" "$work/a.out" "$(image "$db" "$pid6" "$start6" "$connect6_t")"

check_eq "a process already running: read from /proc, its exit tied to it by start time" \
	"running|/usr/bin/sleep|sleep 60|1" \
	"$(sql "$db" "select p.how, p.exe, p.args, count(e.seq) from process p join task t on t.pid = p.pid and t.start_ns = p.start_ns join ev_exit e on e.task = t.id where p.pid = $already_running")"
check_eq "short-lived processes are complete: every exec has its path and command line" 0 \
	"$(sql "$db" "select count(*) from process where how = 'exec' and (exe is null or args is null)")"
check_eq "forks name their new process and its parent" 1 \
	"$(sql "$db" "select count(*) from process where how = 'fork' and pid = $pid4 and ppid = $ppid")"

# --- Pid reuse, and a binary deleted while it runs ----------------------------------------
cp "$HELPERS/capcheck" "$work/first.out"
cp "$HELPERS/capcheck" "$work/second.out"
db="$SCRATCH/reuse.db"
start_record "$db" -e capable,process
reused=$(value pid "$("$HELPERS/pidreuse" "$work/first.out" "$work/second.out" setuid 3 | tail -1)")
mkfifo "$SCRATCH/go"
"$work/first.out" setuid 1 --wait < "$SCRATCH/go" > /dev/null &
deleted_pid=$!
exec 9> "$SCRATCH/go"
# The recorder looks at the file when it writes the exec's row: wait for the row.
for _ in $(seq 200); do
	[ "$(sql "$db" "select count(*) from process where pid = $deleted_pid and how = 'exec'")" = 1 ] && break
	sleep 0.1
done
rm "$work/first.out"
echo go >&9
exec 9>&-
wait "$deleted_pid"
sleep 0.3
stop_record
check_eq "pid reuse: two processes, one pid, told apart by their start" 2 \
	"$(sql "$db" "select count(distinct start_ns) from process where pid = $reused and how = 'exec'")"
check_eq "... each check resolves to its own process's program" "first.out:3 second.out:3" \
	"$(sql "$db" "select group_concat(prog || ':' || n, ' ') from (select replace(p.exe, '$work/', '') prog, count(*) n from capable c join process p on p.pid = c.pid and p.start_ns = c.start_ns and p.how = 'exec' where c.pid = $reused and c.cap = 7 group by 1 order by 1)")"
check_eq "a binary deleted while it ran: told at its exit" "0|1" \
	"$(sql "$db" "select p.exe_deleted, e.exe_deleted from process p join task t on t.pid = p.pid and t.start_ns = p.start_ns join ev_exit e on e.task = t.id where p.pid = $deleted_pid and p.how = 'exec'")"

check_eq "the new kinds have their counts" "dns|exec|exit|fork" \
	"$(sql "$SCRATCH/lineage.db" "select group_concat(name, '|') from (select name from event_kind where enabled and name in ('exec','fork','exit','dns') order by name)")"

# --- Filters ---------------------------------------------------------------------------------
db="$SCRATCH/pid.db"
start_record "$db" -e process,dns -p $$
with_our_dns "true"
stop_record
check_eq "-p: no process of others, no DNS answer (they belong to no process)" "0|0" \
	"$(sql "$db" "select (select count(*) from process where how != 'running' and pid != $$ and ppid != $$), (select count(*) from dns)")"
