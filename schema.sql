-- The Casefile capture format: the one definition.
--
-- `record` creates every capture by running this file; `report` runs it in
-- memory to learn the newest format it reads.  Events are stored raw, as the
-- kernel reported them; the views below give them the BCC tools' shape.
--
-- user_version is the format version.  report reads captures of its own
-- version and older ones, and refuses a newer one in one line.  Bump it when
-- a change would make an existing report misread a new capture: a table or
-- column removed or renamed, a value given another meaning or unit.  An
-- addition (a table, a column, a kind of event) keeps it: report reads
-- captures made before it as having none of that (it asks whether the table
-- or column is there), and an older report never asks for it.  Every change
-- so far was an addition: all captures are format 1, and report is tested on
-- one of its first shape (fixtures/first-format.sql).  The recorder's writes
-- come from bpf/kinds.def, which the build checks against this file.

PRAGMA application_id = 1128354629; -- 0x43415345, "CASE": marks a capture
PRAGMA user_version = 1;            -- the format version

-- Exactly one row: where, when and how the capture was made.
CREATE TABLE capture (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    tool_version        TEXT    NOT NULL,
    hostname            TEXT    NOT NULL,
    kernel_release      TEXT    NOT NULL,  -- uname -r
    kernel_version      TEXT    NOT NULL,  -- uname -v
    machine             TEXT    NOT NULL,  -- uname -m
    boot_id             TEXT    NOT NULL,  -- ties kernel timestamps to one boot
    command_line        TEXT    NOT NULL,  -- exactly as invoked, shell-quoted
    event_kinds         TEXT    NOT NULL,  -- what -e selected, e.g. connect,accept
    filter_pid          INTEGER,           -- -p, NULL when not given
    filter_uid          INTEGER,           -- -u, NULL when not given
    ring_buffer_bytes   INTEGER NOT NULL,
    recorder_pid        INTEGER NOT NULL,
    part                INTEGER NOT NULL DEFAULT 1, -- of a rotated recording (-C): 1, 2, ...
    -- Kernel timestamps are CLOCK_BOOTTIME nanoseconds.  Events store t, the
    -- nanoseconds since base_ns; base_ns + t + realtime_offset_ns is the wall
    -- clock (Unix ns), on any machine.
    base_ns             INTEGER NOT NULL,
    realtime_offset_ns  INTEGER NOT NULL,  -- CLOCK_REALTIME - CLOCK_BOOTTIME at start
    started_at_ns       INTEGER NOT NULL,  -- wall clock, Unix ns
    last_commit_at_ns   INTEGER NOT NULL,  -- wall clock of the newest commit
    stopped_at_ns       INTEGER,           -- wall clock; NULL unless stopped cleanly
    stop_reason         TEXT,              -- signal, duration, error: ...
    clean_stop          INTEGER NOT NULL DEFAULT 0,
    -- The recorder's own network namespace (inode number): the host's, as a
    -- rule.  A socket's event whose netns is NULL was in this one.
    netns               INTEGER
);

-- Per kind of record: whether it was recorded (asked for with -e, and
-- recordable on this kernel), rows recorded, records lost (the ring buffer
-- was full, or a connect's outcome could not be tracked: when in loss, by
-- whom in process_loss), and how this kernel let it be recorded.  Kept up to date at every commit, so an unclean stop
-- still tells.
CREATE TABLE event_kind (
    name      TEXT    PRIMARY KEY,  -- a RECORD of bpf/kinds.def: connect, outcome, accept,
                                    -- reset, capable, exec, fork, exit, dns, unaccepted,
                                    -- close
    enabled   INTEGER NOT NULL,
    recorded  INTEGER NOT NULL DEFAULT 0,
    lost      INTEGER NOT NULL DEFAULT 0,
    -- The hooks and ways used, chosen from what the kernel offered (record/
    -- mechanisms.c): 'fexit/cap_capable, AUDIT from its opts'...  NULL when
    -- not recorded, and in captures of recorders before it was kept.
    mechanism TEXT
) WITHOUT ROWID;

