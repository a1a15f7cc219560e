# analyses: summary, timeline, scans, bruteforce and caps against golden
# output, every format, over the real captures of fixtures/.  No root needed.
#
# tests/regen-golden rewrites the golden files from the fixtures (after they
# are re-recorded); review the diff: what must hold whatever the recording
# (scanners, targets, ports, counts) is asserted in analyses.test.sh, and the
# figures are checked against the SQL reference in attacks.test.sh.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures basic web1 web2 scan-syn scan-small scan-connect bruteforce-ssh bruteforce-hydra sweep-host1 \
	sweep-host2 sweep-host3 sweep-host4 sweep-host5 benign-busy caps

golden summary summary scan-connect.db bruteforce-ssh.db
golden summary-caps summary caps.db
golden summary-fleet summary web1.db web2.db
golden summary-json summary --format json sweep-host1.db sweep-host2.db sweep-host3.db \
	sweep-host4.db sweep-host5.db
golden summary-csv summary --format csv --connections 5 benign-busy.db
golden summary-local summary --local basic.db

golden scans scans scan-connect.db
golden scans-json scans --format json scan-syn.db sweep-host1.db sweep-host2.db sweep-host3.db \
	sweep-host4.db sweep-host5.db
golden scans-csv scans --format csv scan-connect.db
golden scans-small scans scan-small.db
golden summary-small summary scan-small.db
golden scans-thresholds scans --ports 1 --window 60 benign-busy.db

golden bruteforce bruteforce bruteforce-ssh.db bruteforce-hydra.db
golden bruteforce-json bruteforce --format json bruteforce-hydra.db
golden bruteforce-csv bruteforce --format csv --connections 5 benign-busy.db

golden caps caps caps.db
golden caps-v caps -v -n 3 basic.db
golden caps-fleet caps web1.db web2.db
golden caps-json caps --format json caps.db
golden caps-csv caps --format csv -n 0 web1.db web2.db

golden timeline timeline basic.db
golden timeline-v timeline -v -p "$(q basic "select pid from capable where comm = 'setpriv' limit 1")" basic.db
golden timeline-fleet timeline web1.db web2.db
golden timeline-json timeline --format json web1.db web2.db
golden timeline-csv timeline --format csv basic.db
golden timeline-local timeline --local --comm capcheck basic.db
golden timeline-connections timeline -c basic.db
golden timeline-connections-json timeline -c --format json -P 22 scan-connect.db bruteforce-ssh.db
golden timeline-connections-addr timeline -c --addr 10.200.0.10 --until +186ms scan-syn.db
