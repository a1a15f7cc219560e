# report at scale: what costs findings times events, or captures times
# anything, cannot hide behind small fixtures.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures basic

# timed_report ARGS...: run_report, its wall-clock seconds in $took
timed_report() {
	local start
	start=$(date +%s%N)
	run_report "$@"
	took=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')
}

# finding_counts FIELD VALUE KEY...: the JSON lines of $SCRATCH/out whose
# FIELD is VALUE (every line when FIELD is empty), counted by their KEYs'
# values: "{(key values): count, ...}".
finding_counts() {
	python3 -c 'import collections, json, sys
field, value, keys = sys.argv[2], sys.argv[3], sys.argv[4:]
counts = collections.Counter()
for line in open(sys.argv[1]):
    d = json.loads(line)
    if not field or d[field] == value:
        counts[tuple(d[k] for k in keys)] += 1
print(dict(counts))' "$SCRATCH/out" "$@"
}

# --- Scans: many findings amid many accepts ----------------------------------------------
# 2000 scanners each probe 20 closed ports of one address within 8 s and are
# accepted 3 times (ports 22, 80, 443), amid 300000 accepts from 1000 clients
# in the same seconds.  Counting each finding's accepts by a query of its own
# read the accepts once per finding (6e8 rows: minutes); one replay reads them once.
cp "$SCRATCH/basic.db" "$SCRATCH/dense.db"
sql "$SCRATCH/dense.db" "
CREATE TEMP TABLE base AS SELECT (SELECT max(t) FROM ev_reset) + 1000000000 AS t0;
CREATE TEMP TABLE n AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1999)
	SELECT i FROM n;
INSERT INTO address SELECT 100000 + i, 4, '10.77.' || (i / 250) || '.' || (i % 250 + 1) FROM n;
INSERT INTO address SELECT 200000 + i, 4, '10.88.' || (i / 250) || '.' || (i % 250 + 1) FROM n WHERE i < 1000;
INSERT INTO address VALUES (300000, 4, '10.200.0.101');
INSERT INTO task VALUES (300000, 4242, 4242, 0, 1, 0, 'sshd', 1, 1);
INSERT INTO ev_reset (t, seq, task, laddr, lport, raddr, rport, state, reason)
	SELECT (SELECT t0 FROM base) + p.i * 400000000 + s.i * 50000, 900000000 + s.i * 20 + p.i, NULL,
	       300000, 1000 + p.i, 100000 + s.i, 40000, NULL, 1
	FROM n s, (SELECT i FROM n WHERE i < 20) p;
INSERT INTO ev_accept (t, seq, task, laddr, lport, raddr, rport)
	SELECT (SELECT t0 FROM base) + 1000000000 + s.i * 50000 + k.i * 1000000, 910000000 + s.i * 3 + k.i,
	       300000, 300000, CASE k.i WHEN 0 THEN 22 WHEN 1 THEN 80 ELSE 443 END, 100000 + s.i, 50000
	FROM n s, (SELECT i FROM n WHERE i < 3) k;
INSERT INTO ev_accept (t, seq, task, laddr, lport, raddr, rport)
	SELECT (SELECT t0 FROM base) + c.i * 8000000 + r.i * 20000, 920000000 + c.i * 1000 + r.i, 300000,
	       300000, 22, 200000 + c.i, 50000
	FROM (SELECT i FROM n WHERE i < 1000) c, (SELECT i FROM n WHERE i < 300) r;"
timed_report scans --format json dense.db
check_eq "dense scans: exit status 0" 0 "$rc"
findings=$(finding_counts target 10.200.0.101 detection ports accepts open_ports)
check_eq "dense scans: 2000 port scans, each 20 ports, 3 accepts, open 22,80,443" \
	"{('portscan', 20, 3, '22,80,443'): 2000}" "$findings"
check "dense scans: within 15 s (took $took s; a query per finding takes minutes)" \
	awk "BEGIN { exit !($took < 15) }"