-- When records were lost: the recorder looks at the loss counts every 10 ms
-- (and at every commit), so a loss is known to lie between two looks, and
-- looks that keep finding losses extend one row.  Per kind, the rows' counts
-- sum to event_kind.lost at every commit.  Times are t, as the events'.
CREATE TABLE loss (
    kind     TEXT    NOT NULL,  -- event_kind.name
    first_t  INTEGER NOT NULL,  -- the last look that found none of these losses
    last_t   INTEGER NOT NULL,  -- the look that found the last of them
    count    INTEGER NOT NULL,
    PRIMARY KEY (kind, first_t)
) WITHOUT ROWID;

-- Who lost records: the process that was acting when its record found the
-- ring buffer full (counted by the BPF programs in a bounded map, written at
-- every commit).  Per kind, the rows' counts sum to event_kind.lost; the row
-- with a NULL pid holds the losses no process can be named for: outside
-- process context (softirq), a connect's outcome or a DNS answer (no
-- process's), the recorder's own (an outcome whose connect was forgotten),
-- or past the map's 1024 processes.
CREATE TABLE process_loss (
    kind      TEXT    NOT NULL,  -- event_kind.name
    pid       INTEGER,           -- with start_ns, names the process (process table)
    start_ns  INTEGER,           -- its start, rounded as process.start_ns
    comm      TEXT,              -- its name when it last lost one (the program it ran then)
    count     INTEGER NOT NULL
);

-- Runs of a BPF program the kernel skipped: it runs a program at most once
-- at a time on a CPU, so an event that comes while the program runs on that
-- CPU (a TCP state change in softirq) is not given to it, and its record is
-- missing, counted by no kind's lost.  Only programs with skipped runs have a
-- row; written at every commit, the runs since the file began.
CREATE TABLE skipped_run (
    program  TEXT    PRIMARY KEY,  -- the BPF program (bpf/), as bpftool names it
    kinds    TEXT    NOT NULL,     -- the kinds it records (record -e): 'connect,accept,close'
    runs     INTEGER NOT NULL
) WITHOUT ROWID;

