# report: every subcommand, option, filter and format against golden output,
# over captures recorded for real (fixtures/).  No root needed.
#
# The golden files (tests/golden/NAME) were written by this script with
# UPDATE_GOLDEN=1 (tests/regen-golden) and then checked by hand against the
# fixtures (sqlite3 on the schema's views); tests/report-oracle.test.sh checks
# the same outputs against SQL independently.  Regenerate only after such a
# review.  What depends on a recording (pids, ports, times, cgroups) is asked
# of the fixture (q and the time helpers of report-lib.sh), so that
# re-recorded fixtures keep every test meaningful.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures basic lost losses unclean web1 web2 stacks lives beacons

# info
golden info info basic.db
golden info-two info web1.db web2.db
golden info-unclean info unclean.db
golden info-local info --local unclean.db
golden info-json info --format json basic.db lost.db
golden info-csv info --format csv lost.db
# when and by whom records were lost (a capture that tells)
golden info-losses info losses.db
golden info-losses-json info --format json losses.db
golden info-losses-csv info --format csv losses.db

# tcpconnect: BCC's columns and options
golden tcpconnect tcpconnect basic.db
golden tcpconnect-t tcpconnect -t basic.db
golden tcpconnect-L tcpconnect -L basic.db
golden tcpconnect-U tcpconnect -U basic.db
golden tcpconnect-tUL tcpconnect -tUL basic.db
golden tcpconnect-o tcpconnect -o basic.db
golden tcpconnect-4 tcpconnect -4 basic.db
golden tcpconnect-6 tcpconnect --ipv6 basic.db
golden tcpconnect-p tcpconnect -p "$(q basic "select pid from tcpconnect where ip = 6 and outcome = 'established' limit 1")" basic.db
golden tcpconnect-P tcpconnect -P "$(q basic "select dport from tcpconnect where ip = 4 and outcome = 'refused' union all select dport from reset_by_client where ip = 6")" basic.db
golden tcpconnect-u tcpconnect -U -u 4343 web1.db web2.db
golden tcpconnect-c tcpconnect -c basic.db
golden tcpconnect-c-fleet tcpconnect -c web1.db web2.db
golden tcpconnect-c-json tcpconnect -c --format json web1.db web2.db
golden tcpconnect-json tcpconnect --format json basic.db
golden tcpconnect-csv tcpconnect --format csv basic.db
golden tcpconnect-T-addr tcpconnect -T --addr ::1 basic.db

# tcpaccept
golden tcpaccept tcpaccept basic.db
golden tcpaccept-t tcpaccept -t basic.db
golden tcpaccept-tT tcpaccept -tT -6 basic.db
golden tcpaccept-p tcpaccept -p "$(q basic "select pid from tcpaccept where ip = 6 group by pid order by count(*) desc limit 1")" basic.db
golden tcpaccept-P tcpaccept -P "$(q basic "select dport from reset_by_client")" basic.db
golden tcpaccept-4 tcpaccept -4 basic.db
golden tcpaccept-json tcpaccept --format json basic.db
golden tcpaccept-csv tcpaccept --format csv basic.db

# tcpreset
golden tcpreset tcpreset basic.db
golden tcpreset-r tcpreset -r basic.db
golden tcpreset-json tcpreset --format json basic.db
golden tcpreset-csv tcpreset --format csv basic.db
golden tcpreset-local tcpreset --local basic.db
golden tcpreset-addr tcpreset --addr 127.0.0.1 basic.db

# tcplife: BCC's columns and options, who closed and the state
golden tcplife tcplife lives.db
golden tcplife-tTw tcplife -tTw -6 lives.db
golden tcplife-s tcplife -s lives.db
golden tcplife-json tcplife --format json lives.db
golden tcplife-p tcplife -p "$(q lives "select pid from tcpclose where closed_by = 'local RST'")" lives.db
golden tcplife-L tcplife -L "$(q lives "select lport from tcpaccept limit 1")" lives.db
golden tcplife-D tcplife -D "$(q lives "select rport from tcpclose where closed_from = 'SYN_SENT'")" lives.db
golden timeline-connections-lives timeline -c lives.db
golden exfil exfil lives.db
golden exfil-process exfil --by process lives.db
golden exfil-json exfil --format json lives.db
golden summary-lives summary lives.db
golden summary-losses summary losses.db
golden summary-losses-json summary --format json losses.db
golden beacons beacons beacons.db
golden beacons-all beacons --score 0 beacons.db
golden beacons-json beacons --format json beacons.db
golden summary-beacons summary beacons.db
golden summary-beacons-json summary --format json beacons.db

# capable
golden capable capable basic.db
golden capable-v capable -v basic.db
golden capable-x capable -x basic.db
golden capable-unique capable --unique -v basic.db
golden capable-p capable -p "$(q basic "select pid from capable where comm = 'setpriv' limit 1")" basic.db
golden capable-u capable -x -u 65534 basic.db
golden capable-json capable --format json basic.db
golden capable-csv capable -v --format csv web2.db
golden capable-local capable --local --format json -p "$(q basic "select pid from capable where comm = 'capcheck' and uid = 0 limit 1")" basic.db

