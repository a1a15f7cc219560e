# Debian's own kernels, booted under qemu: Debian 12's 6.1 and its 6.12 line.
# In each, the static record records a known workload (tests/kernels/init);
# every kind's count from the capture must equal what the workload did
# (tests/kernels/counts).  A kind that records nothing there fails.
# Downloads the kernel packages the first time (tests/kernels/fetch).  Needs
# root (the shared cache in /var/cache), and `make static`.
source "$(dirname "$0")/lib.sh"

once_per_run "kernel boots" "they test build-static" || exit 0
needs_root "kernel boots" || exit 0

tables=()
for version in 6.1 6.12; do
	out="$SCRATCH/$version"
	log="$SCRATCH/$version.log"
	start=$(date +%s)
	booted=yes
	tests/kernels/boot "$version" build-static "$out" > "$log" 2>&1 || booted=no
	echo "# Linux $version: booted and recorded in $(($(date +%s) - start)) s"
	check_eq "Linux $version: boots, records and hands the captures over" yes "$booted"
	if [ $booted = no ]; then
		tail -n 20 "$log"
		continue
	fi
	while IFS='|' read -r kind what expected actual; do
		check_eq "Linux $version: $kind: $what" "$expected" "$actual"
	done < "$out/counts"
	tables+=("$(sed -n '/^kernel /,$p' "$log")")
done

echo "# what each kernel recorded, kind by kind:"
printf '%s\n\n' "${tables[@]}"
