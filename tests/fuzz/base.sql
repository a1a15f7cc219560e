-- The rows the report fuzzer starts from (after schema.sql): a small capture
-- with every kind of event and stack, written by hand so that the fuzzer's
-- inputs mean the same whatever the fixtures hold.  Columns are named, so a
-- column added to the schema with a default changes nothing here.

INSERT INTO capture (id, tool_version, hostname, kernel_release, kernel_version, machine, boot_id,
                     command_line, event_kinds, filter_pid, filter_uid, ring_buffer_bytes,
                     recorder_pid, base_ns, realtime_offset_ns, started_at_ns, last_commit_at_ns,
                     stopped_at_ns, stop_reason, clean_stop)
VALUES (1, '0.1.0', 'fuzz-host', '6.18.0', '#1 SMP', 'x86_64', '0f0e0d0c-0b0a-0908-0706-050403020100',
        'record -K -U -o c.db', 'connect,accept,reset,capable', NULL, NULL, 16777216,
        4242, 1000000000000, 1795397000000000000, 1795398000000000000, 1795398005000000000,
        1795398005000000000, 'signal SIGINT', 1);

INSERT INTO event_kind (name, enabled, recorded, lost) VALUES
    ('connect', 1, 2, 0), ('outcome', 1, 2, 0), ('accept', 1, 1, 0), ('reset', 1, 2, 1),
    ('capable', 1, 3, 0), ('process', 1, 3, 0), ('exit', 1, 1, 0), ('unaccepted', 1, 1, 0),
    ('dns', 1, 1, 0);

INSERT INTO task (id, pid, tid, start_ns, ppid, uid, comm, cgroup, mntns) VALUES
    (1, 100, 100, 10000000, 1, 0, 'sshd', 1, 4026531832),
    (2, 200, 201, 4990000000, 100, 1000, 'curl', 7, 4026531832),
    (3, 300, 300, 5290000000, 1, 65534, 'a.out', 1, 4026532000);

INSERT INTO process (t, seq, how, pid, start_ns, ppid, uid, comm, exe, exe_deleted,
                     exe_world_writable, exe_truncated, filename, args, args_truncated,
                     cgroup, mntns) VALUES
    (0, 9, 'running', 100, 10000000, 1, 0, 'sshd', '/usr/sbin/sshd', 0, 0, 0, NULL,
     '/usr/sbin/sshd -D', 0, 1, 4026531832),
    (4990000000, 10, 'exec', 200, 4990000000, 100, 1000, 'curl', '/usr/bin/curl', 0, 0, 0,
     '/usr/bin/curl', 'curl http://10.0.0.2/', 0, 7, 4026531832),
    (5290000000, 11, 'exec', 300, 5290000000, 1, 65534, 'a.out', '/tmp/x/a.out', 1, 1, 0,
     './a.out', './a.out', 0, 1, 4026532000);

INSERT INTO ev_exit (t, seq, task, exit_code, exe_deleted) VALUES
    (5400000000, 12, 3, 256, 1);

INSERT INTO ev_unaccepted (t, seq, established_t, laddr, lport, raddr, rport, closed_from,
                           error) VALUES
    (5150000000, 13, 5140000000, 2, 22, 4, 51002, 1, 104);

INSERT INTO dns (t, seq, name, address, ttl) VALUES
    (4995000000, 14, 'example.test', 2, 300);

INSERT INTO address (id, ip, addr) VALUES
    (1, 4, '127.0.0.1'), (2, 4, '10.0.0.2'), (3, 6, '::1'), (4, 6, 'fd00::2');

INSERT INTO ev_connect (t, seq, task, saddr, lport, daddr, dport, outcome_state, error, latency_ns) VALUES
    (5000000000, 1, 2, 1, 40000, 2, 80, 1, 0, 120000),
    (5100000000, 3, 2, 3, NULL, 4, 443, 7, 111, 50000);

INSERT INTO ev_accept (t, seq, task, laddr, lport, raddr, rport) VALUES
    (5000200000, 2, 1, 2, 80, 1, 40000);

INSERT INTO ev_reset (t, seq, task, laddr, lport, raddr, rport, state, reason) VALUES
    (5100100000, 4, NULL, 4, 443, 3, 51000, NULL, 2),
    (5200000000, 5, 2, 1, 40000, 2, 80, 1, NULL);

INSERT INTO ev_capable (t, seq, task, cap, ret, userns_level, audit) VALUES
    (5300000000, 6, 3, 7, -1, 0, 1),
    (5300000100, 7, 3, 21, 0, 1, 0),
    (5300000200, 8, NULL, 12, 0, 0, NULL);

INSERT INTO reset_reason (reason, name) VALUES (2, 'NO_SOCKET');

INSERT INTO module (id, name, build_id, deleted) VALUES
    (1, 'kernel', NULL, 0),
    (2, '/tmp/x/a.out', 'd8843fbada658197d09c0e988ad1f9439105177d', 1),
    (3, '/usr/lib/x86_64-linux-gnu/libc.so.6', '93ac61ec5a8eb1396f9fbd350e3169a558528a40', 0);

INSERT INTO stack (id, user, frames) VALUES (1, 0, 3), (2, 1, 4), (3, 0, 1);

INSERT INTO stack_frame (stack, depth, ip, module, offset, symbol, symbol_offset) VALUES
    (1, 0, -2119447309, 1, -2119447309, 'cap_capable', 131),
    (1, 1, -2127103603, 1, -2127103603, 'ns_capable_setid', 45),
    (1, 2, -2130706128, NULL, NULL, NULL, NULL),
    (2, 0, 94000000000000, 2, 4399, 'casefile_inner', 47),
    (2, 1, 94000000000100, 2, 4499, 'casefile_middle', 9),
    (2, 2, 140000000000000, 3, 160330, NULL, NULL),
    (2, 3, 140700000000000, NULL, NULL, NULL, NULL),
    (3, 0, -2119000000, 1, -2119000000, 'tcp_send_active_reset', 352);

INSERT INTO event_stack (seq, kstack, ustack) VALUES
    (1, 3, 2), (5, 3, NULL), (6, 1, 2), (7, 1, NULL);
