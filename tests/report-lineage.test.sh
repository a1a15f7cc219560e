# report's side of who did it (issue 8), on the lineage fixture: tcpconnect -d
# (QUERY), -l (the executable and parents of each event's process), timeline's
# process and DNS lines, summary's programs that stand out, report proc.  Every
# expectation is asked of the fixture in SQL (it will be re-recorded).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures lineage basic bruteforce-ssh
L=lineage

# The connects of interest, by what the fixture recorder made them do.
answer=$(q $L "select a.addr from dns d join address a on a.id = d.address where d.name = 'evil.casefile.test' limit 1")
aout=$(q $L "select pid from tcpconnect where comm = 'a.out' and ip = 4")
aout_start=$(q $L "select start_ns from tcpconnect where comm = 'a.out' and ip = 4")
late=$(q $L "select pid from tcpconnect where comm = 'bash' and daddr = '$answer'")
local_pid=$(q $L "select pid from tcpconnect where comm = 'bash' and daddr = '127.0.0.1'")
unnamed=$(q $L "select pid from tcpconnect where comm = 'bash' and daddr = '192.0.2.1'")
execs=$(q $L "select pid from process where how = 'exec' group by pid, start_ns having count(*) >= 4 and pid in (select pid from tcpconnect)")
reused=$(q $L "select pid from tcpconnect group by pid having count(distinct start_ns) > 1")
gone=$(q $L "select pid from tcpconnect where comm = 'gone.out'")

# query_of PID: the QUERY of that pid's connect in `tcpconnect -d` (the last column)
query_of() { grep "^$1 " "$SCRATCH/out" | sed -E 's/^([^ ]+ +){6}//'; }

# --- tcpconnect -d -----------------------------------------------------------------
run_report tcpconnect -d lineage.db
check_eq "tcpconnect -d: status 0, nothing on stderr" "0|" "$rc|$(cat "$SCRATCH/err")"
check_match "tcpconnect -d: a QUERY column" "QUERY$" "$(head -1 "$SCRATCH/out")"
check_eq "tcpconnect -d: the a.out's connect, by the name it looked up just before" \
	"evil.casefile.test" "$(query_of "$aout")"
age=$(q $L "select printf('%.3f', (c.wall_ns - (select max(d.t) + m.base_ns + m.realtime_offset_ns
	from dns d join address a on a.id = d.address join capture m
	where a.addr = c.daddr and d.t + m.base_ns <= c.ts_ns)) / 1e6)
	from tcpconnect c where c.pid = $late")
check_eq "tcpconnect -d: an answer more than 100 ms old shows its age" \
	"evil.casefile.test (${age}ms)" "$(query_of "$late")"
check_eq "tcpconnect -d: a loopback address no answer named is localhost" \
	"localhost" "$(query_of "$local_pid")"
check_eq "tcpconnect -d: an address never looked up" "No DNS Query" "$(query_of "$unnamed")"
run_report tcpconnect -d --format json -p "$aout" lineage.db
check_match "tcpconnect -d --format json: query and query_age_ns typed" \
	'"query":"evil\.casefile\.test","query_age_ns":[0-9]+\}$' "$(cat "$SCRATCH/out")"
run_report tcpconnect -d --format csv -p "$unnamed" lineage.db
check_match "tcpconnect -d --format csv: no answer is an empty cell" ',,$' "$(tail -1 "$SCRATCH/out")"
run_report tcpconnect -d basic.db
check "tcpconnect -d on a capture without DNS answers: localhost, status 0" \
	bash -c "[ $rc = 0 ] && grep -q ' localhost\$' '$SCRATCH/out'"
refused "tcpconnect -c -d: refused" tcpconnect -c -d lineage.db

# --- -l: the executable and the parents ---------------------------------------------
exe=$(q $L "select exe from process where pid = $aout and start_ns = $aout_start and how = 'exec'")
parent=$(q $L "select ppid from process where pid = $aout and start_ns = $aout_start and how = 'exec'")
run_report tcpconnect -l -p "$aout" lineage.db
check_match "tcpconnect -l: the a.out's path, marked world-writable, and its parent shell" \
	" $exe \(world-writable dir\) sh\($parent\) < .*\(1\)$" "$(tail -1 "$SCRATCH/out")"
run_report tcpconnect -l --format json -p "$aout" lineage.db
check_match "tcpconnect -l --format json: exe, its marks, args and parents typed" \
	"\"exe\":\"$exe\",\"exe_deleted\":false,\"exe_world_writable\":true,\"args\":\"./a.out evil.casefile.test 9 4\",\"parents\":\"sh\($parent\) \\\\u003c " \
	"$(cat "$SCRATCH/out")"
last_exe=$(q $L "select exe from process where pid = $execs and how = 'exec' order by t desc limit 1")
run_report tcpconnect -l -p "$execs" lineage.db
check_match "tcpconnect -l: a process that exec'd four times connects as its last program" \
	" $last_exe \(world-writable dir\) " "$(tail -1 "$SCRATCH/out")"
run_report tcpconnect -l -p "$reused" lineage.db
check_eq "tcpconnect -l: two processes under one pid, each with its own program" \
	"$(q $L "select group_concat(exe, ' ') from (select p.exe from tcpconnect c join process p on p.pid = c.pid and p.start_ns = c.start_ns and p.how = 'exec' where c.pid = $reused order by c.ts_ns)")" \
	"$(awk 'NR > 1 { print $10 }' "$SCRATCH/out" | paste -sd' ')"
run_report tcpconnect -l -p "$gone" lineage.db
check_match "tcpconnect -l: a binary deleted while it ran is marked" \
	"gone\.out \(deleted\) \(world-writable dir\) " "$(tail -1 "$SCRATCH/out")"