# the common filters: the refused connects on, the accepts of the connects reset...
golden since-rfc3339 tcpconnect -t --since "$(rfc3339 "$(q basic "select min(wall_ns) from tcpconnect where outcome = 'refused'")")" basic.db
golden until-offset tcpconnect -t --until "$(rfc3339 "$(q basic "select min(wall_ns) - 1 from tcpconnect where outcome = 'refused'")" +05:30)" basic.db
golden since-until-clock tcpaccept --since "$(clock "$(q basic "select min(wall_ns) from tcpaccept where lport in (select dport from reset_by_client)")")" --until "$(clock "$(q basic "select max(wall_ns) from tcpaccept where lport in (select dport from reset_by_client)")")" basic.db
golden since-local tcpaccept --local --since "$(clock "$(q basic "select min(wall_ns) from tcpaccept where lport in (select dport from reset_by_client)")" local)" basic.db
golden since-epoch tcpreset --since "$(epoch "$(q basic "select min(wall_ns) from tcpreset where ip = 6")")" basic.db
golden since-relative capable --since "$(since basic "select min(wall_ns) from capable where comm = 'capcheck' and uid = 0 and cap = 7" us)" --until "$(since basic "select max(wall_ns) from capable where comm = 'capcheck' and uid = 0 and cap = 7" ns)" basic.db
golden since-date tcpconnect --since "$(q basic "select date(started_at_ns / 1000000000, 'unixepoch') from capture")" --until "$(datetime "$(q basic "select min(wall_ns) - 1 from tcpconnect where outcome = 'refused'")")" basic.db
golden comm capable -v --comm setpriv basic.db
golden comm-escaped tcpconnect --comm '\x1b]0;pwned\x07' web1.db web2.db
golden comm-backslash capable --comm 'a\\b\xc3\xa9\xff' web1.db
golden cgroup capable -v --cgroup "$(q web1 "select cgroup from capable where comm = 'capcheck' limit 1")" web1.db web2.db
golden mntns tcpconnect --mntns "$(q web2 "select mntns from tcpconnect where ip = 6 and outcome = 'refused'")" web1.db web2.db
golden filters-json capable -v --format json -u 4242 --comm capcheck --cgroup "$(q web1 "select cgroup from capable where comm = 'capcheck' limit 1")" web1.db

# several captures: one host (no HOST column), a fleet (HOST, time order)
golden merge-one-host tcpconnect -t basic.db unclean.db
golden merge-fleet tcpconnect -o web1.db web2.db
golden merge-fleet-accept tcpaccept -t web2.db web1.db
golden merge-fleet-capable capable -x web1.db web2.db
golden merge-fleet-csv tcpconnect --format csv web1.db web2.db
golden merge-fleet-json capable --format json web1.db web2.db

# strings from the capture: escaped for the terminal, JSON and CSV
golden escape-table capable web1.db web2.db
golden escape-json tcpconnect --format json web1.db web2.db
golden escape-csv capable --format csv web1.db web2.db

# --follow on captures that are finished: the same as without it
golden follow-finished tcpconnect --follow basic.db
golden follow-finished-fleet capable --follow -x web1.db web2.db

# stacks (record -K -U): frames under each event as BCC prints them, arrays in
# JSON, cells in CSV, folded stacks; events without stacks say so
golden capable-K capable -K stacks.db
golden capable-U capable -U stacks.db
golden capable-KU capable -v -K -U stacks.db
golden capable-KU-json capable -K -U --format json stacks.db
golden capable-KU-csv capable -v -K -U --format csv stacks.db
golden capable-folded capable -v --folded stacks.db
golden capable-folded-K capable -v --folded -K stacks.db
golden capable-folded-fleet capable --folded -U stacks.db web1.db
golden tcpconnect-K tcpconnect -K --user-stack stacks.db
golden tcpconnect-K-json tcpconnect -K --user-stack --format json stacks.db
golden tcpconnect-folded tcpconnect --folded stacks.db
golden tcpaccept-K tcpaccept -K -U stacks.db
golden tcpreset-K tcpreset -K -U stacks.db
golden tcpreset-folded tcpreset --folded -K stacks.db
golden stacks-none capable -K basic.db
golden caps-folded caps --folded stacks.db
golden caps-folded-K caps -v --folded -K stacks.db

# Every golden file is some test's, and no two tests share a name.
names=$(grep -ohE '^golden [A-Za-z0-9._-]+' tests/*.test.sh | cut -d' ' -f2 | sort)
check_eq "every file in tests/golden is a golden test's" "" \
	"$(comm -23 <(find tests/golden -type f -printf '%P\n' | sort) <(echo "$names" | sort -u))"
check_eq "no two golden tests share a name" "" "$(echo "$names" | uniq -d)"
