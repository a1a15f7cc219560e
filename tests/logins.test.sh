# logins: login sessions, brute force counted in failed logins and guessed
# passwords, on real logins recorded by fixtures/record-attacks with their
# ground truth, sshd's own log (fixtures/NAME.truth: one line per connection,
# "REMOTE PORT OUTCOME GUESSES UID"); process trees (proc --depth, --ppid).
# What the captures hold: fixtures/ATTACKS.md.  No root.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

logins=(logins-hydra logins-slow logins-guessed logins-benign)
load_fixtures "${logins[@]}" bruteforce-ssh

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

# the ground truth of fixture NAME: fixtures/NAME.truth
truth_of() { echo "fixtures/$1.truth"; }

# --- Every session's outcome and user, as sshd logged them --------------------------------
for name in "${logins[@]}"; do
	check_eq "$name: every connection's outcome and user, as sshd logged them" \
		"$(awk '{ print $1, $2, $3, ($5 == "-" ? "" : $5) }' "$(truth_of "$name")" | sort)" \
		"$(query "SELECT remote, rport, outcome, uid FROM r" logins "$name.db" | tr '|' ' ' | sort)"
	check_eq "$name: one session per accept of sshd" \
		"$(sql "$SCRATCH/$name.db" "SELECT count(*) FROM tcpaccept WHERE comm = 'sshd'")" \
		"$(query "SELECT count(*) FROM r" logins "$name.db")"
done
check_eq "logins-benign: what the sessions ran (the commands and login shells sent)" \
	"'-bash|2
bash -c 'uname -r'|5
bash -c id|3" \
	"$(query "SELECT ran, count(*) FROM r WHERE outcome = 'succeeded' GROUP BY ran ORDER BY ran" logins logins-benign.db)"
# column TITLE [OUTCOME]: that column of the table in $SCRATCH/out (of the sessions with that outcome)
column() {
	awk -v title="$1" -v outcome="${2:-}" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == title) c = i; if ($i == "OUTCOME") o = i } }
		NR > 1 && (outcome == "" || $o == outcome) { print $c }' "$SCRATCH/out"
}
# Users by name from the capture's own accounts (logins-benign has them), by uid where none names it.
benign_uid=$(awk '$3 == "succeeded" { print $5; exit }' "$(truth_of logins-benign)")
benign_user=$(q logins-benign "SELECT name FROM account WHERE kind = 'user' AND id = $benign_uid")
check_eq "logins-benign: each user let in named as the capture names its uid, the uid kept" \
	"$(awk '$3 == "succeeded" { n++ } END { print n }' "$(truth_of logins-benign)")|$benign_uid|$benign_user" \
	"$(query "SELECT count(*), uid, user FROM r WHERE outcome = 'succeeded' GROUP BY uid, user" logins logins-benign.db)"
check_eq "logins-benign: the table's USER, the name (- for the failed login)" \
	"$(awk '{ print ($5 == "-" ? "-" : "'"$benign_user"'") }' "$(truth_of logins-benign)" | sort | uniq -c)" \
	"$(run_report logins logins-benign.db; column USER | sort | uniq -c)"
check_eq "logins-guessed (no accounts in the capture): the uid in the table, no name in CSV" \
	"$(awk '$3 == "succeeded" { print $5 }' "$(truth_of logins-guessed)")|" \
	"$(run_report logins logins-guessed.db; column USER succeeded)|$(query "SELECT user FROM r WHERE outcome = 'succeeded'" logins logins-guessed.db)"
check_eq "timeline: each login let in, its user named and the uid kept (JSON, CSV)" \
	"$(query "SELECT count(*), uid, user FROM r WHERE outcome = 'succeeded' GROUP BY uid, user" logins logins-benign.db)" \
	"$(query "SELECT count(*), login_uid, login_user FROM r WHERE login = 'succeeded' GROUP BY 2, 3" timeline logins-benign.db)"
check_eq "timeline: the table says so, by name" \
	"$(awk '$3 == "succeeded" { n++ } END { print n }' "$(truth_of logins-benign)")" \
	"$(run_report timeline logins-benign.db; grep -c " login succeeded $benign_user (uid $benign_uid), session [0-9]*$" "$SCRATCH/out")"
check_eq "timeline (no accounts in the capture): uid N in the table, no name in CSV" \
	"$(awk '$3 == "succeeded" { print "login succeeded uid " $5 }' "$(truth_of logins-guessed)")|" \
	"$(run_report timeline logins-guessed.db; grep -o 'login succeeded uid [0-9]*' "$SCRATCH/out")|$(query "SELECT login_user FROM r WHERE login = 'succeeded'" timeline logins-guessed.db)"