-- Who: one row per distinct (thread, parent, user, name, cgroup, namespaces),
-- shared by all the events of that task: a setns() or unshare() makes a new
-- row.  The recorder's cache is bounded, so the same task may appear in more
-- than one row.
CREATE TABLE task (
    id      INTEGER PRIMARY KEY,
    pid     INTEGER NOT NULL,  -- thread group id
    tid     INTEGER NOT NULL,
    start_ns INTEGER NOT NULL, -- its process's start (see process.start_ns): names it
    ppid    INTEGER NOT NULL,
    uid     INTEGER NOT NULL,
    comm    TEXT    NOT NULL,  -- bytes as the kernel held them: not always UTF-8
    cgroup  INTEGER NOT NULL,  -- cgroup v2 id (its path: the cgroup table)
    mntns   INTEGER NOT NULL,  -- mount namespace inode number
    netns   INTEGER,           -- network namespace inode number
    nspid   INTEGER            -- pid as the process's own pid namespace numbers it
                               -- (a container's view); pid in the host's
);

-- cgroup v2 ids and the paths they had (under the cgroup2 mount, as
-- /proc/PID/cgroup shows them), read when the recorder first saw the id: an
-- id means nothing once its cgroup is gone.  One row per id in each file.
CREATE TABLE cgroup (
    id    INTEGER PRIMARY KEY,  -- task.cgroup, process.cgroup
    path  TEXT                  -- NULL: the cgroup was gone before its path was read
);

-- Addresses, in inet_ntop form, shared by all the events that name them.
CREATE TABLE address (
    id    INTEGER PRIMARY KEY,
    ip    INTEGER NOT NULL,  -- 4 or 6: the socket's family
    addr  TEXT    NOT NULL
);

-- The events.  Each table is clustered on (t, seq): t in nanoseconds since
-- capture.base_ns, seq the recorder's arrival order, unique in the capture.

-- connect() moving a socket to SYN_SENT, and how it left SYN_SENT.
CREATE TABLE ev_connect (
    t              INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    task           INTEGER NOT NULL,  -- task.id
    saddr          INTEGER NOT NULL,  -- address.id
    lport          INTEGER,           -- NULL: not chosen yet and no outcome seen
    daddr          INTEGER NOT NULL,  -- address.id
    dport          INTEGER NOT NULL,
    outcome_state  INTEGER,           -- TCP state left to (1 ESTABLISHED, 7 CLOSE); NULL: not seen
    error          INTEGER,           -- the socket's error then: 0, or an errno (111 refused...)
    latency_ns     INTEGER,           -- SYN_SENT to outcome
    PRIMARY KEY (t, seq)
) WITHOUT ROWID;

-- accept()/accept4() returning a TCP socket.
CREATE TABLE ev_accept (
    t      INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    task   INTEGER NOT NULL,
    laddr  INTEGER NOT NULL,
    lport  INTEGER NOT NULL,
    raddr  INTEGER NOT NULL,
    rport  INTEGER NOT NULL,
    PRIMARY KEY (t, seq)
) WITHOUT ROWID;

-- A connection the kernel established for a listener, closed before any
-- process accepted it: what a connect scan leaves on an open port.  Accepted
-- connections are not listed here (see ev_accept).
CREATE TABLE ev_unaccepted (
    t               INTEGER NOT NULL,  -- when it closed
    seq             INTEGER NOT NULL,
    established_t   INTEGER NOT NULL,  -- when the handshake completed, as t
    laddr           INTEGER NOT NULL,
    lport           INTEGER NOT NULL,
    raddr           INTEGER NOT NULL,
    rport           INTEGER NOT NULL,
    closed_from     INTEGER NOT NULL,  -- the TCP state it closed from (1 ESTABLISHED...)
    error           INTEGER NOT NULL,  -- the socket's error then: 104 (ECONNRESET) for a RST
    netns           INTEGER,           -- the socket's network namespace; NULL: the
                                       -- recorder's own (capture.netns)
    PRIMARY KEY (t, seq)
) WITHOUT ROWID;

-- A TCP connection closed (the socket reached CLOSE from any state but
-- LISTEN): its life, what it carried and who closed it first.
CREATE TABLE ev_close (
    t               INTEGER NOT NULL,  -- when it closed
    seq             INTEGER NOT NULL,
    task            INTEGER,           -- NULL: closed outside process context (softirq)
    laddr           INTEGER NOT NULL,
    lport           INTEGER NOT NULL,
    raddr           INTEGER NOT NULL,
    rport           INTEGER NOT NULL,
    start_t         INTEGER,           -- established (or connect began), as t; NULL: before
                                       -- the capture began
    established     INTEGER NOT NULL,  -- 1: start_t is when it was established; 0: never was
    bytes_sent      INTEGER NOT NULL,  -- acknowledged by the peer (tcp_sock.bytes_acked)
    bytes_received  INTEGER NOT NULL,  -- tcp_sock.bytes_received
    segs_in         INTEGER NOT NULL,
    segs_out        INTEGER NOT NULL,
    retransmits     INTEGER NOT NULL,  -- tcp_sock.total_retrans
    closed_from     INTEGER NOT NULL,  -- the TCP state it closed from (tcp_state)
    error           INTEGER NOT NULL,  -- the socket's error then: 104 (ECONNRESET) for a RST
    closed_by       INTEGER,           -- who closed first: 1 our FIN, 2 their FIN, 3 our RST,
                                       -- 4 their RST; NULL: no one (a connect that timed out)
    netns           INTEGER,           -- the socket's network namespace; NULL: the
                                       -- recorder's own (capture.netns)
    PRIMARY KEY (t, seq)
) WITHOUT ROWID;

-- A TCP RST the kernel sent.
CREATE TABLE ev_reset (
    t       INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    task    INTEGER,           -- NULL: sent outside process context (softirq)
    laddr   INTEGER,           -- NULL: the kernel gave no address
    lport   INTEGER NOT NULL,
    raddr   INTEGER,
    rport   INTEGER NOT NULL,
    state   INTEGER,           -- TCP state of the socket; NULL: no socket (closed port)
    reason  INTEGER,           -- reset_reason.reason; NULL: kernel before 6.10
    netns   INTEGER,           -- the socket's network namespace (no socket: the one the
                               -- segment came in); NULL: the recorder's own (capture.netns)
    PRIMARY KEY (t, seq)
) WITHOUT ROWID;

