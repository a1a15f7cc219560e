# analyses: report scans, bruteforce, summary, caps and timeline on real
# captures: the attacks and benign traffic of fixtures/record-attacks (what
# they hold: fixtures/ATTACKS.md) and the report fixtures.  The assertions
# are about what happened (who scanned whom, which ports, how many), not
# about pids or times, so that they hold for re-recorded fixtures.  No root.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

attacks=(scan-syn scan-small scan-connect scan-ack bruteforce-ssh bruteforce-hydra sweep)
sweep_hosts=(sweep-host1 sweep-host2 sweep-host3 sweep-host4 sweep-host5)
benign=(benign-http benign-busy)
load_fixtures "${attacks[@]}" "${sweep_hosts[@]}" "${benign[@]}" basic lost unclean web1 web2 caps

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

# rows COLUMNS ARGS...: COLUMNS (SQL over the CSV's columns) of each row
rows() {
	local columns=$1
	shift
	query "SELECT $columns FROM r" "$@"
}

portscan="detection, scanner, target, ports, probes, accepts, open_ports, sample_ports"
sweep="detection, scanner, targets, hosts, sample_addresses, ports, probes, sample_ports, accepts"
outbound="detection, comm, sample_addresses, hosts, ports, destinations, connects, failed, refused, timeouts"
# the accepting processes without their pids
bruteforce="remote, local, port, rtrim(process, '/0123456789'), connections"

summary_finds() { # NAME PATTERN FILE...: the summary's table matches PATTERN
	local name=$1 pattern=$2
	shift 2
	run_report summary "$@"
	check_match "$name" "$pattern" "$(cat "$SCRATCH/out")"
}

# --- Every attack found, with its scanner, target, ports and counts -------------------
check_eq "SYN scan: one port scan of the victim's 996 closed ports, from the attacker" \
	"portscan|10.200.0.66|10.200.0.10|996|996|0|22,80,8080,8081|1,3,4,6,7,9,13,17,19,20" \
	"$(rows "$portscan" scans scan-syn.db)"
check_eq "connect scans: a port scan per family, the open ports it got accepted on" \
	"portscan|10.200.0.66|10.200.0.10|996|996|3|22,80,8080|1,3,4,6,7,9,13,17,19,20
portscan|fd00:200::66|fd00:200::10|996|996|3|22,80,8080|1,3,4,6,7,9,13,17,19,20" \
	"$(rows "$portscan" scans scan-connect.db | grep ^portscan)"
check_eq "connect scans: nmap, one process per family, an outbound scanner" \
	"outbound|nmap|10.200.0.10|1|996|996|1000|996|996|0
outbound|nmap|fd00:200::10|1|996|996|1000|996|996|0" \
	"$(rows "$outbound" scans scan-connect.db | grep ^outbound)"
check_eq "ACK scan: 1000 ports; the 4 open ones answered by their listeners" \
	"portscan|10.200.0.66|10.200.0.10|1000|1000|0|22,80,8080,8081|1,3,4,6,7,9,13,17,19,20" \
	"$(rows "$portscan" scans scan-ack.db)"
check_eq "sweep in one capture: six addresses of one machine, 7 closed ports, no port scan" \
	"sweep|10.200.0.66|6|1|10.200.0.101,10.200.0.102,10.200.0.103,10.200.0.104,10.200.0.105,10.200.0.106|7|42|21,22,23,25,443,445,3389|0" \
	"$(rows "$sweep" scans sweep.db | grep ^sweep)"
check_eq "sweep across five hosts' captures" \
	"sweep|10.200.0.66|5|5|10.200.0.101,10.200.0.102,10.200.0.103,10.200.0.104,10.200.0.105|7|35|21,22,23,25,443,445,3389|0" \
	"$(rows "$sweep" scans sweep-host{1,2,3,4,5}.db | grep ^sweep)"
# Below Zeek's 15 ports, Snort's low profile (5 ports in 60 s): each swept host's
# 7 closed ports are a port scan of low confidence; nmap -sS's open port 80 is unseen.
check_eq "sweep: each of the six hosts port scanned, 7 ports, low confidence" \
	"6|7|7|low|0|80" \
	"$(query "SELECT count(*), min(ports), max(probes), group_concat(DISTINCT confidence), sum(accepts), group_concat(DISTINCT open_ports) FROM r WHERE detection = 'portscan'" scans sweep.db)"
check_eq "sweep: their rule is Snort's low one (5 ports within 60 s)" "5|60000000000" \
	"$(query "SELECT DISTINCT threshold, window_ns FROM r WHERE detection = 'portscan'" scans sweep.db)"
