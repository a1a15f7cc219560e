# attacks: the detection prototypes (docs/detection-*.sql) on the real attacks
# and benign traffic recorded by fixtures/record-attacks; the expected
# results are the table of fixtures/ATTACKS.md.  No root.
source "$(dirname "$0")/lib.sh"

# load NAME: the fixture as a database in the scratch directory; prints its path
load() {
	local db="$SCRATCH/$1.db"
	[ -f "$db" ] || sqlite3 -batch "$db" < "fixtures/$1.sql"
	echo "$db"
}

# detect [NAME=VALUE...] FIXTURE...: the findings in these captures taken
# together, one line each; NAME=VALUE overrides a threshold (cf_param)
detect() {
	local params=() i=0 f
	while [[ $1 == *=* ]]; do
		params+=("INSERT INTO cf_param VALUES ('${1%%=*}', ${1#*=});")
		shift
	done
	{
		echo "CREATE TEMP TABLE cf_param (name TEXT PRIMARY KEY, value NUMERIC NOT NULL);"
		printf '%s\n' "${params[@]}"
		for f in "$@"; do
			i=$((i + 1))
			echo "ATTACH '$(load "$f")' AS c$i;"
			sed "s/\bmain\./c$i./g" docs/detection-inputs.sql
		done
		cat docs/detection-queries.sql
	} | sqlite3 -batch -bail :memory:
}

# expect NAME FIXTURE... <<< LINES: exactly these findings
expect() {
	local name=$1 expected out
	shift
	expected=$(cat)
	if ! out=$(detect "$@" 2>&1); then
		fail "$name" "the queries failed: $out"
		return
	fi
	check_eq "$name" "$expected" "$out"
}

# field N LINE: the Nth |-separated field
field() { cut -d'|' -f"$1" <<< "$2"; }

expect "SYN scan: one port scan, from the attacker, of the victim's 996 closed ports" \
	scan-syn <<- 'EOF'
	portscan|vm|10.200.0.66|10.200.0.10|996|996|2026-11-23T01:55:00.012Z|2026-11-23T01:55:00.041Z|34466.1|1,3,4,6,7,9,13,17,19,20|0|
	EOF

expect "connect scans: a port scan per family, with the open ports accepted, and nmap as an outbound scanner" \
	scan-connect <<- 'EOF'
	portscan|vm|10.200.0.66|10.200.0.10|996|996|2026-11-23T01:55:00.985Z|2026-11-23T01:55:01.073Z|11256.8|1,3,4,6,7,9,13,17,19,20|3|22,80,8080
	portscan|vm|fd00:200::66|fd00:200::10|996|996|2026-11-23T01:55:01.159Z|2026-11-23T01:55:01.230Z|13946.7|1,3,4,6,7,9,13,17,19,20|3|22,80,8080
	outbound|vm|13053|nmap|10.200.0.10|1|996|996|1000|996|996|0|2026-11-23T01:55:00.984Z|2026-11-23T01:55:01.073Z|11281.2|1,3,4,6,7,9,13,17,19,20
	outbound|vm|13059|nmap|fd00:200::10|1|996|996|1000|996|996|0|2026-11-23T01:55:01.159Z|2026-11-23T01:55:01.230Z|13964.0|1,3,4,6,7,9,13,17,19,20
	EOF

expect "ACK scan: one port scan of 1000 ports; the 4 open ones answered by their listeners" \
	scan-ack <<- 'EOF'
	portscan|vm|10.200.0.66|10.200.0.10|1000|1000|2026-11-23T02:02:30.373Z|2026-11-23T02:02:30.435Z|16234.2|1,3,4,6,7,9,13,17,19,20|0|22,80,8080,8081
	EOF

expect "password loop: one brute force, 50 connections to sshd, regular intervals" \
	bruteforce-ssh <<- 'EOF'
	bruteforce|vm|10.200.0.66|10.200.0.10|22|sshd/12919|50|2026-11-23T01:55:02.156Z|2026-11-23T01:55:13.587Z|4.37|229.0|200.0|254.0|54.0|233.0
	EOF

expect "hydra: one brute force, 15 connections over IPv6 in bursts" \
	bruteforce-hydra <<- 'EOF'
	bruteforce|vm|fd00:200::66|fd00:200::10|22|sshd/12919|15|2026-11-23T01:55:14.840Z|2026-11-23T01:56:51.776Z|0.15|22.0|4.0|50.0|46.0|6924.0
	EOF

expect "sweep in one capture: six addresses of one machine, no port scan" \
	sweep <<- 'EOF'
	sweep|10.200.0.66|6|1|10.200.0.101,10.200.0.102,10.200.0.103,10.200.0.104,10.200.0.105,10.200.0.106|7|42|2026-11-23T01:56:53.633Z|2026-11-23T01:56:53.639Z|6641.7|21,22,23,25,443,445,3389|0
	EOF

expect "sweep across five hosts' captures" \
	sweep-host1 sweep-host2 sweep-host3 sweep-host4 sweep-host5 <<- 'EOF'
	sweep|10.200.0.66|5|5|10.200.0.101,10.200.0.102,10.200.0.103,10.200.0.104,10.200.0.105|7|35|2026-11-23T01:56:55.015Z|2026-11-23T01:57:01.220Z|5.6|21,22,23,25,443,445,3389|0
	EOF

expect "four hosts' captures are not a sweep" sweep-host1 sweep-host2 sweep-host3 sweep-host4 < /dev/null
for i in 1 2 3 4 5; do
	expect "one host's capture of the sweep: nothing" "sweep-host$i" < /dev/null
done

expect "benign: 1,600 HTTP connections from one client, 300 downloads cut short: nothing" \
	benign-http < /dev/null
expect "benign: a busy accept loop, an admin's logins, a service down: nothing" \
	benign-busy < /dev/null

# The benign captures hold the near misses the thresholds are there for.
out=$(sql "$(load benign-http)" \
	"SELECT count(*), count(DISTINCT lport) FROM tcpreset WHERE state IS NULL AND reason = 'NO_SOCKET'")
check_eq "benign-http holds 261 resets with no socket, on 114 ports of the client" "261|114" "$out"
check_eq "... all on the client's own connections: no scan even at 2 ports" "" \
	"$(detect scan_ports=2 benign-http)"
out=$(detect bruteforce_connections=5 benign-busy)
check_eq "benign-busy: the admin's 5 logins are a brute force only with the threshold at 5" \
	"bruteforce|10.200.0.21|22|5" "$(field 1 "$out")|$(field 3 "$out")|$(field 5 "$out")|$(field 7 "$out")"
out=$(detect scan_ports=1 benign-busy)
check_eq "benign-busy: the refused connects to 5432 are a port scan only at 1 port" \
	"portscan|10.200.0.22|10.200.0.10|1|5" "$(field 1 "$out")|$(field 3-6 "$out")"
out=$(detect scan_ports=997 scan-syn)
check_eq "scan-syn: 996 ports are no scan with the threshold at 997" "" "$out"
out=$(detect sweep_hosts=4 sweep-host1 sweep-host2 sweep-host3 sweep-host4)
check_eq "four hosts' captures are a sweep with the threshold at 4" "sweep|10.200.0.66|4|4" \
	"$(field 1-4 "$out")"