for command in tcpaccept tcpreset capable timeline; do
	run_report "$command" -l lineage.db
	check_match "$command -l: EXE and PARENTS columns" "EXE +PARENTS" "$(head -1 "$SCRATCH/out")"
done
run_report tcpaccept -l lineage.db
check_match "tcpaccept -l: the accepting process's parents" \
	"traffic\([0-9]+\) < bash\([0-9]+\) < " "$(tail -1 "$SCRATCH/out")"
run_report tcpconnect -l bruteforce-ssh.db # recorded without the process kind
check "tcpconnect -l on a capture without process lives: -, status 0" \
	bash -c "[ $rc = 0 ] && [ ! -s '$SCRATCH/err' ] && tail -1 '$SCRATCH/out' | grep -q ' -  *-\$'"

# --- timeline ------------------------------------------------------------------------
run_report timeline -p "$execs" lineage.db
check_eq "timeline -p: the fork, every exec, the connect and the exit of a process" \
	"fork exec exec exec exec connect exit" \
	"$(awk 'NR > 1 && $5 != "capable" { print $5 }' "$SCRATCH/out" | paste -sd' ')"
run_report timeline lineage.db
check_eq "timeline: every DNS answer" "$(q $L "select count(*) from dns")" \
	"$(grep -c ' dns  *evil' "$SCRATCH/out")"
check_eq "timeline: the unaccepted handshake" "$(q $L "select count(*) from ev_unaccepted")" \
	"$(grep -c ' unaccepted .* closed before accept' "$SCRATCH/out")"
check_match "timeline: the exit of the deleted binary says so" \
	" $gone +gone\.out +exit +exit 0 \(executable deleted\)" "$(cat "$SCRATCH/out")"
run_report timeline -p "$aout" lineage.db
check_eq "timeline -p: no DNS answers (they belong to no process)" 0 "$(grep -c ' dns ' "$SCRATCH/out")"
run_report timeline --addr "$answer" lineage.db
check_eq "timeline --addr: the answers that named the address too" \
	"$(q $L "select count(*) from dns d join address a on a.id = d.address where a.addr = '$answer'")" \
	"$(grep -c ' dns ' "$SCRATCH/out")"
# SQLite reads them through dns_by_address and sorts them: each must still be its own.
run_report timeline --addr "$answer" --format csv lineage.db
check_eq "timeline --addr: each answer at its own time, in order" \
	"$(q $L "select group_concat(t + base_ns, ' ') from (select d.t from dns d join address a
		on a.id = d.address where a.addr = '$answer' order by d.t, d.seq), capture")" \
	"$(awk -F, '$14 == "dns" { print $2 }' "$SCRATCH/out" | paste -sd' ')"

# --- summary ---------------------------------------------------------------------------
run_report summary lineage.db
check_match "summary: the a.out, world-writable and a compiler's default name" \
	"a\.out/$aout $exe \(world-writable dir\) \[world-writable dir, compiler's default name\]: 1 connect" \
	"$(cat "$SCRATCH/out")"
check_match "summary: the deleted binary" "gone\.out/$gone .*\[world-writable dir, deleted\]" \
	"$(cat "$SCRATCH/out")"
check_eq "summary: nothing from /usr/bin stands out" 0 "$(grep -c '^  bash/' "$SCRATCH/out")"

# --- report proc -----------------------------------------------------------------------
run_report proc "$aout" lineage.db
check_eq "proc: status 0, nothing on stderr" "0|" "$rc|$(cat "$SCRATCH/err")"
check_match "proc: its exec, with path and command line" \
	"exec +$aout +a\.out +uid 0 .* $exe \(world-writable dir\)  \./a\.out evil\.casefile\.test 9 4" \
	"$(cat "$SCRATCH/out")"
parents=$(sed -n '/^parents:/,/^events:/p' "$SCRATCH/out" | awk 'NF > 1 { print $1 }' | paste -sd' ')
check_match "proc: its parents, the shell first, up to pid 1" "^$parent .* 1$" "$parents"
check_match "proc: its connect among its events" " $aout +a\.out +connect " "$(cat "$SCRATCH/out")"
connects=$(grep -cE " $aout +a\.out +connect " "$SCRATCH/out")
cp "$SCRATCH/lineage.db" "$SCRATCH/lineage-again.db" # a second capture of the same boot
run_report proc "$aout" lineage.db lineage-again.db
check_eq "proc over two captures of one boot: told once, with the events of both" \
	"1 $((2 * connects))" \
	"$(grep -c '^PROCESS ' "$SCRATCH/out") $(grep -cE " $aout +a\.out +connect " "$SCRATCH/out")"
run_report proc "$reused" lineage.db
check_eq "proc: a reused pid tells each process" 2 "$(grep -c '^PROCESS ' "$SCRATCH/out")"
second=$(q $L "select max(start_ns) from tcpconnect where pid = $reused")
run_report proc "$reused@$second" lineage.db
check_eq "proc PID@START: that one only" "PROCESS $reused@$second" \
	"$(grep '^PROCESS ' "$SCRATCH/out" | cut -d' ' -f1,2)"
run_report proc --format json "$gone" lineage.db
check_match "proc --format json: its events, each with its executable" \
	'"event":"connect".*"exe_deleted":true' "$(cat "$SCRATCH/out")"
refused "proc: a PID that is not a number" proc abc lineage.db
refused "proc: an absurd PID" proc 99999999 lineage.db
refused "proc: no PID" proc lineage.db
refused "proc: nothing at all" proc
refused "proc: a bad START" proc "$aout@x" lineage.db
refused "proc: a pid not in the capture" proc "$(q $L "select max(pid) + 1 from process")" lineage.db

golden lineage-tcpconnect-d tcpconnect -d -t lineage.db
golden lineage-proc proc "$aout" lineage.db