-- A capability check in cap_capable().
CREATE TABLE ev_capable (
    t             INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    task          INTEGER,           -- NULL: checked outside process context
    cap           INTEGER NOT NULL,
    ret           INTEGER NOT NULL,  -- 0 allowed, -1 (-EPERM) denied
    userns_level  INTEGER NOT NULL,  -- target user namespace depth; 0 is the initial one
    audit         INTEGER,           -- 1 audited, 0 not; NULL: could not be derived
    denies        INTEGER,           -- 1: a refusal denies what was asked; 0: it only
                                     -- holds a set within bounds (cap_capset's
                                     -- CAP_SETPCAP check); NULL: could not be derived
    PRIMARY KEY (t, seq)
) WITHOUT ROWID;

-- Processes: the image each pid ran, from its exec, from its fork (a child
-- runs its parent's image until it execs), or, for processes already running
-- when recording began, from /proc.  A process is (pid, start_ns): an event's
-- task resolves to the image its process ran at the event's time, across pid
-- reuse and repeated execs.
CREATE TABLE process (
    t               INTEGER NOT NULL,  -- exec or fork time; for running ones, when read
    seq             INTEGER NOT NULL,
    how             TEXT    NOT NULL,  -- 'exec', 'fork' or 'running'
    pid             INTEGER NOT NULL,
    start_ns        INTEGER NOT NULL,  -- process start, CLOCK_BOOTTIME, rounded down to
                                       -- /proc's 10 ms tick so that both sources agree
    ppid            INTEGER NOT NULL,
    uid             INTEGER NOT NULL,
    comm            TEXT    NOT NULL,
    exe             TEXT,              -- the executable's path; NULL for a fork
    exe_deleted     INTEGER,           -- 1: gone or replaced when looked at; NULL: unknown
    exe_world_writable INTEGER,        -- 1: in a directory anyone may write to (/tmp...)
    exe_truncated   INTEGER,           -- 1: the path's front is missing (too long or deep)
    filename        TEXT,              -- the name given to execve(): a script's, for one
    args            TEXT,              -- the command line, each argument shell-quoted when
                                       -- it needs to be, so that it splits back exactly
    args_truncated  INTEGER,           -- 1: longer than kept (512 bytes): the last is cut
    cgroup          INTEGER,
    mntns           INTEGER,
    -- An exec's standard streams (fds 0, 1, 2) as the new image got them:
    -- 'tty', 'pipe', 'file', 'device', 'unix' (socket), 'tcp', 'socket'
    -- (another family), 'other', 'closed'; NULL: not read (a fork, a running
    -- process, an older recorder)
    stdin           TEXT,
    stdout          TEXT,
    stderr          TEXT,
    -- The first of them that is a TCP socket: its four-tuple (address.id)
    tcp_laddr       INTEGER,
    tcp_lport       INTEGER,
    tcp_raddr       INTEGER,
    tcp_rport       INTEGER,
    netns           INTEGER,           -- network namespace inode number; NULL: not known
    nspid           INTEGER,           -- pid in its own pid namespace; NULL: not known (a fork)
    -- Each stream that is a pipe or FIFO: the inode its two ends share, so
    -- that a pipeline's processes can be joined; NULL: no pipe (or not read)
    stdin_pipe      INTEGER,
    stdout_pipe     INTEGER,
    stderr_pipe     INTEGER,
    -- An exec's parent's first established TCP connection (among its first
    -- 64 fds) at the exec: a shell forked by the process holding a
    -- connection (socat, pty.spawn, an implant) reads it through a pipe or
    -- a pty; NULL: none held (or not read)
    parent_tcp_laddr INTEGER,
    parent_tcp_lport INTEGER,
    parent_tcp_raddr INTEGER,
    parent_tcp_rport INTEGER,
    PRIMARY KEY (t, seq)
) WITHOUT ROWID;

-- A process (its last thread) exited.
CREATE TABLE ev_exit (
    t          INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    task       INTEGER NOT NULL,
    exit_code  INTEGER NOT NULL,  -- as wait() reports it: status << 8, or the signal
    exe_deleted INTEGER,          -- 1: its executable had been deleted by then; NULL: unknown
    PRIMARY KEY (t, seq)
) WITHOUT ROWID;

-- DNS answers seen on the host (A and AAAA, over UDP): the name asked for and
-- an address it resolved to, one row per address.
CREATE TABLE dns (
    t        INTEGER NOT NULL,  -- when the response arrived
    seq      INTEGER NOT NULL,
    name     TEXT    NOT NULL,  -- the question's name, as asked
    address  INTEGER NOT NULL,  -- address.id
    ttl      INTEGER NOT NULL,
    PRIMARY KEY (t, seq)
) WITHOUT ROWID;
CREATE INDEX dns_by_address ON dns (address, t);

-- Stacks (record -K, -U).  Each distinct stack is stored once; its frames
-- were named on the recording host, while its kernel symbols and binaries
-- were at hand, so the capture alone names them anywhere.

-- Where code lives: the kernel, a kernel module, BPF programs, or a file.
CREATE TABLE module (
    id        INTEGER PRIMARY KEY,
    name      TEXT    NOT NULL,  -- "kernel", a kernel module ("bpf", "xfs"), a path, or
                                 -- "[unseen file]": known by its build-id alone
    build_id  TEXT,              -- the file's GNU build-id in hex, when it has one
    deleted   INTEGER NOT NULL DEFAULT 0  -- the file was deleted when it was read
);

CREATE TABLE stack (
    id      INTEGER PRIMARY KEY,
    user    INTEGER NOT NULL,  -- 0 kernel, 1 user
    frames  INTEGER NOT NULL,  -- rows in stack_frame
    cut_at  INTEGER            -- user: the frame that ended the walk, being no code
                               -- (outside user space, the image's executable mappings
                               -- or its file's code): its address, or its file offset
                               -- when taken by build-id; not stored as a frame.  NULL:
                               -- the walk ended on its own
);

CREATE TABLE stack_frame (
    stack          INTEGER NOT NULL,  -- stack.id
    depth          INTEGER NOT NULL,  -- 0 where the event happened, then its callers
    ip             INTEGER NOT NULL,  -- the address captured (kernel ones read negative); a
                                      -- user frame taken by build-id: its offset in the file
    module         INTEGER,           -- module.id; NULL: no mapping held it (JIT code, exited process)
    offset         INTEGER,           -- in the module: kernel, ip; user, the ELF virtual
                                      -- address, as addr2line -e FILE takes it
    symbol         TEXT,              -- the function; NULL: none known (stripped, no symbol)
    symbol_offset  INTEGER,           -- offset from the function's start
    PRIMARY KEY (stack, depth)
) WITHOUT ROWID;

-- The stacks of the events recorded with them: seq is unique in a capture.
CREATE TABLE event_stack (
    seq     INTEGER PRIMARY KEY,
    kstack  INTEGER,  -- stack.id of the kernel stack
    ustack  INTEGER   -- stack.id of the user stack
);

-- The recording host's users and groups, names and ids only (never a
-- password field), from /etc/passwd and /etc/group when the file began: a
-- report names users from the capture, never from the machine it runs on.
CREATE TABLE account (
    kind  TEXT    NOT NULL,  -- 'user' or 'group'
    id    INTEGER NOT NULL,  -- uid or gid
    name  TEXT    NOT NULL
);

-- Names, so the capture explains itself.
CREATE TABLE cap_name (cap INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO cap_name VALUES
    (0, 'CAP_CHOWN'), (1, 'CAP_DAC_OVERRIDE'), (2, 'CAP_DAC_READ_SEARCH'),
    (3, 'CAP_FOWNER'), (4, 'CAP_FSETID'), (5, 'CAP_KILL'), (6, 'CAP_SETGID'),
    (7, 'CAP_SETUID'), (8, 'CAP_SETPCAP'), (9, 'CAP_LINUX_IMMUTABLE'),
    (10, 'CAP_NET_BIND_SERVICE'), (11, 'CAP_NET_BROADCAST'), (12, 'CAP_NET_ADMIN'),
    (13, 'CAP_NET_RAW'), (14, 'CAP_IPC_LOCK'), (15, 'CAP_IPC_OWNER'),
    (16, 'CAP_SYS_MODULE'), (17, 'CAP_SYS_RAWIO'), (18, 'CAP_SYS_CHROOT'),
    (19, 'CAP_SYS_PTRACE'), (20, 'CAP_SYS_PACCT'), (21, 'CAP_SYS_ADMIN'),
    (22, 'CAP_SYS_BOOT'), (23, 'CAP_SYS_NICE'), (24, 'CAP_SYS_RESOURCE'),
    (25, 'CAP_SYS_TIME'), (26, 'CAP_SYS_TTY_CONFIG'), (27, 'CAP_MKNOD'),
    (28, 'CAP_LEASE'), (29, 'CAP_AUDIT_WRITE'), (30, 'CAP_AUDIT_CONTROL'),
    (31, 'CAP_SETFCAP'), (32, 'CAP_MAC_OVERRIDE'), (33, 'CAP_MAC_ADMIN'),
    (34, 'CAP_SYSLOG'), (35, 'CAP_WAKE_ALARM'), (36, 'CAP_BLOCK_SUSPEND'),
    (37, 'CAP_AUDIT_READ'), (38, 'CAP_PERFMON'), (39, 'CAP_BPF'),
    (40, 'CAP_CHECKPOINT_RESTORE');

CREATE TABLE tcp_state (state INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO tcp_state VALUES
    (1, 'ESTABLISHED'), (2, 'SYN_SENT'), (3, 'SYN_RECV'), (4, 'FIN_WAIT1'),
    (5, 'FIN_WAIT2'), (6, 'TIME_WAIT'), (7, 'CLOSE'), (8, 'CLOSE_WAIT'),
    (9, 'LAST_ACK'), (10, 'LISTEN'), (11, 'CLOSING'), (12, 'NEW_SYN_RECV'),
    (13, 'BOUND_INACTIVE');

-- enum sk_rst_reason of the recording kernel, read from its BTF by record.
CREATE TABLE reset_reason (reason INTEGER PRIMARY KEY, name TEXT NOT NULL);

-- The tools' views.  ts_ns is the kernel timestamp (CLOCK_BOOTTIME), wall_ns
-- the wall clock in Unix nanoseconds; (pid, start_ns) names the process, as
-- in the process table.

CREATE VIEW tcpconnect AS
SELECT m.base_ns + e.t AS ts_ns, k.pid, k.tid, k.uid, k.comm, s.ip,
       s.addr AS saddr, e.lport, d.addr AS daddr, e.dport,
       CASE
           WHEN e.outcome_state IS NULL THEN NULL
           WHEN e.outcome_state = 1 THEN 'established'
           WHEN e.error = 111 THEN 'refused'
           WHEN e.error = 110 THEN 'timeout'
           WHEN e.error IN (101, 113) THEN 'unreachable'
           WHEN e.error = 0 THEN 'aborted'
           ELSE 'error'
       END AS outcome,
       e.error, e.latency_ns, k.ppid, k.cgroup, k.mntns,
       m.base_ns + e.t + m.realtime_offset_ns AS wall_ns, e.seq, k.start_ns
FROM ev_connect e
JOIN capture m
JOIN task k ON k.id = e.task
JOIN address s ON s.id = e.saddr
JOIN address d ON d.id = e.daddr;

CREATE VIEW tcpaccept AS
SELECT m.base_ns + e.t AS ts_ns, k.pid, k.tid, k.uid, k.comm, r.ip,
       r.addr AS raddr, e.rport, l.addr AS laddr, e.lport,
       k.ppid, k.cgroup, k.mntns,
       m.base_ns + e.t + m.realtime_offset_ns AS wall_ns, e.seq, k.start_ns
FROM ev_accept e
JOIN capture m
JOIN task k ON k.id = e.task
JOIN address l ON l.id = e.laddr
JOIN address r ON r.id = e.raddr;

CREATE VIEW tcpreset AS
SELECT m.base_ns + e.t AS ts_ns, coalesce(k.pid, 0) AS pid, coalesce(k.comm, '') AS comm,
       l.ip, l.addr AS laddr, e.lport, r.addr AS raddr, e.rport,
       s.name AS state, rr.name AS reason, k.tid, k.uid, k.ppid, k.cgroup, k.mntns,
       m.base_ns + e.t + m.realtime_offset_ns AS wall_ns, e.seq, k.start_ns
FROM ev_reset e
JOIN capture m
LEFT JOIN task k ON k.id = e.task
LEFT JOIN address l ON l.id = e.laddr
LEFT JOIN address r ON r.id = e.raddr
LEFT JOIN tcp_state s ON s.state = e.state
LEFT JOIN reset_reason rr ON rr.reason = e.reason;

-- BCC's tcplife, and more: one row per connection closed.
CREATE VIEW tcpclose AS
SELECT m.base_ns + e.t AS ts_ns, coalesce(k.pid, 0) AS pid, coalesce(k.comm, '') AS comm,
       l.ip, l.addr AS laddr, e.lport, r.addr AS raddr, e.rport,
       e.bytes_sent AS tx_bytes, e.bytes_received AS rx_bytes,
       e.t - e.start_t AS duration_ns, e.established,
       CASE e.closed_by WHEN 1 THEN 'local FIN' WHEN 2 THEN 'remote FIN'
                        WHEN 3 THEN 'local RST' WHEN 4 THEN 'remote RST' END AS closed_by,
       s.name AS closed_from, e.error, e.segs_in, e.segs_out, e.retransmits,
       k.tid, k.uid, k.ppid, k.cgroup, k.mntns,
       m.base_ns + e.t + m.realtime_offset_ns AS wall_ns, e.seq, k.start_ns
FROM ev_close e
JOIN capture m
LEFT JOIN task k ON k.id = e.task
JOIN address l ON l.id = e.laddr
JOIN address r ON r.id = e.raddr
LEFT JOIN tcp_state s ON s.state = e.closed_from;

CREATE VIEW capable AS
SELECT m.base_ns + e.t AS ts_ns, coalesce(k.pid, 0) AS pid, k.tid, k.uid,
       coalesce(k.comm, '') AS comm, e.cap, coalesce(n.name, 'CAP_' || e.cap) AS name,
       e.audit, CASE WHEN e.ret = 0 THEN 'allow' ELSE 'deny' END AS verdict,
       e.userns_level > 0 AS userns, k.ppid, k.cgroup, k.mntns,
       m.base_ns + e.t + m.realtime_offset_ns AS wall_ns, e.seq, k.start_ns
FROM ev_capable e
JOIN capture m
LEFT JOIN task k ON k.id = e.task
LEFT JOIN cap_name n ON n.cap = e.cap;