check_eq "sweep: no port scan of low confidence at --low-ports 8 (7 ports a host)" "" \
	"$(query "SELECT detection FROM r WHERE detection = 'portscan'" scans --low-ports 8 sweep.db)"
# nmap -sS -p 22,80,443,3306,5432,6379,8080,8443: 5 closed ports, below Zeek's 15.
check_eq "small SYN scan: a port scan of low confidence, its 5 closed ports; the open ones from the scanner's resets" \
	"portscan|low|10.200.0.66|10.200.0.10|5|5|443,3306,5432,6379,8443|22,80,8080" \
	"$(rows "detection, confidence, scanner, target, ports, probes, sample_ports, open_ports" scans scan-small.db)"
check_eq "small SYN scan: no port scan at 6 low ports" "" \
	"$(rows "detection" scans --low-ports 6 scan-small.db)"
summary_finds "summary: the small SYN scan, of low confidence" \
	$'port scans +1 FOUND \\(15 ports of an address within 300 s; 1 of low confidence: 5 ports of an address within 60 s[^\n]*\n +10\\.200\\.0\\.66 -> 10\\.200\\.0\\.10: 5 ports, 5 probes \\(low confidence\\)' scan-small.db
# The open ports above are the scanner's kernel resetting their SYN-ACKs: this
# machine was both ends.  The victim's capture alone has none of them.
cp "$SCRATCH/scan-syn.db" "$SCRATCH/scan-syn-victim.db"
sql "$SCRATCH/scan-syn-victim.db" "DELETE FROM ev_reset WHERE laddr IN (SELECT id FROM address WHERE addr = '10.200.0.66')"
check_eq "SYN scan seen by the victim alone: its open ports cannot be seen, and the table says so" \
	"0 accepted; open: none seen (a SYN scan's open ports leave no trace at the target)" \
	"$(run_report scans scan-syn-victim.db; tail -1 "$SCRATCH/out" | sed 's/.*  0 accepted/0 accepted/')"
# Five captures merged into one sweep episode: the average hides each host's burst.
check "the sweep across hosts: a peak rate over 1000 times the average (seconds between hosts, microseconds within)" \
	test "$(query "SELECT CAST(peak_rate AS REAL) > 1000 * CAST(rate AS REAL) FROM r WHERE detection = 'sweep'" scans sweep-host{1,2,3,4,5}.db)" = 1
check_eq "password loop: 50 connections to sshd on 22, from the attacker" \
	"10.200.0.66|10.200.0.10|22|sshd|50" "$(rows "$bruteforce" bruteforce bruteforce-ssh.db)"
check_eq "hydra: 15 connections to sshd on 22, over IPv6" \
	"fd00:200::66|fd00:200::10|22|sshd|15" "$(rows "$bruteforce" bruteforce bruteforce-hydra.db)"

# The interval pattern tells a regular tool from bursts.
out=$(rows "median_ns, iqr_ns, mean_ns" bruteforce bruteforce-ssh.db)
IFS='|' read -r median iqr mean <<< "$out"
check "password loop: regular (median 100-500 ms, the mean within 20% of it, IQR below the median)" \
	test "$median" -gt 100000000 -a "$median" -lt 500000000 -a "$((mean * 10))" -lt "$((median * 12))" \
	-a "$((mean * 10))" -gt "$((median * 8))" -a "$iqr" -lt "$median"
out=$(rows "median_ns, mean_ns" bruteforce bruteforce-hydra.db)
IFS='|' read -r median mean <<< "$out"
check "hydra: bursts (a mean over 10 times the median)" test "$mean" -gt "$((10 * median))"

# --- Nothing on the benign captures; one host's part of the sweep, a low one --------------
for name in "${benign[@]}" basic web1 web2; do
	check_eq "$name: no scan" "" "$(rows "detection" scans "$name.db")"
	check_eq "$name: no brute force" "" "$(rows "remote" bruteforce "$name.db")"
done
for name in "${sweep_hosts[@]}"; do
	check_eq "$name: a port scan of low confidence, nothing else" "portscan|low|7" \
		"$(rows "detection, confidence, ports" scans "$name.db")"
	check_eq "$name: no brute force" "" "$(rows "remote" bruteforce "$name.db")"
done
check_eq "four hosts' captures of the sweep: no sweep" "" \
	"$(query "SELECT detection FROM r WHERE detection = 'sweep'" scans sweep-host{1,2,3,4}.db)"
check_eq "the benign captures together: nothing" "" \
	"$(rows "detection" scans benign-http.db benign-busy.db)"

# --- The near misses the thresholds are there for -------------------------------------------
check_eq "benign-http holds resets with no socket on more ports of the client than a scan's 15" \
	1 "$(sql "$SCRATCH/benign-http.db" "SELECT count(DISTINCT lport) > 15 FROM tcpreset WHERE state IS NULL AND reason = 'NO_SOCKET'")"
