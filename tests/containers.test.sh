# containers: containers told apart, recorded for real.  Loopback connections
# with the same addresses and ports, at the same time, on the host and in a
# fresh network namespace (ip netns add): each event's netns is its
# namespace's inode, and --netns selects exactly the namespace's connects,
# accepts, resets and closes.  A process in a new pid namespace (unshare
# --pid) has nspid 1 beside its real pid; one moved into a new cgroup v2
# directory shows that directory's path, also once it is removed.  Needs root.
source "$(dirname "$0")/lib.sh"
needs_root "containers tests" || exit 0

ns="casefile-test-$$"
if ! ip netns add "$ns" 2> "$SCRATCH/netns.err"; then
	fail "a network namespace" "ip netns add: $(cat "$SCRATCH/netns.err")"
	exit 0
fi
cgroup2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
group="casefile-test-$$"
cleanup() {
	ip netns delete "$ns" 2> /dev/null
	[ -n "$cgroup2" ] && rmdir "$cgroup2/$group" 2> /dev/null
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
ip -n "$ns" link set lo up
ns_inode=$(stat -L -c %i "/run/netns/$ns")
host_inode=$(stat -L -c %i /proc/self/ns/net)

# tcp.py PORT CONNECTIONS REFUSED: CONNECTIONS accepted on 127.0.0.1:PORT,
# each carrying a few bytes and closed by the client first, then REFUSED
# connects to PORT + 1, where nothing listens: each answered by a RST.  The
# clients' ports are fixed too (PORT + 100...): both sides' connections have
# the same four-tuples.  Prints its pid.
cat > "$SCRATCH/tcp.py" << 'EOF'
import os, socket, sys
port, connections, refused = (int(a) for a in sys.argv[1:4])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(16)
print(os.getpid(), flush=True)
for i in range(connections):
    client = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.1", port + 100 + i))
    accepted, _ = server.accept()
    client.sendall(b"casefile")
    accepted.recv(64)
    client.close()
    accepted.close()
for i in range(refused):
    try:
        socket.create_connection(("127.0.0.1", port + 1), source_address=("127.0.0.1", port + 200 + i))
    except ConnectionRefusedError:
        pass
EOF
# interleaved.py PORT ME OTHER DIR: one connection to 127.0.0.1:PORT from
# PORT + 100, in steps taken in turns with the other side through flag files
# in DIR: the first connects, the second connects, the first accepts, the
# second accepts.  Joined by their ends alone, the first's accept would take
# the second's connect.  Prints its pid.
cat > "$SCRATCH/interleaved.py" << 'EOF'
import os, socket, sys, time
port, me, other, flags = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def flag(name): open(os.path.join(flags, name), "w").close()
def wait(name):
    while not os.path.exists(os.path.join(flags, name)): time.sleep(0.01)
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(1)
print(os.getpid(), flush=True)
if me == "second": wait("first-connected")
client = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.1", port + 100))
flag(me + "-connected")
wait(other + ("-connected" if me == "first" else "-accepted"))
accepted, _ = server.accept()
flag(me + "-accepted")
client.close()
accepted.close()
EOF
# Ports below the ephemeral range, where no connection of the host holds one
# (the namespace has nothing listening at all).
port=$((20000 + 4 * ($$ % 3000)))
unshared_port=$((port + 2))
grouped_port=$((port + 3))
interleaved_port=$((port + 50))
db="$SCRATCH/containers.db"
start_record "$db" -e connect,accept,reset,close,process ||
	{ fail "record starts" "$(cat "$RECORD_ERR")"; exit 0; }
python3 "$SCRATCH/tcp.py" "$port" 3 2 > "$SCRATCH/host.pid" &
host_job=$!
ip netns exec "$ns" python3 "$SCRATCH/tcp.py" "$port" 2 1 > "$SCRATCH/ns.pid"
ns_rc=$?
wait "$host_job"
host_rc=$?
mkdir "$SCRATCH/flags"
python3 "$SCRATCH/interleaved.py" "$interleaved_port" first second "$SCRATCH/flags" \
	> "$SCRATCH/first.pid" &
first_job=$!
ip netns exec "$ns" python3 "$SCRATCH/interleaved.py" "$interleaved_port" second first \
	"$SCRATCH/flags" > "$SCRATCH/second.pid"
wait "$first_job"
# A new pid namespace, whose first process connects (refused) as its pid 1.
unshare --pid --fork --mount-proc python3 -c "
import os, socket
assert os.getpid() == 1
try:
    socket.create_connection(('127.0.0.1', $unshared_port))
except ConnectionRefusedError:
    pass"
# A new cgroup v2 directory, removed before the report.
if [ -n "$cgroup2" ] && mkdir "$cgroup2/$group"; then
	sh -c "echo \$\$ > '$cgroup2/$group/cgroup.procs' && exec python3 -c \"
import socket
try:
    socket.create_connection(('127.0.0.1', $grouped_port))
except ConnectionRefusedError:
    pass\""
	sleep 0.5 # the recorder reads the path when it first sees the id
	rmdir "$cgroup2/$group"
fi
sleep 0.3
stop_record INT
check_eq "record stops cleanly" 0 "$RECORD_RC"
check_eq "the workloads ran, host and namespace" "0 0" "$host_rc $ns_rc"
check_match "info: the recorder's network namespace" "netns +$host_inode " "$("$REPORT" info "$db")"
check_eq "capture.netns is the recorder's own namespace" "$host_inode" \
	"$(sql "$db" "SELECT netns FROM capture")"

# count NETNS TABLE: rows of the table on the workload's ports in that
# namespace (a socket's own where the table keeps it, else the task's)
count() {
	local ports="$port, $((port + 1))"
	case $2 in
	ev_connect) sql "$db" "SELECT count(*) FROM ev_connect e JOIN task k ON k.id = e.task
		WHERE e.dport IN ($ports) AND k.netns = $1" ;;
	ev_accept) sql "$db" "SELECT count(*) FROM ev_accept e JOIN task k ON k.id = e.task
		WHERE e.lport IN ($ports) AND k.netns = $1" ;;
	*) sql "$db" "SELECT count(*) FROM $2 e, capture m
		WHERE (e.lport IN ($ports) OR e.rport IN ($ports))
		AND coalesce(e.netns, m.netns) = $1" ;;
	esac
}
for side in "host $host_inode 3 2 $(cat "$SCRATCH/host.pid")" \
	"namespace $ns_inode 2 1 $(cat "$SCRATCH/ns.pid")"; do
	read -r name inode connections refused pid <<< "$side"
	check_eq "$name: connects in its netns" $((connections + refused)) "$(count "$inode" ev_connect)"
	check_eq "$name: accepts in its netns" "$connections" "$(count "$inode" ev_accept)"
	check_eq "$name: resets in its netns" "$refused" "$(count "$inode" ev_reset)"
	check_eq "$name: closes in its netns (both ends, and each refused connect)" \
		$((2 * connections + refused)) "$(count "$inode" ev_close)"
	# report --netns: exactly these, whatever the other namespace did on the same ports
	lines() { "$REPORT" "$@" --netns "$inode" --format json "$db" | grep -c .; }
	check_eq "$name: tcpconnect --netns" $((connections + refused)) \
		"$(lines tcpconnect -P "$port,$((port + 1))")"
	check_eq "$name: tcpaccept --netns" "$connections" "$(lines tcpaccept -P "$port")"
	check_eq "$name: tcpreset --netns" "$refused" \
		"$("$REPORT" tcpreset --netns "$inode" --format json "$db" |
			grep -c "\"lport\":$((port + 1)),")"
	check_eq "$name: tcplife --netns, servers' ends and clients' ends" \
		"$connections $((connections + refused))" \
		"$(lines tcplife -L "$port") $(lines tcplife -D "$port,$((port + 1))")"
	check_eq "$name: timeline --netns --addr, connects accepts resets" \
		$((2 * connections + 2 * refused)) \
		"$("$REPORT" timeline --netns "$inode" -P "$port,$((port + 1))" --format json "$db" |
			grep -c '"event":"\(connect\|accept\|reset\)"')"
	# timeline -c joins a connection's events by its ends, which both sides share
	check_eq "$name: timeline -c: its connections, accepted by its own server" \
		"$connections $connections" \
		"$("$REPORT" timeline -c --netns "$inode" -P "$port" --format json "$db" | grep -c .) $(
			"$REPORT" timeline -c --netns "$inode" -P "$port" --format json "$db" |
				grep -c "\"accept_pid\":$pid,.*\"closed_by\":\"client FIN\"")"
	check_eq "$name: every reset's netns field" "$refused" \
		"$("$REPORT" tcpreset --netns "$inode" --format json "$db" |
			grep "\"lport\":$((port + 1))," | grep -c "\"netns\":$inode,")"