# The lineage's texts are valid until the next image is looked up, and a
# login's lookups look up the session's: they must come first.
for name in "${logins[@]}"; do
	check_eq "$name: timeline -l: each accept of sshd names sshd's executable, after its login" \
		"$(sql "$SCRATCH/$name.db" "SELECT count(*) FROM tcpaccept WHERE comm = 'sshd'")|0" \
		"$(query "SELECT count(*) FILTER (WHERE exe = '/usr/sbin/sshd'), count(*) FILTER (WHERE exe NOT GLOB '/*') FROM r WHERE event = 'accept' AND login != ''" timeline -l "$name.db")"
done
check_eq "logins: a capture without process lives tells no outcome, and says why" \
	"unknown|no process lives in the capture|50" \
	"$(query "SELECT outcome, why, count(*) FROM r GROUP BY 1, 2" logins bruteforce-ssh.db)"
check_eq "logins: every session names the command that shows its processes" 0 \
	"$(query "SELECT count(*) FROM r WHERE evidence NOT LIKE 'report proc ' || pid || '@' || start_ns || ' %.db'" logins "${logins[@]/%/.db}")"

# --- bruteforce counts failed logins -------------------------------------------------------
bf="kind, remote, port, basis, connections, failed, succeeded"
failed_of() { awk '$3 == "failed" { n++ } END { print n + 0 }' "$(truth_of "$1")"; }
check_eq "logins-hydra: one brute force of failed logins, as many as sshd logged" \
	"bruteforce|10.200.0.66|22|logins|$(wc -l < fixtures/logins-hydra.truth)|$(failed_of logins-hydra)|0" \
	"$(query "SELECT $bf FROM r" bruteforce logins-hydra.db)"
check_eq "logins-hydra: more guesses than connections (several a connection)" 1 \
	"$(awk '{ g += $4 } END { print (g > NR) }' "$(truth_of logins-hydra)")"
check_eq "logins-slow: found, its failed logins as sshd logged them" \
	"bruteforce|10.200.0.66|22|logins|$(failed_of logins-slow)|0" \
	"$(query "SELECT kind, remote, port, basis, failed, succeeded FROM r" bruteforce logins-slow.db)"
check_eq "logins-slow: ... which never made 10 connections within 120 s (the connection rule's)" 0 \
	"$(sql "$SCRATCH/logins-slow.db" "SELECT count(*) FROM tcpaccept a WHERE comm = 'sshd' AND (SELECT count(*) FROM tcpaccept b WHERE b.comm = 'sshd' AND b.ts_ns BETWEEN a.ts_ns AND a.ts_ns + 120e9) >= 10")"
guessed_uid=$(awk '$3 == "succeeded" { print $5 }' "$(truth_of logins-guessed)")
# the failures sshd logged before it let the guess in
guessed_after=$(awk '$3 == "succeeded" { print n + 0; exit } $3 == "failed" { n++ }' "$(truth_of logins-guessed)")
guessed_session=$(query "SELECT pid FROM r WHERE outcome = 'succeeded'" logins logins-guessed.db)
check_eq "logins-guessed: the brute force, its failures and the login let in" \
	"bruteforce|10.200.0.66|22|logins|$(wc -l < fixtures/logins-guessed.truth)|$(failed_of logins-guessed)|1" \
	"$(query "SELECT $bf FROM r WHERE kind = 'bruteforce'" bruteforce logins-guessed.db)"
check_eq "logins-guessed: a guessed password, the user and session sshd let in" \
	"guessed|10.200.0.66|22|$guessed_uid|$guessed_session|$guessed_after|report proc $guessed_session@%" \
	"$(query "SELECT kind, remote, port, uid, session_pid, failed, substr(evidence, 1, length('report proc $guessed_session@')) || '%' FROM r WHERE kind = 'guessed'" bruteforce logins-guessed.db)"
check_eq "logins-benign: 10 logins and a typo are no brute force, no guess" "" \
	"$(query "SELECT kind FROM r" bruteforce logins-benign.db)"
check_eq "logins-benign: ... though 10 connections within 120 s (the connection rule's)" 1 \
	"$(sql "$SCRATCH/logins-benign.db" "SELECT count(*) > 0 FROM tcpaccept a WHERE comm = 'sshd' AND (SELECT count(*) FROM tcpaccept b WHERE b.comm = 'sshd' AND b.ts_ns BETWEEN a.ts_ns AND a.ts_ns + 120e9) >= 10")"
check_eq "logins-benign: its one failure is a brute force only at --failures 1" "bruteforce|1|10" \
	"$(query "SELECT kind, failed, succeeded FROM r WHERE kind = 'bruteforce'" bruteforce --failures 1 logins-benign.db)"
check_eq "bruteforce-ssh (no process lives): connections counted, as before" \
	"bruteforce|connections|50|" \
	"$(query "SELECT kind, basis, connections, failed FROM r" bruteforce bruteforce-ssh.db)"