check_eq "... all on the client's own connections: no port scan even at 2 ports" "" \
	"$(rows "detection" scans --ports 2 benign-http.db)"
check_eq "benign-busy: the admin's 5 logins are a brute force only at 5 connections" \
	"10.200.0.21|10.200.0.10|22|sshd|5" \
	"$(rows "$bruteforce" bruteforce --connections 5 benign-busy.db)"
check_eq "benign-busy: the refused connects to 5432 are a port scan only at 1 port" \
	"portscan|10.200.0.22|10.200.0.10|1|5|0||5432" \
	"$(rows "$portscan" scans --ports 1 benign-busy.db)"
check_eq "scan-syn: 996 ports are a scan of low confidence at 997" "portscan|low" \
	"$(rows "detection, confidence" scans --ports 997 scan-syn.db)"
check_eq "scan-syn: ... and none without the low tier" "" \
	"$(rows "detection" scans --ports 997 --low-ports 0 scan-syn.db)"
check_eq "four hosts' captures are a sweep at 4 targets" "sweep|10.200.0.66|4|4" \
	"$(query "SELECT detection, scanner, targets, hosts FROM r WHERE detection = 'sweep'" scans --targets 4 sweep-host{1,2,3,4}.db)"
check_eq "the nmap connect scans are no outbound scan below half of failures" "" \
	"$(rows "detection" scans --failed-share 1 --ports 65536 --low-ports 0 scan-connect.db)"
check_eq "a window shorter than hydra's pauses cuts it into bursts below the threshold" "" \
	"$(rows "remote" bruteforce --window 30 bruteforce-hydra.db)"
check_eq "--service without 22 and --daemon without sshd: no brute force" "" \
	"$(rows "remote" bruteforce --service 21 --daemon dropbear bruteforce-ssh.db)"
check_eq "--daemon sshd alone finds it on any port" "22" \
	"$(rows "port" bruteforce --service 2222 --daemon sshd bruteforce-ssh.db)"

# --- The summary names them all ------------------------------------------------------------
summary_finds "summary: the SYN scan" $'port scans +1 FOUND[^\n]*\n +10\\.200\\.0\\.66 -> 10\\.200\\.0\\.10: 996 ports' scan-syn.db
summary_finds "summary: the connect scans, both families" \
	$'port scans +2 FOUND[^\n]*\n +10\\.200\\.0\\.66 -> 10\\.200\\.0\\.10: 996 ports[^\n]*\n +fd00:200::66 -> fd00:200::10: 996 ports' scan-connect.db
summary_finds "summary: nmap as an outbound scanner" $'outbound scans +2 FOUND[^\n]*\n +nmap/[0-9]+ -> 10\\.200\\.0\\.10: 996 failed' scan-connect.db
summary_finds "summary: the ACK scan" $'port scans +1 FOUND[^\n]*\n +10\\.200\\.0\\.66 -> 10\\.200\\.0\\.10: 1000 ports' scan-ack.db
summary_finds "summary: the password loop" $'brute force +1 FOUND[^\n]*\n +10\\.200\\.0\\.66 -> 10\\.200\\.0\\.10:22: 50 connections' bruteforce-ssh.db
summary_finds "summary: hydra" $'brute force +1 FOUND[^\n]*\n +fd00:200::66 -> \\[fd00:200::10\\]:22: 15 connections' bruteforce-hydra.db
summary_finds "summary: the sweep" $'sweeps +1 FOUND[^\n]*\n +10\\.200\\.0\\.66 -> 6 addresses on 1 host: 7 ports, 42 probes' sweep.db
summary_finds "summary: the sweep across hosts" $'sweeps +1 FOUND[^\n]*\n +10\\.200\\.0\\.66 -> 5 addresses on 5 hosts' "${sweep_hosts[@]/%/.db}"
summary_finds "summary: the near miss, with the thresholds lowered as for bruteforce" \
	$'brute force +1 FOUND[^\n]*\n +10\\.200\\.0\\.21 -> 10\\.200\\.0\\.10:22: 5 connections' --connections 5 benign-busy.db
