#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make vmtest: boots Debian's own kernel packages under qemu and runs, in
# each, the load check of every program, bpf_test_run and the e2e tests
# (tests/vmtest/guest.sh). KERNELS="6.1 6.12 5.10" picks them (default
# all); VMTEST_E2E=all|subset|none, or suites by name, overrides what
# e2e runs on each.
#
# Each kernel is fetched as Debian's package (apt-get download; bullseye's
# through a sources list and lists directory of its own under
# build/vmtest/apt-bullseye, never the machine's apt configuration) and
# cached under build/vmtest/. The guest has no network device, reads the
# host's / over 9p, read-only, under a tmpfs overlay, and writes its results
# to a second 9p share. It exits with the guests' status and prints a table
# kernel x program x result.
set -u
cd "$(dirname "$0")/../.." || exit 1
OUT=${OUT:-build}
VM=$OUT/vmtest
KERNELS=${KERNELS:-6.1 6.12 5.10}
REPO=$(pwd)
mkdir -p "$VM"
VM=$(realpath "$VM")

say() { printf 'vmtest: %s\n' "$*" >&2; }
die() { printf 'vmtest: error: %s\n' "$*" >&2; exit 2; }

# The archive URL of a suite in this machine's own apt sources (deb822 or
# one-line), so that bullseye comes from the mirror bookworm does.
apt_uri_of() {
	local suite=$1
	{
		cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$suite" '
			/^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) print u }
			/^$/ { u = "" }'
		cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk -v s="$suite" '
			$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /:\/\//) { if ($(i + 1) == s) print $i; break } }'
	} | head -n 1
}

# apt for bullseye, under build/vmtest/apt-bullseye only.
BULLSEYE_APT=()
bullseye_apt() {
	local d=$VM/apt-bullseye main sec
	if [ ${#BULLSEYE_APT[@]} -eq 0 ]; then
		main=$(apt_uri_of bookworm)
		sec=$(apt_uri_of bookworm-security)
		[ -n "$main" ] || die "no bookworm archive in this machine's apt sources to take bullseye from"
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/etc"
		{
			echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main bullseye main"
			[ -n "$sec" ] && echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $sec bullseye-security main"
		} > "$d/etc/sources.list"
		: > "$d/status"
		BULLSEYE_APT=(-o Dir::Etc::SourceList="$d/etc/sources.list"
			-o Dir::Etc::SourceParts=/dev/null
			-o Dir::State::Lists="$d/lists" -o Dir::State::status="$d/status"
			-o Dir::Cache="$d/cache")
		if [ -z "$(find "$d/lists" -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
			say "apt-get update (bullseye, private lists under $d)"
			apt-get "${BULLSEYE_APT[@]}" update -qq >/dev/null 2>"$d/update.err" ||
				die "apt-get update for bullseye failed: $(tail -n 3 "$d/update.err")"
		fi
	fi
}

# The package of kernel K (6.1, 6.12, 5.10): Debian 12's stock kernel
# (what linux-image-amd64 depends on), the newest 6.12 of bookworm's
# archive, bullseye's stock kernel.
package_of() {
	case $1 in
	6.1) apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1\./ { print $2; exit }' ;;
	6.12) apt-cache pkgnames linux-image-6.12. 2>/dev/null |
		grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' | sort -V | tail -n 1 ;;
	5.10) bullseye_apt
		apt-cache "${BULLSEYE_APT[@]}" depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-5\.10\./ { print $2; exit }' ;;
	*) die "unknown kernel '$1' (KERNELS takes 6.1, 6.12, 5.10)" ;;
	esac
}