evidence=$(query "SELECT evidence FROM r" bruteforce logins-hydra.db)
check_eq "the evidence of a brute force lists its logins" "$(failed_of logins-hydra)" \
	"$(cd "$SCRATCH" && eval "${evidence/#report/$report} --format csv" | grep -c ',failed,')"

# --- summary ------------------------------------------------------------------------------------
# With logins-benign, recorded on the same host with its accounts: the user by that name
# (the table's first line is the rule, a comment: left out for column).
check_eq "bruteforce: the guessed password's user named by the host's accounts, the uid kept" \
	"$guessed_uid|$benign_user|$benign_user" \
	"$(query "SELECT uid, user FROM r WHERE kind = 'guessed'" bruteforce logins-guessed.db logins-benign.db)|$(run_report bruteforce logins-guessed.db logins-benign.db; sed -i 1d "$SCRATCH/out"; column USER | grep -v -- '^-$')"
check_eq "bruteforce: by uid where no capture names it (no user in CSV)" "$guessed_uid|" \
	"$(run_report bruteforce logins-guessed.db; sed -i 1d "$SCRATCH/out"; column USER | grep -v -- '^-$')|$(query "SELECT user FROM r WHERE kind = 'guessed'" bruteforce logins-guessed.db)"
run_report summary logins-guessed.db
check_match "summary: the guessed password, naming the session" \
	$'\n  guessed logins +1 FOUND[^\n]*\n +10\\.200\\.0\\.66 -> 10\\.200\\.0\\.10:22: uid '"$guessed_uid let in after $guessed_after failed logins \\(report proc $guessed_session@" \
	"$(cat "$SCRATCH/out")"
check_match "summary: the brute force in failed logins" \
	$'brute force +1 FOUND[^\n]*\n +10\\.200\\.0\\.66 -> 10\\.200\\.0\\.10:22: '"$(failed_of logins-guessed) failed logins \\(1 let in\\)" \
	"$(cat "$SCRATCH/out")"
run_report summary logins-benign.db
check_eq "summary: logins-benign, none for brute force and guesses" 2 \
	"$(grep -cE '^  (guessed logins|brute force) +none \(' "$SCRATCH/out")"
check_eq "summary, CSV: the guessed password's evidence" "guessed|report proc $guessed_session" \
	"$(query "SELECT kind, substr(evidence, 1, length('report proc $guessed_session')) FROM r WHERE section = 'detection' AND count > 0 AND kind = 'guessed'" summary logins-guessed.db)"

# --- Process trees -----------------------------------------------------------------------------
L=$SCRATCH/logins-benign.db
session=$(q logins-benign "SELECT pid FROM process WHERE how = 'exec' AND args LIKE '%sshd_config -R' LIMIT 1")
# descendants by SQL: the processes whose parent chain reaches the session process
tree="WITH RECURSIVE d(pid) AS (SELECT $session UNION SELECT p.pid FROM process p JOIN d ON p.ppid = d.pid AND p.how = 'fork') SELECT count(*) FROM process WHERE pid IN (SELECT pid FROM d) AND pid != $session"
run_report proc "$session" logins-benign.db
check_eq "proc: every image of the session's descendants" "$(sql "$L" "$tree")" \
	"$(sed -n '/^descendants:/,/^events:/p' "$SCRATCH/out" | grep -cE '^ +(fork|exec|running) ')"
check_match "proc: the login session it serves, its user by the capture's name" \
	"^  accepted [-0-9]+ [0-9:.]+ UTC from 10\\.200\\.0\\.21 port [0-9]+: succeeded, $benign_user \\(uid $benign_uid\\), " \
	"$(sed -n '/^login session:/{n;p}' "$SCRATCH/out")"
check_eq "proc --depth 1: its children only" \
	"$(sql "$L" "SELECT count(*) FROM process WHERE ppid = $session AND how = 'fork'")" \
	"$(run_report proc --depth 1 "$session" logins-benign.db; sed -n '/^descendants:/,/^events:/p' "$SCRATCH/out" | grep -cE '^ +(fork|exec|running) ')"
check_eq "proc --depth 0: none" "  none" \
	"$(run_report proc --depth 0 "$session" logins-benign.db; sed -n '/^descendants:/,/^events:/p' "$SCRATCH/out" | sed -n 2p)"
refused "proc --depth beyond 32" proc --depth 33 "$session" logins-benign.db
check_eq "timeline --ppid: the events of the session process's children" \
	"$(sql "$L" "SELECT (SELECT count(*) FROM process WHERE ppid = $session AND how IN ('exec', 'fork')) + (SELECT count(*) FROM ev_exit e JOIN task k ON k.id = e.task WHERE k.ppid = $session)")" \
	"$(query "SELECT count(*) FROM r" timeline --ppid "$session" logins-benign.db)"
check_eq "tcpaccept --ppid: none by a child of the session" "" \
	"$(run_report tcpaccept --ppid "$session" logins-benign.db; tail -n +2 "$SCRATCH/out")"
refused "--ppid not a number" timeline --ppid x logins-benign.db