# Many runs of one program as one user: one line per kind, program, user and capability, with
# the span of its checks.  --settle 0: setpriv's CAP_SETGID is new to each of its processes.
clock() { # SQL time: HH:MM:SS.mmm, as a table prints it (UTC)
	echo "printf('%02d:%02d:%02d.%03d', $1 / 3600000000000 % 24, $1 / 60000000000 % 60, $1 / 1000000000 % 60, $1 / 1000000 % 1000)"
}
run_report summary --settle 0 caps.db
check_eq "summary: 3 runs of one program, one line, counted as SQL counts them, first to last check" \
	"$(sql "$SCRATCH/caps.db" "select 'setpriv, ' || count(distinct pid) || ' processes (uid ' || uid || ') CAP_SETGID: ' || count(*) || ' checks, 0 denied, from ' || $(clock "min(wall_ns)") || ' to ' || $(clock "max(wall_ns)")
		from capable where audit is not 0 and comm = 'setpriv' and cap = 6")" \
	"$(sed -n 's/^  new        \(setpriv, .* CAP_SETGID: .*\)/\1/p' "$SCRATCH/out")"
run_report summary --settle 0 web1.db web2.db
check_eq "summary: one line per host's program, user and capability" 2 \
	"$(grep -cE '^  new        web-[12]:setpriv, 5 processes \(uid [0-9]+\) CAP_SETGID: 10 checks, 0 denied, from [0-9:.]+ to [0-9:.]+$' "$SCRATCH/out")"
for name in "${benign[@]}"; do
	run_report summary "$name.db"
	check_eq "summary: $name, a verdict of none for every detection" 4 \
		"$(grep -cE '^  (port scans|sweeps|outbound scans|brute force) +none \(' "$SCRATCH/out")"
done
run_report summary scan-syn.db
check_match "summary: the capture, its span and losses" \
	"vm  scan-syn.db  [0-9-]+ [0-9:.]+ UTC \.\. [0-9:.]+ UTC \([0-9.]+ s\), 1000 events, 0 lost, clean stop" \
	"$(cat "$SCRATCH/out")"
check_match "summary: a detection that needs a kind not recorded says so" \
	"CAPABILITIES not recorded" "$(cat "$SCRATCH/out")"
# 45: the shells' and guessed logins' verdicts and the exfiltration and beacon
# sections each take their line, found or not.
check_eq "summary: one page (under 45 lines) for all the attacks at once" yes \
	"$(run_report summary "${attacks[@]/%/.db}" "${benign[@]/%/.db}"; [ "$(wc -l < "$SCRATCH/out")" -lt 45 ] && echo yes)"
# Together, the SYN and connect scans of IPv4 are one episode (seconds apart); the ACK
# scan is another only if recorded more than a window (300 s) after them.
ack_apart=$(sql "$SCRATCH/scan-ack.db" "SELECT min(ts_ns) FROM tcpreset")
ack_apart=$(sql "$SCRATCH/scan-connect.db" "SELECT $ack_apart - max(ts_ns) > 300e9 FROM tcpreset")
check_eq "summary, JSON: every kind of detection found in the attacks taken together" \
	"bruteforce|2
outbound|2
portscan|$((2 + ack_apart))
portscan, low confidence|7
sweep|1" \
	"$(query "SELECT kind || iif(detail LIKE 'low confidence;%', ', low confidence', ''), count(*) FROM r WHERE section = 'detection' AND count > 0 GROUP BY 1" \
		summary "${attacks[@]/%/.db}" "${benign[@]/%/.db}")"
check_eq "summary, JSON: the top talker of scan-connect is nmap" "nmap|1000|996" \
	"$(query "SELECT substr(subject, 1, 4), count, failed FROM r WHERE section = 'talker' LIMIT 1" summary scan-connect.db)"
run_report summary --format json basic.db
check_eq "summary, JSON: one line per capture, talker, detection and flag, every one an object" \
	"$(wc -l < "$SCRATCH/out")" "$(grep -c '^{"section":.*}$' "$SCRATCH/out")"

# --- caps: histograms and what stands out ---------------------------------------------------------
# The histograms against SQL over the capture's own view.  basic.db predates ev_capable.denies:
# its refused CAP_SETPCAP may be cap_capset's, which denies nothing, so no denial.
denial="verdict = 'deny' AND cap != 8"
check_eq "caps: checks and denials per capability, as SQL counts them (AUDIT not 0)" \
	"$(sql "$SCRATCH/basic.db" "SELECT name, count(*), sum($denial) FROM capable WHERE audit IS NOT 0 GROUP BY name ORDER BY 2 DESC, min(ts_ns)")" \
	"$(rows "name, checks, denied" caps basic.db | grep -v '^|' | head -3)"
check_eq "caps -v: every check" \
	"$(sql "$SCRATCH/basic.db" "SELECT count(*), sum($denial) FROM capable")" \
	"$(query "SELECT sum(checks), sum(denied) FROM r WHERE section = 'capability'" caps -v -n 0 basic.db)"
check_eq "caps: per user" \
	"$(sql "$SCRATCH/web1.db" "SELECT uid, count(*) FROM capable WHERE audit IS NOT 0 GROUP BY uid")" \
	"$(query "SELECT uid, checks FROM r WHERE section = 'uid'" caps web1.db)"