# What the initramfs insmods, in order: the closure of the modules that
# boot needs (9p over virtio, overlay), from modules.dep; built-in ones
# need nothing.
module_closure() {
	local moddir=$1
	shift
	awk -v want="$*" '
		function base(p) { sub(/.*\//, "", p); sub(/\.ko(\.xz|\.zst|\.gz)?$/, "", p); gsub(/-/, "_", p); return p }
		function visit(m,   n, i, d) {
			if (m in done || !(m in path)) return
			done[m] = 1
			n = split(deps[m], d, " ")
			for (i = 1; i <= n; i++) visit(base(d[i]))
			print path[m]
		}
		FILENAME ~ /modules.dep$/ { p = $1; sub(/:$/, "", p); m = base(p); path[m] = p
			$1 = ""; deps[m] = $0; next }
		END { n = split(want, w, " "); for (i = 1; i <= n; i++) visit(w[i]) }
	' "$moddir/modules.dep"
}

# Fetches, unpacks and prepares kernel K under $VM/K once: the package, its
# tree with modules.dep, and an initramfs.
prepare() {
	local k=$1 pkg dir deb ver moddir stage m f
	dir=$VM/$k
	if [ -s "$dir/ready" ]; then
		cat "$dir/ready"
		return 0
	fi
	# (bullseye's apt options set here, not in package_of's subshell)
	[ "$k" = 5.10 ] && bullseye_apt
	pkg=$(package_of "$k")
	[ -n "$pkg" ] || die "no package for kernel $k in Debian's archive (apt-get update first?)"
	mkdir -p "$dir/deb"
	if ! ls "$dir/deb/${pkg}_"*.deb >/dev/null 2>&1; then
		say "apt-get download $pkg"
		if [ "$k" = 5.10 ]; then
			(cd "$dir/deb" && apt-get "${BULLSEYE_APT[@]}" download -qq "$pkg" 2>"$dir/download.err") ||
				die "apt-get download $pkg: $(tail -n 3 "$dir/download.err")"
		else
			(cd "$dir/deb" && apt-get download -qq "$pkg" 2>"$dir/download.err") ||
				die "apt-get download $pkg: $(tail -n 3 "$dir/download.err")"
		fi
	fi
	deb=$(ls "$dir/deb/${pkg}_"*.deb | head -n 1)
	rm -rf "$dir/root"
	dpkg-deb -x "$deb" "$dir/root" || die "cannot unpack $deb"
	ver=$(ls "$dir/root/lib/modules" | head -n 1)
	moddir=$dir/root/lib/modules/$ver
	[ -f "$dir/root/boot/vmlinuz-$ver" ] || die "$deb holds no vmlinuz-$ver"
	depmod -b "$dir/root" "$ver" || die "depmod of $ver failed"

	stage=$dir/initramfs
	rm -rf "$stage"
	mkdir -p "$stage/bin" "$stage/modules" "$stage/proc" "$stage/sys" "$stage/dev" \
		"$stage/lower" "$stage/rw" "$stage/newroot"
	cp /bin/busybox "$stage/bin/busybox"
	cp tests/vmtest/init "$stage/init"
	chmod 0755 "$stage/init"
	: > "$stage/modules.load"
	for m in $(module_closure "$moddir" virtio_pci 9pnet_virtio 9p overlay); do
		f=$(basename "$m")
		case $f in
		*.xz) xz -dc "$moddir/$m" > "$stage/modules/${f%.xz}"; f=${f%.xz} ;;
		*.zst) zstd -qdc "$moddir/$m" > "$stage/modules/${f%.zst}"; f=${f%.zst} ;;
		*) cp "$moddir/$m" "$stage/modules/$f" ;;
		esac
		echo "$f" >> "$stage/modules.load"
	done
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$dir/initramfs.cpio.gz" ||
		die "cannot make the initramfs"
	printf '%s %s %s\n' "$ver" "$pkg" "$(basename "$deb")" > "$dir/ready"
	cat "$dir/ready"
}

# What accelerator boots a stock kernel here: KVM, unless it is the nested
# paravirtual one (kvm_pvm) on which stock kernels stall in early boot;
# VMTEST_ACCEL=kvm|tcg decides instead.
accel() {
	local a=${VMTEST_ACCEL:-}
	if [ -z "$a" ]; then
		if [ -d /sys/module/kvm_pvm ] || [ ! -w /dev/kvm ]; then
			a=tcg
		else
			a=kvm
		fi
	fi
	case $a in
	kvm) echo "-accel kvm -cpu host" ;;
	*) echo "-accel tcg,thread=multi -cpu max" ;;
	esac
}

