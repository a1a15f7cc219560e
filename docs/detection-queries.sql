-- Detection prototypes: inbound port scans, inbound sweeps, outbound
-- scanning and brute force, as SQL over the inputs of detection-inputs.sql.
-- The design, the evidence and the thresholds: detection.md.  These queries
-- are the reference the `report scans` and `report bruteforce` subcommands
-- agree with (tests/attacks.test.sh); they load the capture and join every
-- event with its window: for small captures and for reading, not for speed.
--
-- Each detection is one SELECT; each prints one row per finding, in time order.
-- Times are UTC, rates per second, intervals in milliseconds.

-- Thresholds and windows.  To tune, create cf_param first with other values:
-- INSERT OR IGNORE keeps them.
CREATE TEMP TABLE IF NOT EXISTS cf_param (name TEXT PRIMARY KEY, value NUMERIC NOT NULL);
INSERT OR IGNORE INTO cf_param VALUES
    ('scan_window_s', 300),         -- Zeek Scan::port_scan_interval
    ('scan_ports', 15),             -- Zeek Scan::port_scan_threshold
    ('scan_low_window_s', 60),      -- Snort 3 port_scan low: 60 s
    ('scan_low_ports', 5),          -- Snort 3 port_scan low: 5 ports (0: off)
    ('sweep_window_s', 300),        -- Zeek Scan::addr_scan_interval
    ('sweep_hosts', 5),             -- Snort 3 port_scan tcp_sweep nets (low)
    ('outbound_window_s', 300),
    ('outbound_destinations', 15),
    ('outbound_failed_share', 0.5),
    ('bruteforce_window_s', 120),   -- ET 2001219, Wazuh 5712: 120 s
    ('bruteforce_connections', 10);

-- Login services: a local port, or an accepting process, that takes passwords.
CREATE TEMP TABLE IF NOT EXISTS cf_login_port (port INTEGER PRIMARY KEY);
INSERT OR IGNORE INTO cf_login_port VALUES
    (21), (22), (23), (25), (110), (139), (143), (389), (445), (465), (587), (636),
    (993), (995), (1433), (1521), (3306), (3389), (5432), (5900), (5985), (5986);
CREATE TEMP TABLE IF NOT EXISTS cf_login_comm (comm TEXT PRIMARY KEY);
INSERT OR IGNORE INTO cf_login_comm VALUES ('sshd'), ('sshd-session'), ('dropbear');

CREATE TEMP VIEW cf_p AS
SELECT max(CASE name WHEN 'scan_window_s' THEN value * 1000000000 END) AS scan_window_ns,
       max(CASE name WHEN 'scan_ports' THEN value END) AS scan_ports,
       max(CASE name WHEN 'scan_low_window_s' THEN value * 1000000000 END) AS scan_low_window_ns,
       max(CASE name WHEN 'scan_low_ports' THEN value END) AS scan_low_ports,
       max(CASE name WHEN 'sweep_window_s' THEN value * 1000000000 END) AS sweep_window_ns,
       max(CASE name WHEN 'sweep_hosts' THEN value END) AS sweep_hosts,
       max(CASE name WHEN 'outbound_window_s' THEN value * 1000000000 END) AS outbound_window_ns,
       max(CASE name WHEN 'outbound_destinations' THEN value END) AS outbound_destinations,
       max(CASE name WHEN 'outbound_failed_share' THEN value END) AS outbound_failed_share,
       max(CASE name WHEN 'bruteforce_window_s' THEN value * 1000000000 END) AS bruteforce_window_ns,
       max(CASE name WHEN 'bruteforce_connections' THEN value END) AS bruteforce_connections
FROM cf_param;

CREATE INDEX IF NOT EXISTS cf_connect_local ON cf_connect (saddr, lport);

