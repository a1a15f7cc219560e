# report: every subcommand, option, filter and format against golden output,
# over captures recorded for real (fixtures/).  No root needed.
#
# The golden files (tests/golden/NAME) were written by this script with
# UPDATE_GOLDEN=1 (tests/regen-golden) and then checked by hand against the
# fixtures (sqlite3 on the schema's views); tests/report-oracle.test.sh checks
# the same outputs against SQL independently.  Regenerate only after such a review.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures basic lost unclean web1 web2

# info
golden info info basic.db
golden info-two info web1.db web2.db
golden info-unclean info unclean.db
golden info-local info --local unclean.db
golden info-json info --format json basic.db lost.db
golden info-csv info --format csv lost.db

# tcpconnect: BCC's columns and options
golden tcpconnect tcpconnect basic.db
golden tcpconnect-t tcpconnect -t basic.db
golden tcpconnect-L tcpconnect -L basic.db
golden tcpconnect-U tcpconnect -U basic.db
golden tcpconnect-tUL tcpconnect -tUL basic.db
golden tcpconnect-o tcpconnect -o basic.db
golden tcpconnect-4 tcpconnect -4 basic.db
golden tcpconnect-6 tcpconnect --ipv6 basic.db
golden tcpconnect-p tcpconnect -p 6438 basic.db
golden tcpconnect-P tcpconnect -P 50949,35921 basic.db
golden tcpconnect-u tcpconnect -U -u 4343 web1.db web2.db
golden tcpconnect-c tcpconnect -c basic.db
golden tcpconnect-c-fleet tcpconnect -c web1.db web2.db
golden tcpconnect-c-json tcpconnect -c --format json web1.db web2.db
golden tcpconnect-json tcpconnect --format json basic.db
golden tcpconnect-csv tcpconnect --format csv basic.db

# tcpaccept
golden tcpaccept tcpaccept basic.db
golden tcpaccept-t tcpaccept -t basic.db
golden tcpaccept-p tcpaccept -p 6439 basic.db
golden tcpaccept-P tcpaccept -P 33315,35921 basic.db
golden tcpaccept-4 tcpaccept -4 basic.db
golden tcpaccept-json tcpaccept --format json basic.db
golden tcpaccept-csv tcpaccept --format csv basic.db

# tcpreset
golden tcpreset tcpreset basic.db
golden tcpreset-r tcpreset -r basic.db
golden tcpreset-json tcpreset --format json basic.db
golden tcpreset-csv tcpreset --format csv basic.db
golden tcpreset-local tcpreset --local basic.db

# capable
golden capable capable basic.db
golden capable-v capable -v basic.db
golden capable-x capable -x basic.db
golden capable-unique capable --unique -v basic.db
golden capable-p capable -p 6445 basic.db
golden capable-u capable -x -u 65534 basic.db
golden capable-json capable --format json basic.db
golden capable-csv capable -v --format csv web2.db
golden capable-local capable --local --format json -p 6444 basic.db

# the common filters
golden since-rfc3339 tcpconnect -t --since 2026-11-23T01:26:59.320Z basic.db
golden until-offset tcpconnect -t --until 2026-11-23T06:56:59.320+05:30 basic.db
golden since-until-clock tcpaccept --since 01:26:59.33 --until 01:26:59.36 basic.db
golden since-local tcpaccept --local --since 06:56:59.33 basic.db
golden since-epoch tcpreset --since @1795397219.33 basic.db
golden since-relative capable --since +144900us --until +145ms basic.db
golden since-date tcpconnect --since 2026-11-23 --until "2026-11-23 01:26:59.31" basic.db
golden comm capable -v --comm setpriv basic.db
golden comm-escaped tcpconnect --comm '\x1b]0;pwned\x07' web1.db web2.db
golden comm-backslash capable --comm 'a\\b\xc3\xa9\xff' web1.db
golden cgroup capable -v --cgroup 253 web1.db web2.db
golden mntns tcpconnect --mntns 4026533044 web1.db web2.db
golden filters-json capable -v --format json -u 4242 --comm capcheck --cgroup 253 web1.db

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