check_eq "caps: the denials of basic, flagged (process, user, capability)" \
	"denied|capcheck|65534|CAP_SETUID|2" \
	"$(query "SELECT flag, comm, uid, name, denied FROM r WHERE section = 'flag'" caps basic.db)"
check_eq "caps --settle 0: capabilities new to setpriv after its first check" "new|setpriv" \
	"$(query "SELECT DISTINCT flag, comm FROM r WHERE flag = 'new'" caps --settle 0 basic.db)"
run_report caps basic.db
check_match "caps: bar charts, BCC style" $'capability +: checks +denied +distribution\n  CAP_SETUID +: 6 +2 +\\|\\*{40}\\|' \
	"$(cat "$SCRATCH/out")"
# The capability fixture: a raw-socket scan, then CAP_SYS_ADMIN asked for by
# a user other than root (a host name, 11 s after the process's first check;
# a mount namespace), recorded for real (fixtures/record-attacks caps).  This
# kernel has no modules: CAP_SYS_MODULE is flagged by the same rule, untested.
flags() { query "SELECT DISTINCT flag, comm, name FROM r WHERE section = 'flag' ORDER BY 1, 2, 3" caps "$@"; }
check_eq "caps: nmap -sS shows as CAP_NET_RAW from an unexpected program" \
	"net_raw|nmap|CAP_NET_RAW" "$(flags caps.db | grep ^net_raw)"
check_eq "caps: CAP_SYS_ADMIN asked for by a user other than root" \
	"privileged|capcheck|CAP_SYS_ADMIN
privileged|unshare|CAP_SYS_ADMIN" "$(flags caps.db | grep ^privileged)"
check_eq "caps: CAP_SYS_ADMIN, new to capcheck 11 s after its setuid checks" \
	"new|capcheck|CAP_SYS_ADMIN" "$(flags caps.db | grep ^new)"
check_eq "caps: ... not with --settle beyond that" "" "$(flags --settle 12 caps.db | grep ^new)"
check_eq "caps: the denials, among them" \
	"denied|capcheck|CAP_SETUID
denied|capcheck|CAP_SYS_ADMIN
denied|unshare|CAP_SYS_ADMIN" "$(flags caps.db | grep ^denied | grep -v setpriv)"
check_eq "caps: nmap expected (--net-raw) is no flag" "" \
	"$(flags --net-raw ping,nmap caps.db | grep ^net_raw)"
summary_finds "summary: the unusual capability use" $'CAPABILITIES[^\n]*\n  privileged [^\n]*\n  privileged [^\n]*\n  net_raw +nmap/' caps.db

# --- timeline ----------------------------------------------------------------------------------------
events="(SELECT count(*) FROM tcpconnect) + (SELECT count(*) FROM tcpaccept) + (SELECT count(*) FROM tcpreset)"
# Process lives (exec, fork, exit), DNS answers and unaccepted handshakes are lines too.
events="$events + (SELECT count(*) FROM process WHERE how IN ('exec', 'fork'))"
events="$events + (SELECT count(*) FROM ev_exit) + (SELECT count(*) FROM dns) + (SELECT count(*) FROM ev_unaccepted)"
check_eq "timeline: every event once (checks that audit, or may)" \
	"$(sql "$SCRATCH/basic.db" "SELECT $events + (SELECT count(*) FROM capable WHERE audit IS NOT 0)")" \
	"$(rows "count(*)" timeline basic.db)"
check_eq "timeline -v: every event, every check" \
	"$(sql "$SCRATCH/basic.db" "SELECT $events + (SELECT count(*) FROM capable)")" \
	"$(rows "count(*)" timeline -v basic.db)"
check_eq "timeline: in time order, across kinds and hosts" "0" \
	"$(query "SELECT count(*) FROM r a JOIN r b ON b.rowid = a.rowid + 1 WHERE b.time < a.time" \
		timeline -v web1.db web2.db)"
check_eq "timeline: each kind as its tool shows it (connect)" \
	"$(sql "$SCRATCH/basic.db" "SELECT pid, saddr, lport, daddr, dport, outcome, latency_ns FROM tcpconnect ORDER BY ts_ns, seq")" \
	"$(query "SELECT pid, laddr, lport, raddr, rport, outcome, latency_ns FROM r WHERE event = 'connect'" timeline basic.db)"