# Every remote host of the dense capture is a scanner: the first pass finds
# the port scans, where a second read every probe again.  One of our own
# connections with a scanner's key (its late segment meets "no socket" too)
# is what the first pass cannot tell from a probe: then the second pass
# reads the probes again, and that reset is not counted.
cp "$SCRATCH/dense.db" "$SCRATCH/dense-own.db"
sql "$SCRATCH/dense-own.db" "
INSERT INTO ev_connect (t, seq, task, saddr, lport, daddr, dport, outcome_state, error, latency_ns)
	SELECT min(t) - 1000000000, 950000000, 300000, 300000, 1000, 100000, 40000, 1, 0, 1000
	FROM ev_reset WHERE raddr = 100000;"
run_report scans --format json dense-own.db
check_eq "dense scans, one probe our own connection's: exit status 0" 0 "$rc"
check_eq "... 1999 port scans of 20 ports, one of 19 (all 3 accepts, open 22,80,443)" \
	"{(20, 3, '22,80,443'): 1999, (19, 3, '22,80,443'): 1}" \
	"$(finding_counts target 10.200.0.101 ports accepts open_ports)"
check_eq "... the one of 19 is of 10.77.0.1, whose connection it was" "{(19,): 1}" \
	"$(finding_counts scanner 10.77.0.1 ports)"

# --- Brute force: a thousand candidates amid their accepts --------------------------------
# The 1000 clients of the dense capture each connect 300 times to sshd within
# 8 s: each a brute force by the connection rule.  The second pass tested
# every accept against its candidates' remotes with a SQL IN (a B-tree
# search a row, deeper with more candidates: every remote host of 100M
# generated events is one); now a bit per address id.
timed_report bruteforce --format json dense.db
check_eq "dense brute force: exit status 0" 0 "$rc"
findings=$(finding_counts local 10.200.0.101 kind port connections basis)
check_eq "dense brute force: 1000 clients, each 300 connections to port 22" \
	"{('bruteforce', 22, 300, 'connections'): 1000}" "$findings"
check "dense brute force: within 15 s (took $took s)" awk "BEGIN { exit !($took < 15) }"

# --- Scans: the second pass amid the suspects' other resets and our connections to them ----
# The 2000 scanners of the dense capture (without its accepts) also reset 100
# segments each from 10.99.0.1 (a host they do not scan: none of it is an open
# port found), and this host opened 150 connections to each of them.  The
# second pass had kept every such reset and looked through them all at each
# finding (2000 x 200000: 10.7 s of CPU), and every connection to a suspect
# in memory (300000 here; 1.7 GB over 100M generated events).
cp "$SCRATCH/basic.db" "$SCRATCH/answers.db"
sql "$SCRATCH/answers.db" "
CREATE TEMP TABLE base AS SELECT (SELECT max(t) FROM ev_reset) + 1000000000 AS t0;
CREATE TEMP TABLE n AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1999)
	SELECT i FROM n;
INSERT INTO address SELECT 100000 + i, 4, '10.77.' || (i / 250) || '.' || (i % 250 + 1) FROM n;
INSERT INTO address VALUES (300000, 4, '10.200.0.101'), (300001, 4, '10.99.0.1');
INSERT INTO task VALUES (300000, 4242, 4242, 0, 1, 0, 'sshd', 1, 1);
INSERT INTO ev_reset (t, seq, task, laddr, lport, raddr, rport, state, reason)
	SELECT (SELECT t0 FROM base) + p.i * 400000000 + s.i * 50000, 900000000 + s.i * 20 + p.i, NULL,
	       300000, 1000 + p.i, 100000 + s.i, 40000, NULL, 1
	FROM n s, (SELECT i FROM n WHERE i < 20) p;
INSERT INTO ev_reset (t, seq, task, laddr, lport, raddr, rport, state, reason)
	SELECT (SELECT t0 FROM base) + a.i * 80000000 + s.i * 1000, 930000000 + s.i * 100 + a.i, NULL,
	       300001, 2000, 100000 + s.i, 30000 + a.i, NULL, 1
	FROM n s, (SELECT i FROM n WHERE i < 100) a;
INSERT INTO ev_connect (t, seq, task, saddr, lport, daddr, dport, outcome_state, error, latency_ns)
	SELECT (SELECT t0 FROM base) - 1000000000 + s.i * 400 + c.i, 940000000 + s.i * 500 + c.i, 300000,
	       300000, 32768 + c.i, 100000 + s.i, 443, 1, 0, 1000
	FROM n s, (SELECT i FROM n WHERE i < 150) c;"