done
# The same ends at once, connects and accepts interleaved: each connect
# joined with its own namespace's accept, two connections in all.
"$REPORT" timeline -c -P "$interleaved_port" --format json "$db" > "$SCRATCH/interleaved.json"
first=$(cat "$SCRATCH/first.pid") second=$(cat "$SCRATCH/second.pid")
check_eq "timeline -c, interleaved: two connections, each accepted in its own namespace" \
	"2 1 1" "$(grep -c . "$SCRATCH/interleaved.json") $(
		grep -c "\"pid\":$first,.*\"netns\":$host_inode,.*\"accept_pid\":$first," \
			"$SCRATCH/interleaved.json") $(
		grep -c "\"pid\":$second,.*\"netns\":$ns_inode,.*\"accept_pid\":$second," \
			"$SCRATCH/interleaved.json")"
# Reset rows store the recorder's own namespace as NULL: small rows.
check_eq "the host's resets store no netns" 2 \
	"$(sql "$db" "SELECT count(*) FROM ev_reset WHERE rport IS NOT NULL AND lport = $((port + 1))
		AND netns IS NULL")"

unshared=$(sql "$db" "SELECT k.pid || '|' || k.nspid FROM ev_connect e JOIN task k ON k.id = e.task
	WHERE e.dport = $unshared_port")
check_match "a new pid namespace: nspid 1, and its real pid" '^[0-9]+\|1$' "$unshared"
check "its real pid is not 1" test "${unshared%|*}" != 1
check_match "tcpconnect json: its nspid and pid" "\"pid\":${unshared%|*},.*\"nspid\":1," \
	"$("$REPORT" tcpconnect -P "$unshared_port" --format json "$db")"
check_match "proc: where it ran" "pid 1 in its own pid namespace" \
	"$("$REPORT" proc "${unshared%|*}" "$db")"

if [ -z "$cgroup2" ]; then
	skip "a cgroup's path" "no cgroup2 mount here"
else
	check_eq "a new cgroup's path, read before it was removed" "/$group" \
		"$(sql "$db" "SELECT c.path FROM ev_connect e JOIN task k ON k.id = e.task
			JOIN cgroup c ON c.id = k.cgroup WHERE e.dport = $grouped_port")"
	check "the directory is gone" test ! -e "$cgroup2/$group"
	check_match "tcpconnect -l: the path, after the directory was removed" \
		" /$group +4 " "$("$REPORT" tcpconnect -l -P "$grouped_port" "$db" | tail -1)"
	check_match "tcpconnect json: cgroup_path" "\"cgroup_path\":\"/$group\"" \
		"$("$REPORT" tcpconnect -P "$grouped_port" --format json "$db")"
	check_eq "one cgroup row per id" 0 \
		"$(sql "$db" "SELECT count(*) FROM (SELECT id FROM cgroup GROUP BY id HAVING count(*) > 1)")"
fi

# report redact keeps the namespaces and pseudonymizes cgroup paths (a
# container's or a user's name); the copy still reads.
printf 'casefile test key, 32 bytes long' > "$SCRATCH/test.key"
check "redact: a capture with namespaces and cgroup paths" \
	"$REPORT" redact --key-file "$SCRATCH/test.key" "$db" "$SCRATCH/redacted.db"
check_eq "redact: the namespace's resets keep their netns" 1 \
	"$("$REPORT" tcpreset --netns "$ns_inode" --format json "$SCRATCH/redacted.db" | grep -c .)"
if [ -n "$cgroup2" ]; then
	check_eq "redact: no cgroup path left as it was" 0 \
		"$(sql "$SCRATCH/redacted.db" "SELECT count(*) FROM cgroup WHERE path LIKE '%$group%'")"
fi