busy_pid=$(sql "$SCRATCH/basic.db" "SELECT pid FROM tcpconnect GROUP BY pid ORDER BY count(*) DESC, pid LIMIT 1")
check_eq "timeline -p: one process's events" \
	"$(sql "$SCRATCH/basic.db" "SELECT (SELECT count(*) FROM tcpconnect WHERE pid = $busy_pid) + (SELECT count(*) FROM tcpaccept WHERE pid = $busy_pid) + (SELECT count(*) FROM tcpreset WHERE pid = $busy_pid AND tid IS NOT NULL) + (SELECT count(*) FROM capable WHERE pid = $busy_pid AND audit IS NOT 0) + (SELECT count(*) FROM process WHERE pid = $busy_pid AND how IN ('exec', 'fork')) + (SELECT count(*) FROM ev_exit e JOIN task k ON k.id = e.task WHERE k.pid = $busy_pid)")|$busy_pid" \
	"$(rows "count(*), group_concat(DISTINCT pid)" timeline -p "$busy_pid" basic.db)"
check_eq "timeline --addr: every event with the address at either end, either form" \
	"$(sql "$SCRATCH/scan-connect.db" "SELECT (SELECT count(*) FROM tcpconnect WHERE daddr LIKE '%10.200.0.10' OR saddr LIKE '%10.200.0.10') + (SELECT count(*) FROM tcpaccept WHERE laddr LIKE '%10.200.0.10' OR raddr LIKE '%10.200.0.10') + (SELECT count(*) FROM tcpreset WHERE laddr LIKE '%10.200.0.10' OR raddr LIKE '%10.200.0.10') + (SELECT count(*) FROM ev_unaccepted e JOIN address l ON l.id = e.laddr JOIN address r ON r.id = e.raddr WHERE l.addr LIKE '%10.200.0.10' OR r.addr LIKE '%10.200.0.10')")" \
	"$(rows "count(*)" timeline --addr 10.200.0.10 scan-connect.db)"
check_eq "timeline -P: every network event with the port at either end" \
	"$(sql "$SCRATCH/scan-connect.db" "SELECT (SELECT count(*) FROM tcpconnect WHERE 22 IN (lport, dport)) + (SELECT count(*) FROM tcpaccept WHERE 22 IN (lport, rport)) + (SELECT count(*) FROM tcpreset WHERE 22 IN (lport, rport)) + (SELECT count(*) FROM ev_unaccepted WHERE 22 IN (lport, rport))")" \
	"$(rows "count(*)" timeline -P 22 scan-connect.db)"
check_eq "timeline --since --until: a window" \
	"$(sql "$SCRATCH/bruteforce-ssh.db" "SELECT count(*) FROM tcpaccept WHERE wall_ns BETWEEN (SELECT min(wall_ns) FROM tcpaccept) AND (SELECT min(wall_ns) + 2000000000 FROM tcpaccept)")" \
	"$(first=$(sql "$SCRATCH/bruteforce-ssh.db" "SELECT min(wall_ns) FROM tcpaccept"); rows "count(*)" timeline --comm sshd --since "@${first:0:10}.${first:10}" --until "@$((${first:0:10} + 2)).${first:10}" bruteforce-ssh.db)"
# One line per connection.
# nmap resets the connections it established, 3 of 4 of them accepted (8081 never accepts).
check_eq "timeline -c: every connect of the scans one connection, its refusals reset by the victim" \
	"established|8|6|client|8
refused|1992|0|server|1992" \
	"$(query "SELECT outcome, count(*), sum(accept_pid <> ''), reset_by, sum(resets) FROM r GROUP BY outcome, reset_by" \
		timeline -c scan-connect.db)"
check_eq "timeline -c: the password loop's connections, each accepted by sshd" "50|50|sshd" \
	"$(rows "count(*), sum(accept_comm = 'sshd'), group_concat(DISTINCT accept_comm)" timeline -c -P 22 bruteforce-ssh.db)"
# 996 closed ports, and the scanner's own kernel resetting the 4 open ports' SYN-ACKs.
check_eq "timeline -c: a SYN scan's closed ports, refused by the victim" "refused|996|server|10.200.0.66" \
	"$(query "SELECT outcome, count(*), reset_by, client FROM r WHERE outcome = 'refused'" timeline -c scan-syn.db)"
check_eq "timeline -c: its open ports' SYN-ACKs, reset by the scanner's kernel (the client)" \
	"reset|client|10.200.0.66|10.200.0.10|22,80,8080,8081" \
	"$(query "SELECT outcome, reset_by, client, server, group_concat(server_port) FROM (SELECT * FROM r WHERE outcome = 'reset' ORDER BY CAST(server_port AS INTEGER))" timeline -c scan-syn.db)"