(cd "$SCRATCH" && "$OLDPWD/$BUILD/bench/spawn" stats "$report" scans --format json answers.db > out 2> err)
stats=$(cat "$SCRATCH/stats")
findings=$(finding_counts "" "" detection target ports open_ports)
check_eq "answers: 2000 port scans of 10.200.0.101, each 20 ports, none open" \
	"0 {('portscan', '10.200.0.101', 20, ''): 2000}" "$(value status "$stats") $findings"
check "answers: under 4 s of CPU ($(value cpu "$stats") s; a look through every answer per finding: 10.7 s)" \
	awk "BEGIN { exit !($(value cpu "$stats") < 4) }"
if ldd "$report" | grep -q libasan; then
	skip "answers: peak memory under 64 MB" "a sanitizer's redzones and quarantine are most of it (the plain build measures it)"
else
	check "answers: peak memory under 64 MB ($(value maxrss_kb "$stats") kB; every connection to a suspect kept: 81 MB)" \
		test "$(value maxrss_kb "$stats")" -lt 65536
fi

# --- Lives: failed connects, whose close comes with their outcome ---------------------------
# 1,000,000 connects refused over an hour (3.6 ms apart, each its own ends),
# none closed in the capture (bench/gen's, some 15% of its connects), then
# two closes outside process context: one at the last connect's outcome (its
# close: the connect lends its process), one of the first connect's ends an
# hour after its outcome (another connection's: none of its process).
# Kept until the end, those openings were most of tcplife's memory (408 MB
# over 100M generated events); let go a minute after their outcome, the
# openings held are a minute's.
load_fixtures lives
cp "$SCRATCH/lives.db" "$SCRATCH/refused.db"
sql "$SCRATCH/refused.db" "
CREATE TEMP TABLE base AS SELECT (SELECT max(t) FROM ev_connect) + 1000000000 AS t0;
CREATE TEMP TABLE n AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
	SELECT i FROM n;
INSERT INTO address VALUES (400000, 4, '10.66.0.1');
INSERT INTO address SELECT 400001 + i, 4, '10.66.' || (1 + i / 250) || '.' || (i % 250 + 1) FROM n WHERE i < 2000;
INSERT INTO task VALUES (400000, 4343, 4343, 1, 0, 0, 'retry', 1, 1);
INSERT INTO ev_connect (t, seq, task, saddr, lport, daddr, dport, outcome_state, error, latency_ns)
	SELECT (SELECT t0 FROM base) + i * 3600000, 950000000 + i, 400000, 400000, 32768 + i % 28000,
	       400001 + i / 28000, 443, 7, 111, 20000
	FROM n;
INSERT INTO ev_close (t, seq, task, laddr, lport, raddr, rport, start_t, established, bytes_sent,
		      bytes_received, segs_in, segs_out, retransmits, closed_from, error, closed_by)
	VALUES ((SELECT t0 FROM base) + 999999 * 3600000 + 20000, 960000000, NULL, 400000,
		32768 + 999999 % 28000, 400001 + 999999 / 28000, 443,
		(SELECT t0 FROM base) + 999999 * 3600000, 0, 0, 0, 1, 1, 0, 2, 111, 4),
	       ((SELECT t0 FROM base) + 3601000000000, 960000001, NULL, 400000, 32768, 400001, 443,
		NULL, 1, 10, 20, 2, 2, 0, 1, 0, 2);"
(cd "$SCRATCH" && "$OLDPWD/$BUILD/bench/spawn" stats "$report" tcplife --format json --addr 10.66.0.1 refused.db > out 2> err)
stats=$(cat "$SCRATCH/stats")
check_eq "refused: exit status 0, nothing on stderr" "0|" "$(value status "$stats")|$(cat "$SCRATCH/err")"
check_eq "refused: the last connect's close has its process; the hour-later close of the first's ends none" \
	"52767 10.66.1.36 4343 connect
