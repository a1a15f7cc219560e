-- The detections of detection.md on ClickHouse (18.16 or later), for a fleet:
-- inbound port scans (and their low-confidence tier), sweeps across hosts,
-- outbound scanning, brute force (by failed logins, and by connections where
-- the capture cannot tell logins), guessed passwords and exfiltration, over
-- the tables scripts/clickhouse-load fills from any number of captures.  They
-- mirror the SQLite reference, detection-queries.sql, rule for rule (which has
-- no failed logins, guessed passwords or exfiltration: report logins and
-- report tcplife tell the logins and the connections' lives the loader
-- loads), and find what `report scans`, `report bruteforce` and `report
-- exfil` find, with the same figures (tests/clickhouse.test.sh).
--
--   scripts/clickhouse-load --port 9000 *.db
--   clickhouse-client --port 9000 --multiquery < docs/detection-queries.clickhouse.sql
--
-- ClickHouse 18.16 (Debian 12) has no window functions, so each rule's groups
-- are folded into time-ordered arrays: an episode starts where the gap to the
-- previous event exceeds the window (arrayDifference, arrayCumSum), and the
-- items each window holds come from a running sum over their spans, sorted
-- with the events (cf_episode, below).  Windows are closed at both ends, as
-- report's (report/analyses/episodes.c).  The finding queries print CSV with
-- a header, the columns named as report's --format csv names them, first and
-- last in Unix ns.  Guessed passwords (report bruteforce's KIND guessed) are
-- a greedy chain over each episode's logins, which 18.16 has no fold for:
-- followed by pointer doubling, up to 32 in one episode (below).
--
-- Memory: the rules' events of the whole fleet are in their groups' arrays
-- while cf_episode is made (bench/RESULTS.md: some 250 bytes an event).
--
-- Thresholds and windows: insert into cf_param (name, value) before running
-- to change one; the names are detection-queries.sql's.

CREATE TABLE IF NOT EXISTS cf_param (name String, value Float64) ENGINE = Memory;

DROP TABLE IF EXISTS cf_p;
CREATE TABLE cf_p ENGINE = Memory AS
SELECT name, value FROM cf_param
UNION ALL
SELECT tupleElement(d, 1) AS name, tupleElement(d, 2) AS value
FROM (SELECT arrayJoin([('scan_window_s', 300.), ('scan_ports', 15.), ('scan_low_window_s', 60.),
                        ('scan_low_ports', 5.), ('sweep_window_s', 300.), ('sweep_hosts', 5.),
                        ('outbound_window_s', 300.), ('outbound_destinations', 15.),
                        ('outbound_failed_share', 0.5), ('bruteforce_window_s', 120.),
                        ('bruteforce_connections', 10.), ('failures_window_s', 600.),
                        ('failures', 5.), ('exfil_min_bytes', 1000000.), ('exfil_pcr', 0.8),
                        ('exfil_top', 100.)]) AS d)
WHERE name NOT IN (SELECT name FROM cf_param);

-- A probe: a reset with no socket (a closed port) or from a listening socket
-- (a segment without SYN to an open port), not about a connection this host
-- opened.
DROP TABLE IF EXISTS cf_probe;
CREATE VIEW cf_probe AS
SELECT host, wall_ns, raddr AS scanner, laddr AS target, lport AS port,
       rport AS remote_port, isNotNull(state) AS listening
FROM cf_reset
WHERE ((isNull(state) AND ifNull(reason, 'NO_SOCKET') = 'NO_SOCKET') OR state = 'LISTEN')
  AND (host, laddr, lport, raddr, rport) NOT IN
      (SELECT host, saddr, lport, daddr, dport FROM cf_connect
       WHERE (host, saddr, lport) IN (SELECT host, laddr, lport FROM cf_reset));

-- A login service: a login port, or a connection a login daemon accepted.
-- A login is told (the logins rule) where report logins found its session
-- process; else the connection counts (the connections rule).
DROP TABLE IF EXISTS cf_login_attempt;
CREATE VIEW cf_login_attempt AS
SELECT host, wall_ns, pid, comm, laddr, lport, raddr, rport,
       if(session_pid = 0, 'connections', 'logins') AS basis, outcome, session_pid, uid
FROM (SELECT * FROM cf_accept
      WHERE has([21, 22, 23, 25, 110, 139, 143, 389, 445, 465, 587, 636, 993, 995, 1433,
                 1521, 3306, 3389, 5432, 5900, 5985, 5986], lport)
         OR has(['sshd', 'sshd-session', 'dropbear'], comm))
ANY LEFT JOIN (SELECT host, wall_ns, raddr, rport, lport, ifNull(pid, 0) AS session_pid, outcome, uid
               FROM cf_login)
USING (host, wall_ns, raddr, rport, lport);

-- Every rule's events: its group (a key), its time, whether it counts in the
-- windows and its item (what is counted once per window: a port, a target, a
-- destination; each connection or failed login its own).
DROP TABLE IF EXISTS cf_rule_event;
CREATE VIEW cf_rule_event AS
SELECT rule, key, wall_ns, counted, item FROM (
    SELECT concat('portscan ', tupleElement(tier, 1)) AS rule,
           concat(host, ' ', scanner, ' ', target) AS key, wall_ns, 1 AS counted,
           toUInt64(port) AS item
    FROM cf_probe
    ARRAY JOIN arrayFilter(t -> tupleElement(t, 2) > 0,
                           [('high', 1), ('low', (SELECT any(value) FROM cf_p WHERE name = 'scan_low_ports') <
                                                 (SELECT any(value) FROM cf_p WHERE name = 'scan_ports'))]) AS tier
    UNION ALL
    SELECT 'sweep', scanner, wall_ns, 1, cityHash64(host, target) FROM cf_probe
    UNION ALL
    SELECT 'outbound', concat(host, ' ', toString(pid)), wall_ns, assumeNotNull(outcome) != 'established',
           cityHash64(daddr, dport)
    FROM cf_connect WHERE isNotNull(outcome)
    UNION ALL
    SELECT concat('bruteforce ', basis), concat(host, ' ', basis, ' ', toString(lport), ' ', raddr),
           wall_ns, basis = 'connections' OR outcome = 'failed', rowNumberInAllBlocks()
    FROM cf_login_attempt);

-- Each rule: its window and threshold.
DROP TABLE IF EXISTS cf_rule;
CREATE TABLE cf_rule ENGINE = Memory AS
WITH (SELECT (groupArray(name), groupArray(value)) FROM cf_p) AS p
SELECT tupleElement(r, 1) AS rule,
       toInt64(tupleElement(p, 2)[indexOf(tupleElement(p, 1), tupleElement(r, 2))] * 1e9) AS window_ns,
       tupleElement(p, 2)[indexOf(tupleElement(p, 1), tupleElement(r, 3))] AS threshold
FROM (SELECT arrayJoin([('portscan high', 'scan_window_s', 'scan_ports'),
                        ('portscan low', 'scan_low_window_s', 'scan_low_ports'),
                        ('sweep', 'sweep_window_s', 'sweep_hosts'),
                        ('outbound', 'outbound_window_s', 'outbound_destinations'),
                        ('bruteforce connections', 'bruteforce_window_s', 'bruteforce_connections'),
                        ('bruteforce logins', 'failures_window_s', 'failures')]) AS r);

-- The episodes whose busiest window reaches the threshold, in time linear
-- but for sorting.  The window [t, t + window] holds an item when one of its
-- events lies in it, that is when t lies in [event - window, event]; an item's
-- events closer than a window merge those spans into one.  The items a window
-- holds are then the spans open at its start: a running sum over the spans'
-- starts (+1) and ends (-1), sorted with the events (each a window's start)
-- so that a span that starts or ends at an event's time holds it.  An episode
-- starts where the gap to the previous event exceeds the window.  (18.16: a
-- lambda names no alias of its own SELECT, which it would recompute.)
DROP TABLE IF EXISTS cf_episode;
CREATE TABLE cf_episode ENGINE = Memory AS
SELECT rule, key, min(t) AS first_ns, max(t) AS last_ns, max(held) AS busiest
FROM (
    SELECT rule, key, threshold, window_ns,
           arrayMap(m -> tupleElement(m, 1), arrayFilter(m -> tupleElement(m, 2) = 1, marks)) AS starts,
           arrayFilter((h, m) -> tupleElement(m, 2) = 1,
                       arrayCumSum(arrayMap(m -> tupleElement(m, 3), marks)), marks) AS helds,
           arrayCumSum(arrayMap((d, i) -> toUInt32(i = 1 OR d > window_ns),
                                arrayDifference(starts), arrayEnumerate(starts))) AS episodes
    FROM (
        SELECT rule, key, arraySort(groupArray(mark)) AS marks
        FROM (
            SELECT rule, key, (wall_ns, 1, toInt64(0)) AS mark FROM cf_rule_event
            UNION ALL
            SELECT rule, key, arrayJoin(spans) AS mark
            FROM (
                SELECT rule, key, arraySort(groupArray(wall_ns)) AS times,
                       arrayPushFront(arrayPopFront(arrayDifference(times)), window_ns + 1) AS gaps_before,
                       arrayPushBack(arrayPopFront(arrayDifference(times)), window_ns + 1) AS gaps_after,
                       arrayConcat(arrayMap(t -> (t - window_ns, 0, toInt64(1)),
                                            arrayFilter((t, g) -> g > window_ns, times, gaps_before)),
                                   arrayMap(t -> (t, 2, toInt64(-1)),
                                            arrayFilter((t, g) -> g > window_ns, times, gaps_after))) AS spans
                FROM cf_rule_event ANY INNER JOIN cf_rule USING (rule)
                WHERE counted = 1
                GROUP BY rule, key, item, window_ns))
        GROUP BY rule, key)
    ANY INNER JOIN cf_rule USING (rule))
ARRAY JOIN starts AS t, episodes AS episode, helds AS held
-- (window_ns named: 18.16 drops a subquery's column that only a lambda names)
GROUP BY rule, key, threshold, window_ns, episode
HAVING busiest >= threshold;

-- Inbound port scans: a scan of low confidence only where no scan of the same
-- scanner and target overlaps it.  Its events, the accepts from the scanner to
-- the target in its span, and its open ports: accepted, answered by a
-- listener, or whose SYN-ACK the scanner's kernel reset (a probe the other
-- way, within a window of the scan).  (18.16: one JOIN per SELECT.)
SELECT 'portscan' AS detection, confidence, host, scanner, target, ports, probes,
       first_ns, last_ns, if(last_ns = first_ns, NULL, round(probes * 1e9 / (last_ns - first_ns), 3)) AS rate,
       sample_ports, accepts,
       arrayStringConcat(arrayMap(p -> toString(p),
           arraySort(arrayDistinct(arrayConcat(accepted, listening,
               arrayFilter((p, t) -> t >= first_ns - (SELECT window_ns FROM cf_rule WHERE rule = 'portscan high')
                                     AND t <= last_ns + (SELECT window_ns FROM cf_rule WHERE rule = 'portscan high'),
                           reset_ports, reset_ts))))), ',') AS open_ports
FROM (
    SELECT *
    FROM (
        SELECT *, arrayCount(t -> t >= first_ns AND t <= last_ns, accept_ts) AS accepts,
               arrayFilter((p, t) -> t >= first_ns AND t <= last_ns, accept_ports, accept_ts) AS accepted
        FROM (
            SELECT splitByChar(' ', rule)[2] AS confidence, first_ns, last_ns, host, scanner, target,
                   uniqExact(port) AS ports, count() AS probes,
                   arrayStringConcat(arrayMap(p -> toString(p),
                       arraySlice(arraySort(groupUniqArray(port)), 1, 10)), ',') AS sample_ports,
                   groupUniqArrayIf(port, listening) AS listening
            FROM (SELECT *, concat(host, ' ', scanner, ' ', target) AS key FROM cf_probe)
            ALL INNER JOIN (
                SELECT rule, key, first_ns, last_ns
                FROM cf_episode
                ANY LEFT JOIN (SELECT key, groupArray(first_ns) AS high_first, groupArray(last_ns) AS high_last
                               FROM cf_episode WHERE rule = 'portscan high' GROUP BY key) USING (key)
                WHERE rule = 'portscan high'
                   OR (rule = 'portscan low'
                       AND NOT arrayExists((f, l) -> f <= last_ns AND first_ns <= l, high_first, high_last)))
            USING (key)
            WHERE wall_ns >= first_ns AND wall_ns <= last_ns
            GROUP BY rule, first_ns, last_ns, host, scanner, target)
        ANY LEFT JOIN (SELECT host, raddr AS scanner, laddr AS target, groupArray(wall_ns) AS accept_ts,
                              groupArray(lport) AS accept_ports
                       FROM cf_accept GROUP BY host, scanner, target)
        USING (host, scanner, target))
    ANY LEFT JOIN (SELECT host, reset_from AS scanner, reset_to AS target, reset_ts, reset_ports
                   FROM (SELECT host, target AS reset_from, scanner AS reset_to,
                                groupArray(wall_ns) AS reset_ts, groupArray(remote_port) AS reset_ports
                         FROM cf_probe WHERE NOT listening GROUP BY host, reset_from, reset_to))
    USING (host, scanner, target))
ORDER BY first_ns, scanner, target
FORMAT CSVWithNames;

-- Inbound sweeps: a target is a (host, address) pair; the accepts from the
-- scanner on any host in the sweep's span.
SELECT 'sweep' AS detection, scanner, targets, hosts, sample_addresses, ports, probes,
       first_ns, last_ns, if(last_ns = first_ns, NULL, round(probes * 1e9 / (last_ns - first_ns), 3)) AS rate,
       sample_ports, arrayCount(t -> t >= first_ns AND t <= last_ns, accept_ts) AS accepts
FROM (
    SELECT scanner, first_ns, last_ns, uniqExact(host, target) AS targets, uniqExact(host) AS hosts,
           arrayStringConcat(arraySlice(arraySort(groupUniqArray(target)), 1, 10), ',') AS sample_addresses,
           uniqExact(port) AS ports, count() AS probes,
           arrayStringConcat(arrayMap(p -> toString(p),
               arraySlice(arraySort(groupUniqArray(port)), 1, 10)), ',') AS sample_ports
    FROM (SELECT *, scanner AS key FROM cf_probe)
    ALL INNER JOIN (SELECT key, first_ns, last_ns FROM cf_episode WHERE rule = 'sweep') USING (key)
    WHERE wall_ns >= first_ns AND wall_ns <= last_ns
    GROUP BY scanner, first_ns, last_ns)
ANY LEFT JOIN (SELECT raddr AS scanner, groupArray(wall_ns) AS accept_ts FROM cf_accept GROUP BY scanner)
USING (scanner)
ORDER BY first_ns, scanner
FORMAT CSVWithNames;

-- Outbound scanning: the episodes whose failures are at least the share of
-- their connects.
SELECT 'outbound' AS detection, host, pid, comm, sample_addresses, hosts, ports, destinations,
       connects, failed, refused, timeouts, first_ns, last_ns,
       if(last_ns = first_ns, NULL, round(connects * 1e9 / (last_ns - first_ns), 3)) AS rate, sample_ports
FROM (
    SELECT host, pid, first_ns, last_ns,
           arrayStringConcat(arraySort(groupUniqArray(comm)), ',') AS comm,
           arrayStringConcat(arraySlice(arraySort(groupUniqArray(daddr)), 1, 10), ',') AS sample_addresses,
           uniqExact(daddr) AS hosts,
           uniqExactIf(dport, outcome != 'established') AS ports,
           uniqExactIf(daddr, dport, outcome != 'established') AS destinations,
           count() AS connects, countIf(outcome != 'established') AS failed,
           countIf(outcome = 'refused') AS refused, countIf(outcome = 'timeout') AS timeouts,
           arrayStringConcat(arrayMap(p -> toString(p),
               arraySlice(arraySort(groupUniqArrayIf(dport, outcome != 'established')), 1, 10)), ',') AS sample_ports
    FROM (SELECT *, concat(host, ' ', toString(pid)) AS key FROM cf_connect WHERE isNotNull(outcome))
    ALL INNER JOIN (SELECT key, first_ns, last_ns FROM cf_episode WHERE rule = 'outbound') USING (key)
    WHERE wall_ns >= first_ns AND wall_ns <= last_ns
    GROUP BY host, pid, first_ns, last_ns)
WHERE failed >= connects * (SELECT any(value) FROM cf_p WHERE name = 'outbound_failed_share')
ORDER BY first_ns, pid
FORMAT CSVWithNames;

-- Brute force: each episode's connections (and for logins, the failed and
-- those let in), its local addresses, its accepting processes in the order
-- they came, the times of its counted events, and its logins that report
-- logins told (failed or let in), in time order, for the guessed passwords.
DROP TABLE IF EXISTS cf_bruteforce;
CREATE TABLE cf_bruteforce ENGINE = Memory AS
SELECT host, raddr AS remote, lport AS port, basis, first_ns, last_ns,
       arrayStringConcat(arraySort(groupUniqArray(laddr)), ',') AS local,
       arrayMap(x -> tupleElement(x, 2),
                arraySort(groupArray((wall_ns, concat(comm, '/', toString(pid)))))) AS processes,
       arrayStringConcat(arraySlice(arrayFilter((x, u) -> u = 1, processes,
                                                arrayEnumerateUniq(processes)), 1, 4), ',') AS process,
       count() AS connections, countIf(outcome = 'failed') AS failed,
       countIf(outcome = 'succeeded') AS succeeded,
       arraySort(groupArrayIf(wall_ns, basis = 'connections' OR outcome = 'failed')) AS times,
       arraySort(groupArrayIf((wall_ns, outcome = 'succeeded', uid, session_pid),
                              outcome IN ('failed', 'succeeded'))) AS told
FROM (SELECT *, concat(host, ' ', basis, ' ', toString(lport), ' ', raddr) AS key FROM cf_login_attempt)
ALL INNER JOIN (SELECT key, first_ns, last_ns FROM cf_episode WHERE rule LIKE 'bruteforce %') USING (key)
WHERE wall_ns >= first_ns AND wall_ns <= last_ns
GROUP BY host, raddr, lport, basis, first_ns, last_ns;

-- The brute force findings, with the quartiles of the intervals between the
-- counted events (quantile q of the sorted x[0..n-1] is x[floor(q(n-1))]; the
-- mean is their span over n; none for one event).
SELECT host, 'bruteforce' AS kind, remote, local, port, process, connections,
       if(basis = 'logins', toString(failed), '') AS failed,
       if(basis = 'logins', toString(succeeded), '') AS succeeded,
       first_ns, last_ns, if(last_ns = first_ns, NULL, round(connections * 1e9 / (last_ns - first_ns), 3)) AS rate,
       if(n = 0, NULL, gaps[intDiv(n - 1, 2) + 1]) AS median_ns,
       if(n = 0, NULL, gaps[intDiv(3 * (n - 1), 4) + 1] - gaps[intDiv(n - 1, 4) + 1]) AS iqr_ns,
       if(n = 0, NULL, gaps[intDiv(n - 1, 4) + 1]) AS q1_ns,
       if(n = 0, NULL, gaps[intDiv(3 * (n - 1), 4) + 1]) AS q3_ns,
       if(n = 0, NULL, intDiv(times[length(times)] - times[1], greatest(n, 1))) AS mean_ns, basis
FROM (SELECT *, arraySort(arrayPopFront(arrayDifference(times))) AS gaps, length(gaps) AS n FROM cf_bruteforce)
ORDER BY first_ns, remote
FORMAT CSVWithNames;

-- Guessed passwords: a login let in with at least the threshold of failed
-- logins within the window before it (at or after its time minus the window),
-- failures that no earlier guessed password of the episode used up: after one,
-- the next needs as many new failures.  Over the episode's told logins
-- 1..n: before[k], the failures before k; oldest[k], the first login within
-- the window of k.  A login let in is a candidate when before[k] -
-- before[oldest[k]] reaches the threshold, and a guessed password when besides
-- before[k] - before[i] does, i the guessed password before it (the failures
-- since i): the guessed passwords are the greedy chain of the candidates,
-- next[c] the first candidate after c with as many failures more.  18.16 has
-- no fold, so the chain from the first candidate is followed by pointer
-- doubling: after level s, jump = next^(2^s) and reached holds the chain's
-- first 2^s candidates; five levels, 32 guessed passwords in one episode, and
-- throwIf stops the query, rather than miss one, where the chain is longer.
-- Each reports the logins from max(i + 1, oldest[k]) to k, as report does.
SELECT host, 'guessed' AS kind, remote, local, port, process, k - o + 1 AS connections,
       toString(before[k] - before[o]) AS failed, '1' AS succeeded,
       tupleElement(told[k], 3) AS uid, tupleElement(told[k], 4) AS session_pid, ts[o] AS first_ns, ts[k] AS last_ns,
       if(last_ns = first_ns, NULL, round(connections * 1e9 / (last_ns - first_ns), 3)) AS rate, basis,
       window_ns, threshold
FROM (
    SELECT *, k, greatest(i + 1, oldest[k]) AS o
    FROM (SELECT *, arrayFilter((c, r) -> r, candidates, reached5) AS chain, throwIf(jump5[1] != 0) AS longer
    FROM (SELECT *, arrayMap(a -> jump4[a], jump4) AS jump5,
                 arrayMap((r, a) -> r OR arrayExists((e, j) -> e AND j = a, reached4, jump4),
                          reached4, arrayEnumerate(reached4)) AS reached5
    FROM (SELECT *, arrayMap(a -> jump3[a], jump3) AS jump4,
                 arrayMap((r, a) -> r OR arrayExists((e, j) -> e AND j = a, reached3, jump3),
                          reached3, arrayEnumerate(reached3)) AS reached4
    FROM (SELECT *, arrayMap(a -> jump2[a], jump2) AS jump3,
                 arrayMap((r, a) -> r OR arrayExists((e, j) -> e AND j = a, reached2, jump2),
                          reached2, arrayEnumerate(reached2)) AS reached3
    FROM (SELECT *, arrayMap(a -> jump1[a], jump1) AS jump2,
                 arrayMap((r, a) -> r OR arrayExists((e, j) -> e AND j = a, reached1, jump1),
                          reached1, arrayEnumerate(reached1)) AS reached2
    FROM (SELECT *, arrayMap(a -> next[a], next) AS jump1,
                 arrayMap((r, a) -> r OR arrayExists((e, j) -> e AND j = a, reached0, next),
                          reached0, arrayEnumerate(reached0)) AS reached1
    FROM (SELECT *,
                 arrayMap((c, a) -> arrayFirstIndex((d, b) -> b > a AND before[d] >= before[c] + threshold,
                                                    candidates, arrayEnumerate(candidates)),
                          candidates, arrayEnumerate(candidates)) AS next,
                 arrayMap(a -> a = 1, arrayEnumerate(candidates)) AS reached0
    FROM (SELECT *,
                 arrayFilter(n -> tupleElement(told[n], 2) AND before[n] - before[oldest[n]] >= threshold,
                             arrayEnumerate(told)) AS candidates
    FROM (SELECT *, arrayMap(x -> tupleElement(x, 1), told) AS ts,
                 arrayMap((c, x) -> c - (NOT tupleElement(x, 2)),
                          arrayCumSum(arrayMap(x -> toInt64(NOT tupleElement(x, 2)), told)), told) AS before,
                 arrayMap(t -> arrayFirstIndex(u -> u >= t - window_ns, ts), ts) AS oldest
    FROM (SELECT *, (SELECT window_ns FROM cf_rule WHERE rule = 'bruteforce logins') AS window_ns,
                 (SELECT threshold FROM cf_rule WHERE rule = 'bruteforce logins') AS threshold
          FROM cf_bruteforce WHERE basis = 'logins'))))))))))
    ARRAY JOIN chain AS k, arrayMap(n -> chain[n - 1], arrayEnumerate(chain)) AS i
    WHERE longer = 0)
ORDER BY first_ns, remote
FORMAT CSVWithNames;

-- Exfiltration: per (host, process, remote), the bytes of its connections'
-- lives each way, and of those it opened (its connects); a pair is flagged
-- when those it opened sent at least exfil_min_bytes with a
-- producer-consumer ratio (out - in) / (out + in) of at least exfil_pcr (0
-- for no bytes, as report's).  Connections of no known process are pid -1's
-- (printed empty); a pair's comm is its first close's.  Listed: the
-- exfil_top pairs that sent most (ties: the first to close first) and every
-- flagged one, most sent first, as `report exfil` lists them.
DROP TABLE IF EXISTS cf_exfil_pair;
CREATE TABLE cf_exfil_pair ENGINE = Memory AS
SELECT host, owner, remote, argMin(comm, wall_ns) AS comm, count() AS connections,
       sum(tx_bytes) AS sent, sum(rx_bytes) AS received,
       sumIf(tx_bytes, opened = 'connect') AS opened_sent, sumIf(rx_bytes, opened = 'connect') AS opened_received,
       min(wall_ns) AS first_ns, max(wall_ns) AS last_ns
FROM (SELECT host, ifNull(pid, -1) AS owner, remote, comm, wall_ns, tx_bytes, rx_bytes,
             ifNull(opened, '') AS opened FROM cf_close)
GROUP BY host, owner, remote;

SELECT host, if(owner < 0, NULL, owner) AS pid, comm, remote, connections, sent, received,
       opened_sent, opened_received,
       if(opened_sent + opened_received = 0, NULL, round(ratio, 3)) AS pcr, first_ns, last_ns,
       if(flagged, 'exfil', '') AS flag
FROM (
    SELECT *, if(opened_sent + opened_received = 0, 0,
                 (opened_sent - opened_received) / (opened_sent + opened_received)) AS ratio,
           opened_sent >= (SELECT any(value) FROM cf_p WHERE name = 'exfil_min_bytes')
           AND ratio >= (SELECT any(value) FROM cf_p WHERE name = 'exfil_pcr') AS flagged
    FROM cf_exfil_pair
    ANY INNER JOIN (
        SELECT tupleElement(pair, 3) AS host, tupleElement(pair, 4) AS owner, tupleElement(pair, 5) AS remote, rank
        FROM (SELECT arraySort(x -> (-tupleElement(x, 1), tupleElement(x, 2)),
                               groupArray((sent, first_ns, host, owner, remote))) AS ranked
              FROM cf_exfil_pair)
        ARRAY JOIN ranked AS pair, arrayEnumerate(ranked) AS rank)
    USING (host, owner, remote))
WHERE rank <= (SELECT any(value) FROM cf_p WHERE name = 'exfil_top') OR flagged
ORDER BY rank
FORMAT CSVWithNames;