# A filter chooses which connections, never what is shown of them.
client=$(q basic "SELECT pid FROM tcpconnect WHERE outcome = 'established' GROUP BY pid ORDER BY count(*) DESC, pid LIMIT 1")
server=$(q basic "SELECT a.pid FROM tcpaccept a JOIN tcpconnect c ON c.lport = a.rport AND c.dport = a.lport WHERE c.pid = $client LIMIT 1")
check_eq "timeline -c -p CLIENT: its connections, each with who accepted it" \
	"$(query "SELECT * FROM r WHERE pid = '$client'" timeline -c basic.db)" \
	"$(query "SELECT * FROM r WHERE accept_pid = '$server'" timeline -c -p "$client" basic.db)"
check_eq "... and its acceptor's -p, the same connections" \
	"$(query "SELECT * FROM r" timeline -c -p "$client" basic.db)" \
	"$(query "SELECT * FROM r" timeline -c -p "$server" basic.db)"
check_eq "timeline -c --comm CLIENT: its refused connects keep the reset that refused them" \
	"refused|1992|1992|server" \
	"$(query "SELECT outcome, count(*), sum(resets), group_concat(DISTINCT reset_by) FROM r WHERE outcome = 'refused'" \
		timeline -c --comm nmap scan-connect.db)"
check_eq "... every connection of the unfiltered view whose client it is, as shown there" \
	"$(query "SELECT * FROM r WHERE comm = 'nmap'" timeline -c scan-connect.db)" \
	"$(query "SELECT * FROM r" timeline -c --comm nmap scan-connect.db)"
# A busy hour (bench/gen): thousands of connections held in a minute, so that
# what holds them grows and wraps.  Each connect and each accept is one
# connection with its own ends and process (gen's accepts answer no captured
# connect), and every reset is counted on one of them.
"$BUILD/bench/gen" 200000 "$SCRATCH/busy.db" > /dev/null 2>&1
check_eq "timeline -c, busy hour: thousands of connects and accepts, and of connections in a minute" "1|1|1" \
	"$(sql "$SCRATCH/busy.db" "SELECT (SELECT count(*) FROM ev_connect) > 10000, (SELECT count(*) FROM ev_accept) > 10000")|$(
		query "SELECT max(n) > 3000 FROM (SELECT CAST(ts_ns AS INTEGER) / 60000000000 AS minute, count(*) AS n FROM r GROUP BY minute)" \
			timeline -c busy.db)"
sorted() { sort | md5sum; }
check_eq "timeline -c, busy hour: the connects, ends and process" \
	"$(sql "$SCRATCH/busy.db" "SELECT saddr, lport, daddr, dport, pid FROM tcpconnect" | sorted)" \
	"$(query "SELECT client, client_port, server, server_port, pid FROM r WHERE pid <> '' AND outcome <> 'accepted'" \
		timeline -c busy.db | sorted)"
check_eq "timeline -c, busy hour: the accepts, ends and process" \
	"$(sql "$SCRATCH/busy.db" "SELECT raddr, rport, laddr, lport, pid FROM tcpaccept" | sorted)" \
	"$(query "SELECT client, client_port, server, server_port, accept_pid FROM r WHERE outcome = 'accepted'" \
		timeline -c busy.db | sorted)"
check_eq "timeline -c, busy hour: every reset counted once, lines in the order connections started" \
	"$(sql "$SCRATCH/busy.db" "SELECT count(*) FROM ev_reset")|0" \
	"$(query "SELECT sum(resets), (SELECT count(*) FROM r AS a JOIN r AS b ON b.rowid = a.rowid + 1 WHERE CAST(b.ts_ns AS INTEGER) < CAST(a.ts_ns AS INTEGER)) FROM r" \
		timeline -c busy.db)"
# Its windows (300 s, 120 s) hold thousands of events of every host: the one scan
# (the scanner's address may come back later, in the background traffic) and brute force.
check_eq "scans, busy hour: the one port scan, ports and probes as the capture counts them" \
	"$(sql "$SCRATCH/busy.db" "SELECT 'portscan', raddr, laddr, count(DISTINCT lport), count(*) FROM tcpreset
		WHERE raddr = '198.51.100.66' AND wall_ns < (SELECT min(wall_ns) + 300000000000 FROM tcpreset WHERE raddr = '198.51.100.66')")" \
	"$(rows "detection, scanner, target, ports, probes" scans busy.db)"
check_eq "bruteforce, busy hour: the one brute force, its connections as the capture counts them" \
	"$(sql "$SCRATCH/busy.db" "SELECT raddr, laddr, lport, count(*) FROM tcpaccept WHERE raddr = '198.51.100.99' AND lport = 22")" \
	"$(rows "remote, local, port, connections" bruteforce busy.db)"