32768 10.66.1.1 None None" \
	"$(python3 -c 'import json, sys
for d in map(json.loads, open(sys.argv[1])):
    print(d["lport"], d["raddr"], d["pid"], d["opened"])' "$SCRATCH/out")"
if ldd "$report" | grep -q libasan; then
	skip "refused: peak memory under 24 MB" "a sanitizer's redzones and quarantine are most of it (the plain build measures it)"
else
	check "refused: peak memory under 24 MB ($(value maxrss_kb "$stats") kB; every failed connect kept: 114 MB)" \
		test "$(value maxrss_kb "$stats")" -lt 24576
fi

# --- Exfiltration and beacons: more pairs alike than memory holds ------------------------
# 300000 process and remote pairs each close two connections far apart, 1000
# bytes out in all; 60 of them send 2 MB more, 40 open a connection and push
# 1.1 MB out (flagged); 3000 beacons call every 1 to 50 s, and 100000
# connections every 3 ms go to ten addresses per process on port 443.  With
# --top 8000 the top's last pairs tie at 1000 bytes with some 290000 others:
# a sketch's candidates, read in shares of their hash a pass each, took
# seven passes of the lives (five times --top 100's CPU); now they are spilled to a
# temporary file in one pass, and summed and scored a share at a time.
# Compared with what SQL (exfil) and Python (beacons) make of the same rows.
"$BUILD/bench/gen" 2000 "$SCRATCH/alike.db" > /dev/null
sql "$SCRATCH/alike.db" "
DELETE FROM ev_connect; DELETE FROM ev_accept; DELETE FROM ev_close;
CREATE TEMP TABLE n AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 299999)
	SELECT i FROM n;
CREATE TEMP TABLE g AS SELECT i FROM n WHERE i < 3000;
CREATE TEMP TABLE c AS SELECT i FROM n WHERE i < 12;
INSERT INTO task (id, pid, tid, start_ns, ppid, uid, comm, cgroup, mntns, netns)
	SELECT 700000 + i, 60000 + i, 60000 + i, 0, 1, 1000, 'dense', 1, 1, 0 FROM n WHERE i < 300;
INSERT INTO address SELECT 800000 + i, 4, '10.66.' || (i / 250) || '.' || (i % 250 + 1) FROM n WHERE i < 1000;
INSERT INTO address VALUES (900000, 4, '10.0.0.1');
-- 300000 pairs, two closes each, far apart, of 500 to 502 bytes out (no connect: opened unknown)
INSERT INTO ev_close (t, seq, task, laddr, lport, raddr, rport, start_t, established, bytes_sent,
		      bytes_received, segs_in, segs_out, retransmits, closed_from, error, closed_by, netns)
	SELECT 1000000000000 + (j.i * 300000 + n.i) * 1000, 100000000 + j.i * 300000 + n.i, 700000 + n.i % 300,
	       900000, 20000 + n.i % 30000, 800000 + n.i / 300, 443, 999999999000, 1, 500, 100,
	       2, 2, 0, 1, 0, 1, NULL
	FROM (SELECT i FROM n WHERE i < 2) j, n;
-- 60 pairs among them send 2 MB more (not flagged: nobody opened them)
INSERT INTO ev_close (t, seq, task, laddr, lport, raddr, rport, start_t, established, bytes_sent,
		      bytes_received, segs_in, segs_out, retransmits, closed_from, error, closed_by, netns)
	SELECT 1000600000000 + i * 1000, 200000000 + i, 700000 + (i * 5000) % 300, 900000, 41000 + i,
	       800000 + (i * 5000) / 300, 443, 999999999000, 1, 2000000 + i * 1000, 50, 2, 2, 0, 1, 0, 1, NULL
	FROM n WHERE i < 60;
-- 40 others open a connection and push 1.1 MB for 1000 bytes back: flagged
INSERT INTO ev_connect (t, seq, task, saddr, lport, daddr, dport, outcome_state, error, latency_ns)
	SELECT 1000700000000 + i * 2000, 300000000 + i, 700000 + (i * 5000 + 1) % 300, 900000, 40000 + i,
	       800000 + (i * 5000 + 1) / 300, 443, 1, 0, 1000
	FROM n WHERE i < 40;
INSERT INTO ev_close (t, seq, task, laddr, lport, raddr, rport, start_t, established, bytes_sent,
		      bytes_received, segs_in, segs_out, retransmits, closed_from, error, closed_by, netns)
	SELECT t + 1000, seq + 1000, task, saddr, lport, daddr, dport, t, 1, 1100000 + seq % 1000, 1000,
	       2, 2, 0, 1, 0, 1, NULL
	FROM ev_connect WHERE seq >= 300000000;