-- A probe: a segment the kernel answered with a RST, either with no socket
-- (a closed port), or from a listening socket (a segment without SYN, such as
-- an ACK probe, to an open port), and which is not about a connection this
-- host opened (a late segment of one of our own connections also meets "no
-- socket").
CREATE TEMP VIEW cf_probe AS
SELECT r.host, r.wall_ns, r.raddr AS scanner, r.laddr AS target, r.lport AS port,
       r.rport AS remote_port, r.state IS NOT NULL AS listening
FROM cf_reset r
WHERE ((r.state IS NULL AND coalesce(r.reason, 'NO_SOCKET') = 'NO_SOCKET')
       OR r.state = 'LISTEN')
  AND NOT EXISTS (SELECT 1 FROM cf_connect c
                  WHERE c.saddr = r.laddr AND c.lport = r.lport AND c.host = r.host
                    AND c.daddr = r.raddr AND c.dport = r.rport);

-- Inbound port scans: one remote address probing many ports of one local
-- address.  An episode ends after a window without probes; it is a scan when
-- some window of it holds scan_ports distinct ports.  Below that, a scan of
-- low confidence when some window of scan_low_window_s holds scan_low_ports,
-- unless it lies within a scan of the same scanner and target.  The open
-- ports it reached: accepted, or answered by a listening socket.
WITH tier AS (
    SELECT 'high' AS confidence, scan_window_ns AS window_ns, scan_ports AS min_ports FROM cf_p
    UNION ALL
    SELECT 'low', scan_low_window_ns, scan_low_ports FROM cf_p
    WHERE scan_low_ports > 0 AND scan_low_ports < scan_ports
), probe AS MATERIALIZED (
    SELECT *, sum(gap IS NULL OR gap > window_ns)
                  OVER (PARTITION BY confidence, host, scanner, target ORDER BY wall_ns
                        ROWS UNBOUNDED PRECEDING) AS episode
    FROM (SELECT *, wall_ns - lag(wall_ns) OVER (PARTITION BY confidence, host, scanner, target
                                                 ORDER BY wall_ns) AS gap
          FROM cf_probe CROSS JOIN tier)
), peak AS (
    SELECT confidence, host, scanner, target, episode, max(ports) AS peak
    FROM (SELECT a.confidence, a.host, a.scanner, a.target, a.episode,
                 count(DISTINCT b.port) AS ports
          FROM probe a JOIN probe b USING (confidence, host, scanner, target, episode)
          WHERE b.wall_ns BETWEEN a.wall_ns AND a.wall_ns + a.window_ns
          GROUP BY a.confidence, a.host, a.scanner, a.target, a.episode, a.wall_ns)
    GROUP BY confidence, host, scanner, target, episode
), tiered AS (
    SELECT p.confidence, p.host, p.scanner, p.target, p.episode,
           count(DISTINCT p.port) AS ports, count(*) AS probes,
           min(p.wall_ns) AS first_ns, max(p.wall_ns) AS last_ns
    FROM probe p JOIN peak k USING (confidence, host, scanner, target, episode)
    WHERE k.peak >= p.min_ports
    GROUP BY p.confidence, p.host, p.scanner, p.target, p.episode
), scan AS (
    SELECT * FROM tiered l
    WHERE confidence = 'high'
       OR NOT EXISTS (SELECT 1 FROM tiered h
                      WHERE h.confidence = 'high' AND (h.host, h.scanner, h.target)
                            = (l.host, l.scanner, l.target)
                        AND h.first_ns <= l.last_ns AND l.first_ns <= h.last_ns)
)
SELECT 'portscan' AS detection, s.host, s.scanner, s.target, s.ports, s.probes,
       strftime('%Y-%m-%dT%H:%M:%fZ', s.first_ns / 1e9, 'unixepoch') AS first_seen,
       strftime('%Y-%m-%dT%H:%M:%fZ', s.last_ns / 1e9, 'unixepoch') AS last_seen,
       round(s.probes * 1e9 / nullif(s.last_ns - s.first_ns, 0), 1) AS rate,
       (SELECT group_concat(port, ',')
        FROM (SELECT DISTINCT port FROM probe p
              WHERE (p.confidence, p.host, p.scanner, p.target, p.episode)
                    = (s.confidence, s.host, s.scanner, s.target, s.episode)
              ORDER BY port LIMIT 10)) AS sample_ports,
       (SELECT count(*) FROM cf_accept a
        WHERE a.host = s.host AND a.raddr = s.scanner AND a.laddr = s.target
          AND a.wall_ns BETWEEN s.first_ns AND s.last_ns) AS accepts,
       (SELECT group_concat(port, ',')
        FROM (SELECT lport AS port FROM cf_accept a
              WHERE a.host = s.host AND a.raddr = s.scanner AND a.laddr = s.target
                AND a.wall_ns BETWEEN s.first_ns AND s.last_ns
              UNION
              SELECT port FROM probe p
              WHERE (p.confidence, p.host, p.scanner, p.target, p.episode)
                    = (s.confidence, s.host, s.scanner, s.target, s.episode) AND p.listening
              UNION
              -- a raw SYN scanner's kernel resetting the SYN-ACKs of the open
              -- ports (when the capture holds the scanner's host too)
              SELECT q.remote_port FROM cf_probe q
              WHERE q.host = s.host AND q.target = s.scanner AND q.scanner = s.target
                AND NOT q.listening
                AND q.wall_ns BETWEEN s.first_ns - (SELECT scan_window_ns FROM cf_p)
                                  AND s.last_ns + (SELECT scan_window_ns FROM cf_p)
              ORDER BY port)) AS open_ports,
       s.confidence
FROM scan s
ORDER BY s.first_ns, s.scanner, s.target;

-- Inbound sweeps: one remote address probing closed ports on many local
-- addresses (of one capture, or of several hosts' captures together).  A
-- target is a (host, address) pair.
WITH probe AS MATERIALIZED (
    SELECT *, sum(gap IS NULL OR gap > (SELECT sweep_window_ns FROM cf_p))
                  OVER (PARTITION BY scanner ORDER BY wall_ns
                        ROWS UNBOUNDED PRECEDING) AS episode
    FROM (SELECT *, host || ' ' || target AS target_key,
                 wall_ns - lag(wall_ns) OVER (PARTITION BY scanner ORDER BY wall_ns) AS gap
          FROM cf_probe)
), peak AS (
    SELECT scanner, episode, max(targets) AS peak
    FROM (SELECT a.scanner, a.episode, count(DISTINCT b.target_key) AS targets
          FROM probe a JOIN probe b USING (scanner, episode)
          WHERE b.wall_ns BETWEEN a.wall_ns AND a.wall_ns + (SELECT sweep_window_ns FROM cf_p)
          GROUP BY a.scanner, a.episode, a.wall_ns)
    GROUP BY scanner, episode
), sweep AS (
    SELECT p.scanner, p.episode, count(DISTINCT p.target_key) AS targets,
           count(DISTINCT p.host) AS hosts, count(DISTINCT p.port) AS ports,
           count(*) AS probes, min(p.wall_ns) AS first_ns, max(p.wall_ns) AS last_ns
    FROM probe p JOIN peak k USING (scanner, episode)
    WHERE k.peak >= (SELECT sweep_hosts FROM cf_p)
    GROUP BY p.scanner, p.episode
)
SELECT 'sweep' AS detection, s.scanner, s.targets, s.hosts,
       (SELECT group_concat(target, ',')
        FROM (SELECT DISTINCT target FROM probe p
              WHERE p.scanner = s.scanner AND p.episode = s.episode
              ORDER BY target LIMIT 10)) AS sample_targets,
       s.ports, s.probes,
       strftime('%Y-%m-%dT%H:%M:%fZ', s.first_ns / 1e9, 'unixepoch') AS first_seen,
       strftime('%Y-%m-%dT%H:%M:%fZ', s.last_ns / 1e9, 'unixepoch') AS last_seen,
       round(s.probes * 1e9 / nullif(s.last_ns - s.first_ns, 0), 1) AS rate,
       (SELECT group_concat(port, ',')
        FROM (SELECT DISTINCT port FROM probe p
              WHERE p.scanner = s.scanner AND p.episode = s.episode
              ORDER BY port LIMIT 10)) AS sample_ports,
       (SELECT count(*) FROM cf_accept a
        WHERE a.raddr = s.scanner AND a.wall_ns BETWEEN s.first_ns AND s.last_ns) AS accepts
FROM sweep s
ORDER BY s.first_ns, s.scanner;

-- Outbound scanning: a local process whose connects fail on many distinct
-- destinations (address and port), and mostly fail.
WITH attempt AS MATERIALIZED (
    SELECT *, sum(gap IS NULL OR gap > (SELECT outbound_window_ns FROM cf_p))
                  OVER (PARTITION BY host, pid ORDER BY wall_ns
                        ROWS UNBOUNDED PRECEDING) AS episode
    FROM (SELECT *, outcome <> 'established' AS failed, daddr || ' ' || dport AS destination,
                 wall_ns - lag(wall_ns) OVER (PARTITION BY host, pid ORDER BY wall_ns) AS gap
          FROM cf_connect WHERE outcome IS NOT NULL)
), peak AS (
    SELECT host, pid, episode, max(destinations) AS peak
    FROM (SELECT a.host, a.pid, a.episode, count(DISTINCT b.destination) AS destinations
          FROM attempt a JOIN attempt b USING (host, pid, episode)
          WHERE a.failed AND b.failed
            AND b.wall_ns BETWEEN a.wall_ns AND a.wall_ns + (SELECT outbound_window_ns FROM cf_p)
          GROUP BY a.host, a.pid, a.episode, a.wall_ns)
    GROUP BY host, pid, episode
), scanner AS (
    SELECT a.host, a.pid, a.episode, count(*) AS attempts, sum(a.failed) AS failed,
           sum(a.outcome = 'refused') AS refused, sum(a.outcome = 'timeout') AS timeouts,
           count(DISTINCT CASE WHEN a.failed THEN a.destination END) AS destinations,
           count(DISTINCT a.daddr) AS hosts,
           count(DISTINCT CASE WHEN a.failed THEN a.dport END) AS ports,
           min(a.wall_ns) AS first_ns, max(a.wall_ns) AS last_ns
    FROM attempt a JOIN peak k USING (host, pid, episode)
    WHERE k.peak >= (SELECT outbound_destinations FROM cf_p)
    GROUP BY a.host, a.pid, a.episode
    HAVING sum(a.failed) >= count(*) * (SELECT outbound_failed_share FROM cf_p)
)
SELECT 'outbound' AS detection, s.host, s.pid,
       (SELECT group_concat(DISTINCT comm) FROM attempt a
        WHERE (a.host, a.pid, a.episode) = (s.host, s.pid, s.episode)) AS comm,
       (SELECT group_concat(daddr, ',')
        FROM (SELECT DISTINCT daddr FROM attempt a
              WHERE (a.host, a.pid, a.episode) = (s.host, s.pid, s.episode)
              ORDER BY daddr LIMIT 10)) AS sample_hosts,
       s.hosts, s.ports, s.destinations, s.attempts, s.failed, s.refused, s.timeouts,
       strftime('%Y-%m-%dT%H:%M:%fZ', s.first_ns / 1e9, 'unixepoch') AS first_seen,
       strftime('%Y-%m-%dT%H:%M:%fZ', s.last_ns / 1e9, 'unixepoch') AS last_seen,
       round(s.attempts * 1e9 / nullif(s.last_ns - s.first_ns, 0), 1) AS rate,
       (SELECT group_concat(dport, ',')
        FROM (SELECT DISTINCT dport FROM attempt a
              WHERE (a.host, a.pid, a.episode) = (s.host, s.pid, s.episode) AND a.failed
              ORDER BY dport LIMIT 10)) AS sample_ports
FROM scanner s
ORDER BY s.first_ns, s.pid;

-- Brute force: one remote address connecting again and again to the same
-- login service of a host (a login port, or an accept by a login daemon).
-- Each connection is at least one authentication attempt.
WITH login AS MATERIALIZED (
    SELECT *, sum(gap IS NULL OR gap > (SELECT bruteforce_window_ns FROM cf_p))
                  OVER (PARTITION BY host, raddr, lport ORDER BY wall_ns
                        ROWS UNBOUNDED PRECEDING) AS episode
    FROM (SELECT *, wall_ns - lag(wall_ns) OVER (PARTITION BY host, raddr, lport
                                                 ORDER BY wall_ns) AS gap
          FROM cf_accept
          WHERE lport IN (SELECT port FROM cf_login_port)
             OR comm IN (SELECT comm FROM cf_login_comm))
), peak AS (
    SELECT host, raddr, lport, episode, max(connections) AS peak
    FROM (SELECT a.host, a.raddr, a.lport, a.episode, count(*) AS connections
          FROM login a JOIN login b USING (host, raddr, lport, episode)
          WHERE b.wall_ns BETWEEN a.wall_ns AND a.wall_ns + (SELECT bruteforce_window_ns FROM cf_p)
          GROUP BY a.host, a.raddr, a.lport, a.episode, a.wall_ns, a.rport)
    GROUP BY host, raddr, lport, episode
), interval AS (
    SELECT host, raddr, lport, episode, ms,
           row_number() OVER w - 1 AS i, count(*) OVER (PARTITION BY host, raddr, lport, episode) AS n
    FROM (SELECT host, raddr, lport, episode,
                 (wall_ns - lag(wall_ns) OVER (PARTITION BY host, raddr, lport, episode
                                               ORDER BY wall_ns)) / 1e6 AS ms
          FROM login)
    WHERE ms IS NOT NULL
    WINDOW w AS (PARTITION BY host, raddr, lport, episode ORDER BY ms)
), quartiles AS (
    -- the sorted intervals x[0..n-1]; quantile q is x[floor(q * (n - 1))]
    SELECT host, raddr, lport, episode,
           max(CASE WHEN i = (n - 1) / 4 THEN ms END) AS q1,
           max(CASE WHEN i = (n - 1) / 2 THEN ms END) AS median,
           max(CASE WHEN i = 3 * (n - 1) / 4 THEN ms END) AS q3
    FROM interval GROUP BY host, raddr, lport, episode
), attack AS (
    SELECT l.host, l.raddr, l.lport, l.episode, count(*) AS connections,
           min(l.wall_ns) AS first_ns, max(l.wall_ns) AS last_ns
    FROM login l JOIN peak k USING (host, raddr, lport, episode)
    WHERE k.peak >= (SELECT bruteforce_connections FROM cf_p)
    GROUP BY l.host, l.raddr, l.lport, l.episode
)
SELECT 'bruteforce' AS detection, a.host, a.raddr AS remote,
       (SELECT group_concat(DISTINCT laddr) FROM login l
        WHERE (l.host, l.raddr, l.lport, l.episode) = (a.host, a.raddr, a.lport, a.episode)) AS laddr,
       a.lport,
       (SELECT group_concat(DISTINCT comm || '/' || pid) FROM login l
        WHERE (l.host, l.raddr, l.lport, l.episode) = (a.host, a.raddr, a.lport, a.episode)) AS process,
       a.connections,
       strftime('%Y-%m-%dT%H:%M:%fZ', a.first_ns / 1e9, 'unixepoch') AS first_seen,
       strftime('%Y-%m-%dT%H:%M:%fZ', a.last_ns / 1e9, 'unixepoch') AS last_seen,
       round(a.connections * 1e9 / nullif(a.last_ns - a.first_ns, 0), 2) AS rate,
       round(q.median) AS median_ms, round(q.q1) AS q1_ms, round(q.q3) AS q3_ms,
       round(q.q3 - q.q1) AS iqr_ms,
       -- a mean far above the median: bursts separated by pauses
       round((a.last_ns - a.first_ns) / 1e6 / (a.connections - 1)) AS mean_ms
FROM attack a JOIN quartiles q USING (host, raddr, lport, episode)
ORDER BY a.first_ns, a.raddr;