# --- Escaping, bad input, help, the evidence untouched -------------------------------------------------
out=$( (cd "$SCRATCH" && "$report" timeline -v web1.db web2.db; "$report" caps web1.db web2.db; "$report" summary web1.db web2.db) 2>&1)
check_eq "timeline, caps, summary: no byte of a process name reaches the terminal raw" "" \
	"$(printf '%s' "$out" | LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f-\xff]' | grep -v '^0$')"
check_match "... the escape sequence shown escaped" '\\x1b\]0;pwned\\x07' "$out"

echo "not a database" > "$SCRATCH/text.db"
cp "$SCRATCH/basic.db" "$SCRATCH/newer.db" && sqlite3 "$SCRATCH/newer.db" "PRAGMA user_version = 99"
for command in summary timeline scans bruteforce caps; do
	refused "$command: missing file" "$command" nope.db
	refused "$command: not SQLite" "$command" text.db
	refused "$command: a newer format" "$command" newer.db
	refused "$command: a bad file after a good one" "$command" basic.db nope.db
	refused "$command: unknown option" "$command" --frobnicate basic.db
	refused "$command: --format xml" "$command" --format xml basic.db
	run_report "$command" --help
	check_match "$command --help: usage and examples" "^usage: report $command .*examples:" \
		"$(tr '\n' ' ' < "$SCRATCH/out")"
done
run_report --help
for command in summary timeline scans bruteforce caps; do
	check_match "report --help lists $command" $'\n  '"$command " "$(cat "$SCRATCH/out")"
done
refused "scans --window 0" scans --window 0 basic.db
refused "scans --window beyond a day" scans --window 86401 basic.db
refused "scans --ports not a number" scans --ports many basic.db
refused "scans --failed-share 0" scans --failed-share 0 basic.db
refused "scans --failed-share above 1" scans --failed-share 1.5 basic.db
refused "scans takes no -p" scans -p 1 basic.db
refused "bruteforce --connections 0" bruteforce --connections 0 basic.db
refused "bruteforce --service 0" bruteforce --service 0 basic.db
refused "bruteforce --service with an empty item" bruteforce --service 22,,23 basic.db
refused "bruteforce --daemon with a bad escape" bruteforce --daemon 'a\q' basic.db
refused "caps -n not a number" caps -n x basic.db
refused "caps --settle negative" caps --settle -1 basic.db
refused "timeline --addr not an address" timeline --addr 10.0.0.256 basic.db
refused "timeline -c --follow" timeline -c --follow basic.db
refused "summary --bruteforce-window 0" summary --bruteforce-window 0 basic.db
check_eq "a bad threshold, named" "report: scans: --ports wants a number from 1 to 65536, not 'many'" \
	"$(run_report scans --ports many basic.db; cat "$SCRATCH/err")"

# A capture damaged in a table every analysis reads (tasks): one line, status 1,
# also from the summary's threads, which may all meet the damage.
cp "$SCRATCH/web1.db" "$SCRATCH/damaged.db"
page=$(sql "$SCRATCH/damaged.db" "SELECT max(pageno) FROM dbstat WHERE name = 'task'")
printf '\xff%.0s' $(seq 16) | dd of="$SCRATCH/damaged.db" bs=1 seek=$(((page - 1) * 4096 + 8)) conv=notrunc status=none
for command in summary timeline scans bruteforce caps; do
	run_report "$command" damaged.db
	check_match "$command: a damaged capture, one line saying so, status 1" \
		"^1 1 report: damaged.db: cannot read task [0-9]+: database disk image is malformed$" \
		"$rc $(wc -l < "$SCRATCH/err") $(cat "$SCRATCH/err")"
done

run_report summary lost.db
check_eq "summary: the losses said once, on stderr, with the count" \
	"report: lost.db: the recorder lost records ($(sql "$SCRATCH/lost.db" "SELECT lost FROM event_kind WHERE name = 'capable'") capable): this report is incomplete" \
	"$(cat "$SCRATCH/err")"
run_report scans unclean.db
check_match "scans: an unclean stop said" "no clean stop" "$(cat "$SCRATCH/err")"

hash_of() { sha256sum "$@" | cut -d' ' -f1 | tr '\n' ' '; }
before=$(hash_of "$SCRATCH"/*.db)
for args in "summary" "timeline -v" "timeline -c" "scans" "bruteforce" "caps -v" "scans --format json" "caps --format csv"; do
	# shellcheck disable=SC2086 # the arguments are words
	run_report $args scan-connect.db bruteforce-ssh.db basic.db web1.db caps.db unclean.db
done
check_eq "every analysis leaves every capture unchanged" "$before" "$(hash_of "$SCRATCH"/*.db)"
check_eq "... and creates no file beside them" "" "$(find "$SCRATCH" -maxdepth 1 \( -name '*-wal' -o -name '*-shm' -o -name '*-journal' \))"