-- 3000 beacons: 12 connections each at a fixed interval of 1 to 50 s, 120 bytes each, a port each
INSERT INTO ev_connect (t, seq, task, saddr, lport, daddr, dport, outcome_state, error, latency_ns)
	SELECT 1010000000000 + g.i * 1000000 + c.i * (1 + g.i % 50) * 1000000000, 400000000 + g.i * 12 + c.i,
	       700000 + g.i % 300, 900000, 30000 + c.i, 800000 + g.i / 300, 10000 + g.i, 1, 0, 1000
	FROM g, c;
-- 100000 connections every 3 ms, of 1 to 6000 bytes: each process to 10 addresses on port 443
INSERT INTO ev_connect (t, seq, task, saddr, lport, daddr, dport, outcome_state, error, latency_ns)
	SELECT 1010000000000 + i * 3000000, 500000000 + i, 700000 + i % 300, 900000, 1024 + i % 60000,
	       800000 + (i * 7) % 1000, 443, 1, 0, 1000
	FROM n WHERE i < 100000;
INSERT INTO ev_close (t, seq, task, laddr, lport, raddr, rport, start_t, established, bytes_sent,
		      bytes_received, segs_in, segs_out, retransmits, closed_from, error, closed_by, netns)
	SELECT t + 1000000, seq + 1000000000, task, saddr, lport, daddr, dport, t, 1,
	       CASE WHEN seq < 500000000 THEN 120 ELSE (seq * 7919) % 6000 + 1 END, 100, 2, 2, 0, 1, 0, 1, NULL
	FROM ev_connect WHERE seq >= 400000000;"
# Every close's pair, with its own process (each has one), opened by connect when one started it.
exfil_sql="WITH c AS (
	SELECT t.pid, c.raddr, c.t, c.bytes_sent AS sent, c.bytes_received AS received, o.t IS NOT NULL AS opened
	FROM ev_close c JOIN task t ON t.id = c.task
	LEFT JOIN ev_connect o ON o.saddr = c.laddr AND o.lport = c.lport AND o.daddr = c.raddr
		AND o.dport = c.rport AND o.t = c.start_t),
p AS (SELECT pid, raddr, count(*) AS conns, sum(sent) AS sent, sum(received) AS received,
	sum(CASE WHEN opened THEN sent ELSE 0 END) AS os, sum(CASE WHEN opened THEN received ELSE 0 END) AS orc,
	min(t) AS first FROM c GROUP BY pid, raddr),
r AS (SELECT *, row_number() OVER (ORDER BY sent DESC, first) AS rank,
	os >= 1000000 AND (os - orc) * 1.0 / (os + orc) >= 0.8 AS flagged FROM p)
SELECT pid, a.addr, conns, sent, received, os, orc, CASE WHEN flagged THEN 'exfil' ELSE '' END
FROM r JOIN address a ON a.id = r.raddr WHERE rank <= :top OR flagged ORDER BY rank"
# exfil_of TOP: report's pairs, as exfil_sql lists them
exfil_of() {
	sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" \
		"SELECT pid, remote, connections, sent, received, opened_sent, opened_received, flag FROM r" |
		sha256sum
}
declare -A cpu
for top in 100 8000; do
	(cd "$SCRATCH" && "$OLDPWD/$BUILD/bench/spawn" stats "$report" exfil --top $top --format csv alike.db > out 2> err)
	stats=$(cat "$SCRATCH/stats")
	cpu[$top]=$(value cpu "$stats")
	expected=$(sqlite3 -batch "$SCRATCH/alike.db" ".parameter set :top $top" "$exfil_sql" | sha256sum)
	check_eq "alike: exfil --top $top, the same pairs, figures and order as SQL's ($(wc -l < "$SCRATCH/out") lines)" \
		"0 $expected" "$(value status "$stats") $(exfil_of)"
done
# Against --top 100 in the same run, not a number of seconds: the host's
# speed and a sanitizer's cost divide out, and seven passes do not.
check "alike: exfil --top 8000 in under twice --top 100's CPU (${cpu[8000]} s, ${cpu[100]} s; seven passes took 5 times)" \
	awk "BEGIN { exit !(${cpu[8000]} < 2 * ${cpu[100]}) }"
