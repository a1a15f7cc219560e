# report export: every event of the fixtures as OCSF, ECS and Timesketch JSON
# Lines, checked against the formats' published definitions (tests/export/:
# the required attributes and enumerations of OCSF 1.8.0 and ECS 9.4.0,
# extracted from their releases), and counted against the captures.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

fixtures="basic lineage caps scan-connect web1 lives"
# shellcheck disable=SC2086 # the names
load_fixtures $fixtures
files=$(for name in $fixtures; do printf '%s.db ' "$name"; done)
checker=$PWD/tests/export/check

# total SQL: the sum over the fixtures of a count, over those that have its table
# (the close kind is younger than most fixtures, and the lives fixture has no processes)
total() {
	local sum=0 name table
	table=${1#* from }
	table=${table%% *}
	for name in $fixtures; do
		if [ "$(sql "$SCRATCH/$name.db" "select count(*) from sqlite_master where name = '$table'")" = 1 ]; then
			sum=$((sum + $(sql "$SCRATCH/$name.db" "$1")))
		fi
	done
	echo $sum
}

# tally FILE EXPR: "key count" lines of a Python expression over each line's object d
tally() {
	python3 -c 'import collections, json, sys
counts = collections.Counter()
for line in open(sys.argv[1]):
    d = json.loads(line)
    counts[eval(sys.argv[2])] += 1
for k, n in sorted(counts.items(), key=str):
    print(k, n)' "$1" "$2"
}

count_of() { awk -v k="$2" '$0 ~ "^" k " " { print $NF; found = 1 } END { if (!found) print 0 }' <<< "$1"; }

connects=$(total "select count(*) from ev_connect")
refused=$(total "select count(*) from ev_connect where outcome_state != 1 and error = 111")
failed=$(total "select count(*) from ev_connect where outcome_state != 1 and error != 111")
accepts=$(total "select count(*) from ev_accept")
resets=$(total "select count(*) from ev_reset")
unaccepted=$(total "select count(*) from ev_unaccepted")
answers=$(total "select count(*) from dns")
checks=$(total "select count(*) from ev_capable")
launches=$(total "select count(*) from process where how in ('exec', 'fork')")
exits=$(total "select count(*) from ev_exit")
closes=$(total "select count(*) from ev_close")
network=$((connects + accepts + resets + unaccepted + closes))
events=$((network + answers + checks + launches + exits))
check "the fixtures hold every kind" test "$connects" -gt 0 -a "$refused" -gt 0 -a "$accepts" -gt 0 \
	-a "$resets" -gt 0 -a "$unaccepted" -gt 0 -a "$answers" -gt 0 -a "$checks" -gt 0 \
	-a "$launches" -gt 0 -a "$exits" -gt 0 -a "$closes" -gt 0

for format in ocsf ecs timesketch; do
	# shellcheck disable=SC2086 # the files
	run_report export -v --format $format $files
	cp "$SCRATCH/out" "$SCRATCH/$format.jsonl"
	check_eq "$format: exit status 0" 0 "$rc"
	check_eq "$format: nothing on stderr" "" "$(cat "$SCRATCH/err")"
	check_eq "$format: one line per event of every kind" "$events" "$(wc -l < "$SCRATCH/out")"
	verdict=$("$checker" $format < "$SCRATCH/out")
	check_match "$format: conforms ($(head -1 <<< "$verdict"))" "^$events lines, [0-9]+ checks, 0 errors$" "$verdict"
done

ocsf=$(tally "$SCRATCH/ocsf.jsonl" 'd["class_uid"]')
check_eq "ocsf: Network Activity (4001) for connects, accepts, resets, unaccepted, closes" "$network" "$(count_of "$ocsf" 4001)"
check_eq "ocsf: DNS Activity (4003) for answers" "$answers" "$(count_of "$ocsf" 4003)"
check_eq "ocsf: Process Activity (1007) for exec, fork, exit, capability checks" \
	"$((launches + exits + checks))" "$(count_of "$ocsf" 1007)"
activities=$(tally "$SCRATCH/ocsf.jsonl" 'd["type_uid"]')
check_eq "ocsf: refused connects are Refuse (400105)" "$refused" "$(count_of "$activities" 400105)"
check_eq "ocsf: other failed connects are Fail (400104)" "$failed" "$(count_of "$activities" 400104)"
check_eq "ocsf: closes, and handshakes closed before accept without a reset, are Close (400102)" \
	"$((closes + $(total "select count(*) from ev_unaccepted where ifnull(error, 0) = 0")))" \
	"$(count_of "$activities" 400102)"
check_eq "ocsf: a close's bytes out and in, as the captures hold them" \
	"$(total "select sum(bytes_sent) from ev_close") $(total "select sum(bytes_received) from ev_close")" \
	"$(python3 -c 'import json, sys
out = inn = 0
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["unmapped"]["event"] == "close":
        out += d["traffic"]["bytes_out"]
        inn += d["traffic"]["bytes_in"]
print(out, inn)' "$SCRATCH/ocsf.jsonl")"
check_eq "ocsf: answers are Response (400302)" "$answers" "$(count_of "$activities" 400302)"
check_eq "ocsf: exec and fork are Launch (100701)" "$launches" "$(count_of "$activities" 100701)"
check_eq "ocsf: exits are Terminate (100702)" "$exits" "$(count_of "$activities" 100702)"
check_eq "ocsf: capability checks are Other (100799)" "$checks" "$(count_of "$activities" 100799)"
denied=$(total "select count(*) from ev_capable where ret != 0")
check_eq "ocsf: denied checks fail (status_id 2)" "$((denied + refused + failed))" \
	"$(count_of "$(tally "$SCRATCH/ocsf.jsonl" 'd["status_id"]')" 2)"
hosts=$(for name in $fixtures; do sql "$SCRATCH/$name.db" "select hostname from capture"; done | sort -u)
check_eq "ocsf: the captures' hosts in device" "$hosts" \
	"$(tally "$SCRATCH/ocsf.jsonl" 'd["device"]["hostname"]' | cut -d' ' -f1)"
ecs=$(tally "$SCRATCH/ecs.jsonl" 'd["event"]["category"][0]')
check_eq "ecs: network events" "$((network + answers))" "$(count_of "$ecs" network)"
check_eq "ecs: process events" "$((launches + exits + checks))" "$(count_of "$ecs" process)"
check_eq "ecs: closes are connections that end" "$closes" \
	"$(count_of "$(tally "$SCRATCH/ecs.jsonl" '",".join(d["event"]["type"]) + ":" + d["event"]["action"]')" connection,end:close)"
check_eq "ecs: refused connects denied" "$refused" \
	"$(count_of "$(tally "$SCRATCH/ecs.jsonl" '",".join(d["event"]["type"])')" connection,denied)"
check_eq "timesketch: each kind's time named" "$exits" \
	"$(count_of "$(tally "$SCRATCH/timesketch.jsonl" 'd["timestamp_desc"].replace(" ", "_")')" Process_Exit_Time)"
check_eq "timesketch: a close's message" "$closes" \
	"$(grep -c '"message":"close: [^"]* sent [0-9]* received [0-9]*' "$SCRATCH/timesketch.jsonl")"
run_report export --format ocsf lives.db
check_eq "without -v, the checks that do not audit are left out, as the timeline does (which leaves closes to tcplife)" \
	"$(($(cd "$SCRATCH" && "$report" timeline --format json lives.db | wc -l) + $(sql "$SCRATCH/lives.db" "select count(*) from ev_close")))" \
	"$(wc -l < "$SCRATCH/out")"

# --- The checker fails on what breaks a format ------------------------------------------
# broken FORMAT NAME PYTHON ERROR: the first line of FORMAT's export changed by PYTHON
# (on d) fails the checker, saying ERROR
broken() {
	local out
	out=$(head -1 "$SCRATCH/$1.jsonl" | python3 -c 'import json, sys
d = json.loads(sys.stdin.read())
exec(sys.argv[1])
print(json.dumps(d))' "$3" | "$checker" "$1")
	local status=$?
	check "checker: $2 fails it (status $status)" test "$status" = 1
	check_match "checker: $2 is said" "$4" "$out"
}
broken ocsf "a wrong class id" 'd["class_uid"] = 4002' "class_uid 4002 is not a class"
broken ocsf "a type_uid not of the class" 'd["type_uid"] += 1' "type_uid .* is not class_uid"
broken ocsf "a missing required attribute" 'del d["metadata"]["product"]' "metadata.product \(required\) is missing"
broken ocsf "an activity outside the enumeration" 'd["activity_id"] = 42' "activity_id 42 is not among"
broken ocsf "an enumerated value of an object outside it" 'd["device"]["os"]["type_id"] = 7' "type_id 7 is not among"
broken ocsf "an attribute of the wrong type" 'd["severity_id"] = "1"' "severity_id is not an integer"
broken ocsf "an attribute no class has" 'd["src_ip"] = "10.0.0.1"' "src_ip is no attribute"
broken ecs "an event.type outside ECS's" 'd["event"]["type"] = ["opened"]' "event.type 'opened' is not among"
broken ecs "a type the category does not expect" 'd["event"]["type"] = ["connection"]' "event.type connection is not expected for event.category process"
broken ecs "a field ECS does not have" 'd["process"]["ppid"] = 1' "process.ppid is no ECS field"
broken ecs "a missing @timestamp" 'del d["@timestamp"]' "@timestamp is missing"
broken timesketch "a missing message" 'del d["message"]' "message is missing"
broken timesketch "a datetime not ISO 8601" 'd["datetime"] = "23/11/2026"' "is not ISO 8601"

# --- Logins and shells: the timeline's fields for them, in every format -----------------
load_fixtures shells logins-guessed logins-benign
run_report timeline -v --format json shells.db logins-guessed.db logins-benign.db
# sessions FILE PLACE: "fields count" of the rows with a login or a stream, PLACE their object
sessions() {
	python3 -c 'import collections, json, sys
keys = ("login", "login_uid", "login_user", "session_pid", "stdin", "stdout", "stderr", "shell")
counts = collections.Counter()
for d in map(json.loads, open(sys.argv[1])):
    o = d if sys.argv[2] in ("timeline", "timesketch") else d[sys.argv[2]]
    k = tuple(o.get(key) for key in keys)
    if any(v is not None for v in k):
        counts[k] += 1
for k, n in sorted(counts.items(), key=str):
    print(k, n)' "$1" "$2"
}
expected=$(sessions "$SCRATCH/out" timeline)
check_eq "timeline: logins succeeded and failed, network and bind shells, to export" 4 \
	"$(grep -oE "'(succeeded|failed|netshell|bindshell)'" <<< "$expected" | sort -u | wc -l)"
benign_uid=$(awk '$3 == "succeeded" { print $5; exit }' fixtures/logins-benign.truth)
# logins-guessed was recorded on the same host, without the accounts: logins-benign's name its user
check_eq "timeline: the logins let in, by the name the host's accounts give the user" \
	"$(cat fixtures/logins-benign.truth fixtures/logins-guessed.truth | awk '$3 == "succeeded" && $5 == '"$benign_uid"' { n++ } END { print n }')" \
	"$(grep -c "^('succeeded', $benign_uid, '$(q logins-benign "SELECT name FROM account WHERE kind = 'user' AND id = $benign_uid")', " <<< "$expected")"
for format in ocsf:unmapped ecs:casefile timesketch:timesketch; do
	run_report export -v --format "${format%%:*}" shells.db logins-guessed.db logins-benign.db
	verdict=$("$checker" "${format%%:*}" < "$SCRATCH/out")
	check_match "${format%%:*}: the login and shell fixtures conform" "^[0-9]+ lines, [0-9]+ checks, 0 errors$" "$verdict"
	check_eq "${format%%:*}: each login, stream and shell as the timeline has it, in ${format#*:}" \
		"$expected" "$(sessions "$SCRATCH/out" "${format#*:}")"
done

# --- Bad command lines ----------------------------------------------------------------
run_report export basic.db
check_eq "export: OCSF when no --format is given" \
	"$(cd "$SCRATCH" && "$report" export --format ocsf basic.db | md5sum)" "$(md5sum < "$SCRATCH/out")"
refused "export: only its formats" export --format json basic.db
refused "export: no --follow" export --format ocsf --follow basic.db