# What each kernel runs of the e2e suite: all of it on Debian 12's own
# kernel; on 6.12 the tests that cover each program's work on the wire
# (check, counting, replies, conntrack, drops, the probe); on 5.10, which
# lacks what the programs need, none (guest.sh runs old_kernel.sh there).
E2E_SUBSET="test_check test_verify_counts test_replies test_conntrack test_drops test_probe_verify"
e2e_of() {
	case ${VMTEST_E2E:-} in
	"") case $1 in 6.1) echo all ;; 5.10) echo none ;; *) echo "$E2E_SUBSET" ;; esac ;;
	subset) echo "$E2E_SUBSET" ;;
	*) echo "$VMTEST_E2E" ;;	# all, none, or suites by name
	esac
}

# The guest's time for everything, and how much slower its waits may be.
VM_TIMEOUT=${VMTEST_TIMEOUT:-2400}
TIME_SCALE=${VMTEST_TIME_SCALE:-6}

boot() {
	local k=$1 ver=$2 dir=$VM/$1 out rc
	out=$dir/out
	rm -rf "$out"
	mkdir -p "$out"
	say "booting $k ($ver) under qemu ($(accel | awk '{print $2}')); console in $out/console.log"
	# shellcheck disable=SC2046
	timeout --kill-after=10 "$VM_TIMEOUT" qemu-system-x86_64 -nodefaults -no-reboot \
		-display none $(accel) -smp 2 -m 3072 \
		-kernel "$dir/root/boot/vmlinuz-$ver" -initrd "$dir/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 oops=panic quiet loglevel=4 pwrepo=$REPO pwout=$OUT pwmods=$dir/root/lib/modules/$ver pwkernel=$k pwe2e=$(e2e_of "$k" | tr ' ' ,) pwscale=$TIME_SCALE pwci=${CI:-}" \
		-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
		-fsdev local,id=out,path="$out",security_model=none \
		-device virtio-9p-pci,fsdev=out,mount_tag=out \
		-chardev file,id=con,path="$out/console.log" -serial chardev:con \
		</dev/null &
	QEMU=$!
	wait $QEMU
	rc=$?
	QEMU=
	if [ -s "$out/rc" ]; then
		rc=$(cat "$out/rc")
	else
		say "$k: the guest ended without a status (qemu exit $rc); its console's last lines:"
		tail -n 30 "$out/console.log" | sed 's/^/    /'
		rc=125
	fi
	return "$rc"
}

# A guest still running when this ends (Ctrl-C, a failure) goes with it.
QEMU=
trap '[ -n "$QEMU" ] && kill "$QEMU" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

status=0
rows=()
for k in $KERNELS; do
	info=$(prepare "$k") || { status=2; rows+=("$k - prepare-failed"); continue; }
	ver=${info%% *}
	start=$SECONDS
	boot "$k" "$ver"
	rc=$?
	say "$k: guest status $rc after $((SECONDS - start)) s"
	[ -f "$VM/$k/out/guest.log" ] && sed 's/^/    /' "$VM/$k/out/guest.log"
	[ "$rc" -eq 0 ] || status=1
	if [ -s "$VM/$k/out/results" ]; then
		while read -r line; do rows+=("$k $line"); done < "$VM/$k/out/results"
	fi
	rows+=("$k (guest) $([ "$rc" -eq 0 ] && echo pass || echo "fail($rc)")")
done

echo
printf '%-6s %-22s %s\n' KERNEL PROGRAM/SUITE RESULT
for r in "${rows[@]}"; do
	set -- $r
	k=$1 what=$2
	shift 2
	printf '%-6s %-22s %s\n' "$k" "$what" "$*"
done
exit $status