run_report beacons --format csv alike.db
expected=$(python3 - "$SCRATCH/alike.db" << 'PYTHON' | sha256sum
import collections, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("""
	SELECT t.pid, a.addr, c.rport, o.t, c.bytes_sent FROM ev_close c JOIN task t ON t.id = c.task
	JOIN address a ON a.id = c.raddr JOIN ev_connect o ON o.saddr = c.laddr AND o.lport = c.lport
	AND o.daddr = c.raddr AND o.dport = c.rport AND o.t = c.start_t""")
groups = collections.defaultdict(list)
for pid, addr, port, start, sent in rows:
    groups[(pid, addr, port)].append((start, sent, addr))
    groups[(pid, "", port)].append((start, sent, addr))
def q(x, p): return x[int(p * (len(x) - 1))]
def skew(x):
    q1, q2, q3 = q(x, 0.25), q(x, 0.5), q(x, 0.75)
    return 1 if q3 == q1 or q2 == q1 or q2 == q3 else 1 - abs((q1 + q3 - 2 * q2) / (q3 - q1))
def madm(x): return q(sorted(abs(v - q(x, 0.5)) for v in x), 0.5)
found = []
for (pid, addr, port), conns in groups.items():
    if len(conns) < 10 or (not addr and len({a for _, _, a in conns}) < 2):
        continue
    starts, sent = sorted(c[0] for c in conns), sorted(c[1] for c in conns)
    gaps = sorted(b - a for a, b in zip(starts, starts[1:]))
    median = q(gaps, 0.5)
    expected = (starts[-1] - starts[0]) / median + 1 if median else 0
    count = min(1, len(starts) / expected) if expected > 0 else 0
    timing = (skew(gaps) + (max(0, 1 - madm(gaps) / median) if median else 0) + count) / 3
    data = (skew(sent) + max(0, 1 - madm(sent) / 32) + max(0, 1 - q(sent, 0.5) / 65535)) / 3
    score = (timing + data) / 2
    if score >= 0.8:
        found.append((-score, starts[0], pid, addr, port, len(conns), median, q(sent, 0.5)))
for f in sorted(found):
    print(f"{f[2]}|{f[3]}|{f[4]}|{f[5]}|{f[6]}|{f[7]}|{-f[0]:.3f}")
PYTHON
)
check_eq "alike: beacons, the same groups, figures and order as Python's ($(wc -l < "$SCRATCH/out") lines)" \
	"0 $expected" "$rc $(sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" \
		"SELECT pid, remote, port, connections, interval_ns, median_bytes, score FROM r" | sha256sum)"
# Those rows are more than memory holds: where the temporary file cannot be made, one line says so.
TMPDIR=$SCRATCH/none run_report exfil alike.db
check_eq "alike: exfil without a temporary directory: one line, status 1" \
	"1|report: exfil: cannot create a temporary file in $SCRATCH/none: No such file or directory" \
	"$rc|$(cat "$SCRATCH/err")"
TMPDIR=$SCRATCH/none run_report beacons alike.db
check_eq "alike: beacons without a temporary directory: one line, status 1" \
	"1|report: beacons: cannot create a temporary file in $SCRATCH/none: No such file or directory" \
	"$rc|$(cat "$SCRATCH/err")"

# The spill itself, in memory for 1000 rows: shares larger split by the
# next byte of the hash, down to the last for a single key (read whole).
out=$("$BUILD/tests/spillcheck" 1000000 1000 5000)
check_match "spill: 1000000 rows of 5000 keys, each key's in one batch in order, none over 1000" \
	"^rows=1000000 batches=[0-9]+ largest=([0-9]{1,3}|1000)$" "$out"
check_eq "spill: 100000 rows of one key, in one batch in order" \
	"rows=100000 batches=1 largest=100000" "$("$BUILD/tests/spillcheck" 100000 1000 1)"

# --- A fleet: hundreds of captures at once ------------------------------------------------
mkdir "$SCRATCH/fleet"
for i in $(seq -w 1 300); do
	cp "$SCRATCH/basic.db" "$SCRATCH/fleet/h$i.db"
	sql "$SCRATCH/fleet/h$i.db" "UPDATE capture SET hostname = 'host-$i'"
