-- Detection inputs: the events of the capture in schema `main`, as the
-- detection prototypes (detection-queries.sql) read them.  See detection.md.
--
--   cat docs/detection-inputs.sql docs/detection-queries.sql | sqlite3 case42.db
--
-- Several captures (a fleet): attach each one and run this file once per
-- capture with `main.` replaced by its schema name; the rows accumulate.
--
-- Every row carries the capture's host name, so that captures of several
-- hosts can be merged, and the wall clock, comparable across hosts.
-- Addresses are made canonical: the IPv4 peer of a dual-stack (AF_INET6)
-- socket is ::ffff:a.b.c.d in accepts and connects, but a.b.c.d in the resets
-- the kernel sends; both become a.b.c.d.

CREATE TEMP TABLE IF NOT EXISTS cf_reset (
    host, wall_ns, laddr, lport, raddr, rport, state, reason);
CREATE TEMP TABLE IF NOT EXISTS cf_accept (
    host, wall_ns, pid, comm, laddr, lport, raddr, rport);
CREATE TEMP TABLE IF NOT EXISTS cf_connect (
    host, wall_ns, pid, comm, uid, saddr, lport, daddr, dport, outcome);

INSERT INTO cf_reset
SELECT c.hostname, r.wall_ns,
       CASE WHEN r.laddr LIKE '::ffff:%.%' THEN substr(r.laddr, 8) ELSE r.laddr END,
       r.lport,
       CASE WHEN r.raddr LIKE '::ffff:%.%' THEN substr(r.raddr, 8) ELSE r.raddr END,
       r.rport, r.state, r.reason
FROM main.tcpreset r, main.capture c;

INSERT INTO cf_accept
SELECT c.hostname, a.wall_ns, a.pid, a.comm,
       CASE WHEN a.laddr LIKE '::ffff:%.%' THEN substr(a.laddr, 8) ELSE a.laddr END,
       a.lport,
       CASE WHEN a.raddr LIKE '::ffff:%.%' THEN substr(a.raddr, 8) ELSE a.raddr END,
       a.rport
FROM main.tcpaccept a, main.capture c;

INSERT INTO cf_connect
SELECT c.hostname, t.wall_ns, t.pid, t.comm, t.uid,
       CASE WHEN t.saddr LIKE '::ffff:%.%' THEN substr(t.saddr, 8) ELSE t.saddr END,
       t.lport,
       CASE WHEN t.daddr LIKE '::ffff:%.%' THEN substr(t.daddr, 8) ELSE t.daddr END,
       t.dport, t.outcome
FROM main.tcpconnect t, main.capture c;
