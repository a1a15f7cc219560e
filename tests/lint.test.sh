# The sources as scripts/lint checks them (make lint): C files clang-formatted,
# shell scripts shellcheck-clean, report/ in its layers, report's SQL its own,
# report's sources clean under clang's warnings (make fuzz builds with clang).
# Checks of text, not behaviour: they run here so that CI counts them.
source "$(dirname "$0")/lib.sh"

once_per_run "lint" "it checks the sources" || exit 0

for tool in clang-format shellcheck tsort clang; do
	command -v "$tool" > /dev/null || fail "lint: $tool" "not installed (scripts/install-deps)"
done
check "lint: every C file as clang-format writes it" scripts/lint format
check "lint: every shell script clean under shellcheck" scripts/lint shell
check "lint: report's engine includes no analysis or command, no analysis a command, no cycle" \
	scripts/lint layers
check "lint: report prepares only its own SQL" scripts/lint sql
check "lint: report's sources and the fuzzer's harness clean under clang's warnings" scripts/lint clang