done
one=$(cd "$SCRATCH" && "$report" tcpconnect --format csv fleet/h001.db | tail -n +2 | wc -l)
fleet=$(cd "$SCRATCH" && echo fleet/*.db)

# peak_kb FILES...: report tcpconnect's peak resident kB over them (bench/spawn)
peak_kb() {
	(cd "$SCRATCH" && "$OLDPWD/$BUILD/bench/spawn" stats "$report" tcpconnect "$@" > /dev/null 2>&1)
	value maxrss_kb "$(cat "$SCRATCH/stats")"
}
# 100 captures of 20000 generated events each: enough rows to fill what a
# stream reads ahead.  Per capture: the lookup caches, sized to its own
# tables (some 430 kB here; 700 kB with room for the longest text in each
# slot), and SQLite's own, two connections (the report's and its reader's)
# each with its parsed schema and pages (their caches share 32 MiB).  The
# batches read ahead took 1.6 MB more a stream: now all streams share one
# bound.
mkdir "$SCRATCH/gen"
"$BUILD/bench/gen" 20000 "$SCRATCH/gen/one.db" > /dev/null
for i in $(seq -w 1 100); do cp "$SCRATCH/gen/one.db" "$SCRATCH/gen/h$i.db"; done
small=$(peak_kb gen/h001.db gen/h002.db)
many=$(cd "$SCRATCH" && echo gen/h*.db)
# shellcheck disable=SC2086 # the files
large=$(peak_kb $many)
per=$(((large - small) / 98))
if ldd "$report" | grep -q libasan; then
	skip "fleet: memory per capture under 1.5 MB ($per kB)" "a sanitizer's redzones and quarantine are most of it (the plain build measures it)"
else
	check "fleet: memory per capture under 1.5 MB ($per kB)" test "$per" -lt 1536
fi

# Beyond the soft limit on open files (two a capture, eight for summary): raised as far as needed.
# run_report_limited ULIMIT_OPTION ARGS...: run_report under ulimit OPTION 64; the status in $SCRATCH/rc
run_report_limited() { (ulimit "$1" 64 && run_report "${@:2}" && echo "$rc" > "$SCRATCH/rc"); }
# shellcheck disable=SC2086 # the files
run_report_limited -Sn tcpconnect --format csv $fleet
check_eq "fleet: 300 captures under a soft limit of 64 files, every capture's rows" \
	"0 $((300 * one))" "$(cat "$SCRATCH/rc") $(tail -n +2 "$SCRATCH/out" | wc -l)"
# shellcheck disable=SC2086 # the files
run_report_limited -n tcpconnect $fleet
check_eq "fleet: under a hard limit of 64, one line that says what to raise" \
	"1|report: 300 captures need 632 open files, more than this process may open (64): raise the limit (ulimit -n 2432 as root, LimitNOFILE=)" \
	"$(cat "$SCRATCH/rc")|$(cat "$SCRATCH/err")"
# summary reads each capture on up to eight connections at once (its analyses' copies, their readers').
# shellcheck disable=SC2086 # the files
run_report_limited -Sn summary $fleet
check_eq "fleet: summary over 300 captures under a soft limit of 64 files" \
	"0|host-300" "$(cat "$SCRATCH/rc")|$(grep -o 'host-300' "$SCRATCH/out" | head -1)"

# Beside five captures or more, the connections to one file share its schema and pages:
# several names of one file (links) share one cache, and are as many captures still.
mkdir "$SCRATCH/links"
for i in 1 2 3 4 5 6; do ln -s ../fleet/h001.db "$SCRATCH/links/l$i.db"; done
run_report tcpconnect --format csv links/l1.db links/l2.db links/l3.db links/l4.db links/l5.db links/l6.db
check_eq "fleet: six names of one capture, each capture's rows" \
	"0 $((6 * one))" "$rc $(tail -n +2 "$SCRATCH/out" | wc -l)"
# summary reads them on several threads at once, each file's cache shared among them.
run_report summary --format json links/l1.db links/l2.db links/l3.db links/l4.db links/l5.db links/l6.db
check_eq "fleet: summary over six names of one capture, nothing on stderr" "0|" "$rc|$(cat "$SCRATCH/err")"
