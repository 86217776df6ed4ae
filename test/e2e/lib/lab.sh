# shellcheck shell=bash
# lab.sh: a fake two-node flannel host-gw cluster in network namespaces, with
# real pods (namespaces running podserve.py) and real TCP/UDP probes.
#
# Source it, call lab_init, build nodes/underlay/vm/pods, probe. Every address
# lives inside namespaces named "$LAB_PREFIX*"; nothing is added to the root
# namespace. lab_cleanup (run from an EXIT trap that lab_init installs) kills
# every process inside the lab namespaces and deletes them. See README.md.
#
# Conventions: functions print errors to stderr as "lab: ..." and return
# non-zero on failure; they are safe under `set -eu` in the caller.

if [[ -n ${_LAB_SH_LOADED:-} ]]; then
	return 0
fi
_LAB_SH_LOADED=1

LAB_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_RUNDIR=${LAB_RUNDIR:-/run/npdlab}
LAB_PREFIX=${LAB_PREFIX:-}
LAB_STATE=${LAB_STATE:-}
LAB_PASSED=${LAB_PASSED:-0}
LAB_FAILED=${LAB_FAILED:-0}

# Fixed plan (see README.md): pods 10.244.<idx>.0/24 and fd00:244:<idx>::/64,
# underlay 192.168.254.0/24 and fd00:254::/64, node <idx> at .<idx> / ::<idx>.
LAB_POD4_NET=10.244
LAB_POD6_NET=fd00:244
LAB_UL4_NET=192.168.254
LAB_UL6_NET=fd00:254

_lab_err() { echo "lab: $*" >&2; }

# _lab_made DIR NAME CONFIG: was NAME made already ($LAB_STATE/DIR/NAME records its CONFIG)?
# Prints "yes" (with this CONFIG: making it again is a no-op) or "no"; fails, saying why,
# when it was made with another CONFIG.
_lab_made() {
	local f=$LAB_STATE/$1/$2
	if [[ ! -e $f ]]; then
		echo no
	elif [[ $(<"$f") == "$3" ]]; then
		echo yes
	else
		_lab_err "${1%s} $2 exists as '$(<"$f")', not '$3'"
		return 1
	fi
}

# _lab_prefixed ADDR LEN: ADDR with /LEN appended when it has no prefix length ("" stays "").
_lab_prefixed() {
	if [[ -n $1 && $1 != */* ]]; then
		echo "$1/$2"
	else
		echo "$1"
	fi
}

_lab_need() {
	if [[ -z $LAB_PREFIX || -z $LAB_STATE || ! -d $LAB_STATE ]]; then
		_lab_err "call lab_init first"
		return 1
	fi
}

_lab_name_ok() {
	if [[ ! $1 =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$ ]]; then
		_lab_err "bad name '$1' (letters, digits, _ . -; at most 32)"
		return 1
	fi
}

# Short stable interface names: IFNAMSIZ is 16, lab names can be longer.
_lab_ifname() { # PREFIX NAME
	local h
	h=$(printf '%s' "$2" | md5sum)
	printf '%s%s\n' "$1" "${h:0:8}"
}

# ip(8) in a namespace, with one error line that says where it failed.
_lab_ip() { # NS ARGS...
	local ns=$1
	shift
	if ! ip -n "$ns" "$@"; then
		_lab_err "in $ns: ip $*: failed"
		return 1
	fi
}

_lab_sysctl() { # NS KEY=VAL...
	local ns=$1
	shift
	if ! ip netns exec "$ns" sysctl -q -w "$@" >/dev/null; then
		_lab_err "in $ns: sysctl $*: failed"
		return 1
	fi
}

_lab_ns_exists() { [[ -e /run/netns/$1 ]]; }

# Create a namespace with lo up, no DAD (v6 addresses usable at once) and
# no reverse-path filtering; set the defaults first so every interface
# created later inherits them.
_lab_ns_new() { # NS
	local ns=$1
	if _lab_ns_exists "$ns"; then
		_lab_err "namespace $ns already exists"
		return 1
	fi
	ip netns add "$ns" || { _lab_err "ip netns add $ns: failed"; return 1; }
	_lab_sysctl "$ns" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 || return 1
	# The kernel rate-limits ICMP errors per destination (v4: ~1/s after a
	# burst of 6), so a REJECT probed a few times a second would turn from a
	# fast "refused" into a timeout. LAB_ICMP_RATELIMIT=kernel keeps defaults.
	if [[ ${LAB_ICMP_RATELIMIT:-off} == off ]]; then
		_lab_sysctl "$ns" net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
			net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000 || return 1
	fi
	_lab_ip "$ns" link set lo up
}

# /proc/PID/stat field 22 (start time) guards against pid reuse.
_lab_starttime() { # PID
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2206
	local -a f=($s)
	printf '%s\n' "${f[19]}"
}

_lab_proc_alive() { # PID [STARTTIME]
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2206
	local -a f=($s)
	if [[ ${f[0]} == Z ]]; then
		return 1
	fi
	if [[ -n ${2:-} && ${f[19]} != "$2" ]]; then
		return 1
	fi
	return 0
}

_lab_nslist() { # PREFIX
	ip netns list 2>/dev/null | awk -v p="$1" 'index($1, p) == 1 { print $1 }'
}

# Send SIG to the pids, then poll up to TRIES x 20 ms until they are gone; the
# survivors are left in the array _LAB_LIVE. True when none survived.
_lab_signal_wait() { # SIG TRIES PID...
	local sig=$1 tries=$2 pid i
	shift 2
	local -a pids=("$@")
	kill "-$sig" "${pids[@]}" 2>/dev/null || true
	for ((i = 0; i < tries; i++)); do
		_LAB_LIVE=()
		for pid in "${pids[@]}"; do
			if _lab_proc_alive "$pid"; then
				_LAB_LIVE+=("$pid")
			fi
		done
		if ((${#_LAB_LIVE[@]} == 0)); then
			return 0
		fi
		pids=("${_LAB_LIVE[@]}")
		sleep 0.02
	done
	return 1
}

# Kill every process in the given namespaces: TERM, up to 2 s, then KILL.
_lab_kill_ns_procs() { # NS...
	local ns pid
	local -a pids=()
	for ns in "$@"; do
		while read -r pid; do
			if [[ -n $pid && $pid != "$$" && $pid != "$BASHPID" ]]; then
				pids+=("$pid")
			fi
		done < <(ip netns pids "$ns" 2>/dev/null)
	done
	if ((${#pids[@]} == 0)); then
		return 0
	fi
	_lab_signal_wait TERM 100 "${pids[@]}" && return 0
	_lab_signal_wait KILL 50 "${_LAB_LIVE[@]}" && return 0
	_lab_err "processes survived SIGKILL: ${_LAB_LIVE[*]}"
	return 1
}

# Remove every namespace whose name starts with PREFIX, processes first.
_lab_destroy() { # PREFIX
	local ns rc=0
	local -a nss=()
	mapfile -t nss < <(_lab_nslist "$1")
	if ((${#nss[@]} == 0)); then
		return 0
	fi
	_lab_kill_ns_procs "${nss[@]}" || rc=1
	for ns in "${nss[@]}"; do
		# Another lab's lab_cleanup_stale may be deleting the same stale lab.
		if ! ip netns del "$ns" 2>/dev/null && _lab_ns_exists "$ns"; then
			sleep 0.1
			if ! ip netns del "$ns" 2>/dev/null && _lab_ns_exists "$ns"; then
				_lab_err "cannot delete namespace $ns"
				rc=1
			fi
		fi
	done
	return $rc
}

_lab_on_exit() {
	local rc=$?
	if [[ -n ${_LAB_OWNER:-} && $_LAB_OWNER == "$BASHPID" ]]; then
		lab_cleanup || true
	fi
	if [[ -n ${_LAB_OLD_EXIT_TRAP:-} ]]; then
		eval "$_LAB_OLD_EXIT_TRAP"
	fi
	exit "$rc"
}

# lab_init [PREFIX]: choose the namespace prefix (default npdlab-$LAB_ID- or
# npdlab-<pid>-), remove stale labs of dead owners, record this shell as
# the owner, and install an EXIT trap that runs lab_cleanup, chaining a
# trap the caller set before. A caller that sets its own EXIT trap later
# must call lab_cleanup from it.
lab_init() {
	local prefix=${1:-npdlab-${LAB_ID:-$BASHPID}-}
	local state t
	local -a owner=()
	if [[ $prefix != *- ]]; then
		prefix+=-
	fi
	if [[ ! $prefix =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$ ]]; then
		_lab_err "bad prefix '$prefix'"
		return 1
	fi
	if [[ -n ${_LAB_OWNER:-} && $_LAB_OWNER == "$BASHPID" && -n $LAB_STATE && -d $LAB_STATE ]]; then
		if [[ $LAB_PREFIX == "$prefix" ]]; then
			return 0
		fi
		_lab_err "a lab with prefix $LAB_PREFIX is active; lab_cleanup it first"
		return 1
	fi
	for t in ip python3 sysctl ss iptables-legacy ip6tables-legacy md5sum; do
		if ! command -v "$t" >/dev/null; then
			_lab_err "required tool '$t' not found"
			return 1
		fi
	done
	if [[ -z ${LAB_PYTHON:-} ]]; then
		# The real interpreter, not a pyenv shim: shims cost ~100 ms per probe.
		LAB_PYTHON=$(python3 -c 'import sys; print(sys.executable)') || {
			_lab_err "python3 does not run"
			return 1
		}
	fi
	if [[ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] && command -v modprobe >/dev/null; then
		modprobe br_netfilter 2>/dev/null || true
	fi
	mkdir -p "$LAB_RUNDIR" || return 1
	if [[ -z ${LAB_KEEP_STALE:-} ]]; then
		lab_cleanup_stale || true
	fi
	state=$LAB_RUNDIR/${prefix%-}
	if [[ -e $state/owner ]]; then
		read -r -a owner <"$state/owner"
		if _lab_proc_alive "${owner[0]}" "${owner[1]}"; then
			_lab_err "prefix $prefix is in use by live pid ${owner[0]}"
			return 1
		fi
	fi
	_lab_destroy "$prefix" || return 1
	rm -rf "$state"
	mkdir -p "$state"/{nodes,vms,pods,run,logs} || return 1
	# $BASHPID inside $(...) would be the subshell's: take it out here.
	t=$BASHPID
	echo "$t $(_lab_starttime "$t") $prefix" >"$state/owner"
	LAB_PREFIX=$prefix
	LAB_STATE=$state
	_LAB_OWNER=$BASHPID
	if [[ -z ${_LAB_TRAP_SET:-} ]]; then
		local old sig
		old=$(trap -p EXIT)
		if [[ -n $old ]]; then
			old=${old#"trap -- '"}
			old=${old%"' EXIT"}
			old=${old//"'\\''"/"'"}
		fi
		_LAB_OLD_EXIT_TRAP=$old
		trap _lab_on_exit EXIT
		# Without a handler, INT/TERM/HUP end bash without running the EXIT trap.
		for sig in INT:130 TERM:143 HUP:129; do
			if [[ -z $(trap -p "${sig%%:*}") ]]; then
				# shellcheck disable=SC2064
				trap "exit ${sig#*:}" "${sig%%:*}"
			fi
		done
		_LAB_TRAP_SET=1
	fi
}

# lab_cleanup: kill every process in this lab's namespaces, delete them and
# the state directory. Idempotent.
lab_cleanup() {
	local rc=0
	if [[ -z $LAB_PREFIX ]]; then
		return 0
	fi
	_lab_destroy "$LAB_PREFIX" || rc=1
	if [[ -n $LAB_STATE && $LAB_STATE == "$LAB_RUNDIR"/* ]]; then
		rm -rf "$LAB_STATE"
	fi
	return $rc
}

# lab_cleanup_stale: remove labs whose owner is dead: those recorded under
# $LAB_RUNDIR, and unrecorded namespaces named npdlab-<pid>-* with a dead pid.
lab_cleanup_stale() {
	local d ns pid rc=0
	local -a owner=()
	for d in "$LAB_RUNDIR"/*/; do
		d=${d%/}
		if [[ ! -f $d/owner ]]; then
			continue
		fi
		owner=()
		read -r -a owner <"$d/owner" || true
		if ((${#owner[@]} < 3)) || _lab_proc_alive "${owner[0]}" "${owner[1]}"; then
			continue
		fi
		if _lab_destroy "${owner[2]}"; then
			rm -rf "$d"
		else
			rc=1
		fi
	done
	while read -r ns; do
		if [[ $ns =~ ^npdlab-([0-9]+)- ]]; then
			pid=${BASH_REMATCH[1]}
			if [[ ! -d $LAB_RUNDIR/npdlab-$pid ]] && ! _lab_proc_alive "$pid"; then
				_lab_destroy "npdlab-$pid-" || rc=1
			fi
		fi
	done < <(_lab_nslist npdlab-)
	return $rc
}

# lab_ns NAME: the real namespace of a lab node, vm, switch ("sw") or pod.
lab_ns() {
	_lab_need || return 1
	local n=${1:-}
	if [[ -e $LAB_STATE/nodes/$n || -e $LAB_STATE/vms/$n || $n == sw ]] && [[ -n $n ]]; then
		printf '%s\n' "$LAB_PREFIX$n"
	elif [[ -n $n && -e $LAB_STATE/pods/$n ]]; then
		printf '%s\n' "${LAB_PREFIX}p-$n"
	elif [[ -n $n && $n == "$LAB_PREFIX"* ]] && _lab_ns_exists "$n"; then
		printf '%s\n' "$n"
	else
		_lab_err "no lab node, vm or pod named '$n'"
		return 1
	fi
}

# lab_exec NAME CMD...: run CMD inside the lab namespace NAME.
lab_exec() {
	local ns
	ns=$(lab_ns "${1:-}") || return 1
	shift
	ip netns exec "$ns" "$@"
}

# lab_spawn NAME LOGFILE CMD...: start CMD in the background inside NAME
# (stdin /dev/null, stdout+stderr appended to LOGFILE), print its pid.
# lab_cleanup kills it with everything else in the namespace.
lab_spawn() {
	local ns log=${2:-} pid
	ns=$(lab_ns "${1:-}") || return 1
	shift 2
	if [[ -z $log || $# -eq 0 ]]; then
		_lab_err "usage: lab_spawn NAME LOGFILE CMD..."
		return 1
	fi
	# `ip netns exec` execs CMD, so $! is CMD's pid.
	ip netns exec "$ns" "$@" </dev/null >>"$log" 2>&1 &
	pid=$!
	disown "$pid" 2>/dev/null || true
	printf '%s\n' "$pid"
}

# lab_node NAME INDEX: a node namespace with bridge cni0 holding the pod
# gateway 10.244.INDEX.1/24 and fd00:244:INDEX::1/64, forwarding on, and
# br_netfilter sending bridged pod-to-pod traffic through iptables FORWARD.
# A node added after lab_underlay is wired to the switch at once.
lab_node() {
	_lab_need || return 1
	local name=${1:-} idx=${2:-} ns f hx made
	_lab_name_ok "$name" || return 1
	if [[ ! $idx =~ ^[0-9]+$ ]] || ((idx < 1 || idx > 99)); then
		_lab_err "lab_node $name: index must be 1..99 (underlay .1-.99; vms use .100+)"
		return 1
	fi
	if [[ $name == sw || $name == p-* ]]; then
		_lab_err "lab_node: name '$name' is reserved"
		return 1
	fi
	made=$(_lab_made nodes "$name" "$idx") || return 1
	[[ $made == no ]] || return 0
	if [[ -e $LAB_STATE/vms/$name ]]; then
		_lab_err "lab_node: $name is a vm"
		return 1
	fi
	for f in "$LAB_STATE"/nodes/*; do
		if [[ -f $f && $(<"$f") == "$idx" ]]; then
			_lab_err "node index $idx is taken by ${f##*/}"
			return 1
		fi
	done
	ns=$LAB_PREFIX$name
	_lab_ns_new "$ns" || return 1
	echo "$idx" >"$LAB_STATE/nodes/$name"
	if ! ip netns exec "$ns" test -e /proc/sys/net/bridge/bridge-nf-call-iptables; then
		_lab_err "net.bridge.bridge-nf-call-iptables does not exist in $ns: load br_netfilter in the root namespace (modprobe br_netfilter)"
		return 1
	fi
	_lab_sysctl "$ns" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 || return 1
	# A fixed MAC: a bridge otherwise takes its lowest port's MAC, which changes
	# as pods come and go and leaves stale gateway neighbour entries in pods.
	hx=$(printf '%02x' "$idx")
	_lab_ip "$ns" link add cni0 address "02:00:0a:f4:$hx:01" type bridge mcast_snooping 0 || return 1
	_lab_ip "$ns" link set cni0 up || return 1
	_lab_ip "$ns" addr add "$LAB_POD4_NET.$idx.1/24" dev cni0 || return 1
	_lab_ip "$ns" -6 addr add "$LAB_POD6_NET:$idx::1/64" dev cni0 nodad || return 1
	if _lab_ns_exists "${LAB_PREFIX}sw"; then
		lab_underlay
	fi
}

# Attach namespace NS to the switch as eth0 with the given addresses.
_lab_attach() { # NS IFKEY IP4/LEN [IP6/LEN]
	local ns=$1 port sw=${LAB_PREFIX}sw
	port=$(_lab_ifname u "$2")
	if ip -n "$ns" link show eth0 >/dev/null 2>&1; then
		return 0
	fi
	_lab_ip "$sw" link add "$port" type veth peer name eth0 netns "$ns" || return 1
	_lab_ip "$sw" link set "$port" master br0 up || return 1
	_lab_ip "$ns" link set eth0 up || return 1
	_lab_ip "$ns" addr add "$3" dev eth0 || return 1
	if [[ -n ${4:-} ]]; then
		_lab_ip "$ns" -6 addr add "$4" dev eth0 nodad || return 1
	fi
}

# lab_underlay: the switch namespace (bridge br0) joining every node's eth0
# (192.168.254.IDX/24, fd00:254::IDX/64) and every vm, plus host-gw routes:
# each node to each other node's pod CIDRs, each vm to every node's pod
# CIDRs. Idempotent; lab_node and lab_vm re-run it once the switch exists.
lab_underlay() {
	_lab_need || return 1
	local sw=${LAB_PREFIX}sw f g name idx oidx ns ip4 ip6
	if ! _lab_ns_exists "$sw"; then
		_lab_ns_new "$sw" || return 1
		_lab_ip "$sw" link add br0 address 02:00:c0:a8:fe:00 type bridge mcast_snooping 0 || return 1
		_lab_ip "$sw" link set br0 up || return 1
	fi
	for f in "$LAB_STATE"/nodes/*; do
		[[ -f $f ]] || continue
		name=${f##*/} idx=$(<"$f") ns=$LAB_PREFIX$name
		_lab_attach "$ns" "n-$name" "$LAB_UL4_NET.$idx/24" "$LAB_UL6_NET::$idx/64" || return 1
	done
	for f in "$LAB_STATE"/vms/*; do
		[[ -f $f ]] || continue
		name=${f##*/} ns=$LAB_PREFIX$name
		read -r ip4 ip6 <"$f"
		_lab_attach "$ns" "v-$name" "$ip4" "${ip6#-}" || return 1
	done
	for f in "$LAB_STATE"/nodes/* "$LAB_STATE"/vms/*; do
		[[ -f $f ]] || continue
		name=${f##*/} ns=$LAB_PREFIX$name
		idx=
		if [[ $f == */nodes/* ]]; then
			idx=$(<"$f")
		fi
		read -r ip4 ip6 <"$f"
		for g in "$LAB_STATE"/nodes/*; do
			[[ -f $g ]] || continue
			oidx=$(<"$g")
			if [[ $oidx == "$idx" ]]; then
				continue
			fi
			_lab_ip "$ns" route replace "$LAB_POD4_NET.$oidx.0/24" via "$LAB_UL4_NET.$oidx" || return 1
			if [[ -n $idx || ${ip6:--} != - ]]; then
				_lab_ip "$ns" -6 route replace "$LAB_POD6_NET:$oidx::/64" via "$LAB_UL6_NET::$oidx" || return 1
			fi
		done
	done
}

# lab_vm NAME IP4 [IP6]: an outside host on the underlay (e.g. 192.168.254.100,
# fd00:254::100) with routes to every node's pod CIDRs via that node.
lab_vm() {
	_lab_need || return 1
	local name=${1:-} ip4=${2:-} ip6=${3:-} ns made
	_lab_name_ok "$name" || return 1
	if [[ $name == sw || $name == p-* || -e $LAB_STATE/nodes/$name ]]; then
		_lab_err "lab_vm: name '$name' is reserved or a node"
		return 1
	fi
	if [[ -z $ip4 || $ip4 == *:* ]]; then
		_lab_err "usage: lab_vm NAME IP4 [IP6]"
		return 1
	fi
	ip4=$(_lab_prefixed "$ip4" 24)
	ip6=$(_lab_prefixed "$ip6" 64)
	made=$(_lab_made vms "$name" "$ip4 ${ip6:--}") || return 1
	[[ $made == no ]] || return 0
	ns=$LAB_PREFIX$name
	_lab_ns_new "$ns" || return 1
	echo "$ip4 ${ip6:--}" >"$LAB_STATE/vms/$name"
	lab_underlay
}

# Wait until every port is a TCP listener and a UDP socket in NS.
_lab_wait_ports() { # NS TIMEOUT_S PORT...
	local ns=$1 tries=$(($2 * 50)) p ok i
	local tcp udp
	shift 2
	for ((i = 0; i < tries; i++)); do
		tcp=" $(ip netns exec "$ns" ss -Hltn 2>/dev/null | awk '{ n = split($4, a, ":"); printf "%s ", a[n] }')"
		udp=" $(ip netns exec "$ns" ss -Hlun 2>/dev/null | awk '{ n = split($4, a, ":"); printf "%s ", a[n] }')"
		ok=1
		for p in "$@"; do
			if [[ $tcp != *" $p "* || $udp != *" $p "* ]]; then
				ok=
				break
			fi
		done
		if [[ -n $ok ]]; then
			return 0
		fi
		sleep 0.02
	done
	return 1
}

# lab_pod NAME NODE IP4 [IP6] [PORT...]: a pod namespace with eth0 (a veth
# into NODE's cni0) holding IP4 (/24 unless given) and optionally IP6 (/64),
# default routes via the node's bridge, and podserve.py echoing TCP and UDP
# on every PORT. Returns once every port listens. IP4 may be "-" (v6 only).
lab_pod() {
	_lab_need || return 1
	local name=${1:-} node=${2:-} ip4=${3:-} ip6='' idx ns nodens veth pidf log made
	local -a ports=()
	_lab_name_ok "$name" || return 1
	if (($# < 3)); then
		_lab_err "usage: lab_pod NAME NODE IP4 [IP6] [PORT...]"
		return 1
	fi
	shift 3
	if [[ $# -gt 0 && ( $1 == *:* || $1 == - ) ]]; then
		ip6=${1#-}
		shift
	fi
	for p in "$@"; do
		if [[ ! $p =~ ^[0-9]+$ ]] || ((p < 1 || p > 65535)); then
			_lab_err "lab_pod $name: bad port '$p'"
			return 1
		fi
		ports+=("$p")
	done
	if [[ ! -f $LAB_STATE/nodes/$node ]]; then
		_lab_err "lab_pod $name: no node '$node'"
		return 1
	fi
	[[ $ip4 != - ]] || ip4=
	ip4=$(_lab_prefixed "$ip4" 24)
	ip6=$(_lab_prefixed "$ip6" 64)
	if [[ -z $ip4 && -z $ip6 ]]; then
		_lab_err "lab_pod $name: needs an IPv4 or IPv6 address"
		return 1
	fi
	made=$(_lab_made pods "$name" "$node ${ip4:--} ${ip6:--} ${ports[*]}") || return 1
	[[ $made == no ]] || return 0
	idx=$(<"$LAB_STATE/nodes/$node")
	ns=${LAB_PREFIX}p-$name
	nodens=$LAB_PREFIX$node
	veth=$(_lab_ifname veth "$name")
	_lab_ns_new "$ns" || return 1
	echo "$node ${ip4:--} ${ip6:--} ${ports[*]}" >"$LAB_STATE/pods/$name"
	_lab_ip "$nodens" link add "$veth" type veth peer name eth0 netns "$ns" || return 1
	_lab_ip "$nodens" link set "$veth" master cni0 up || return 1
	if [[ -n $ip4 ]]; then
		_lab_ip "$ns" addr add "$ip4" dev eth0 || return 1
	fi
	if [[ -n $ip6 ]]; then
		_lab_ip "$ns" -6 addr add "$ip6" dev eth0 nodad || return 1
	fi
	_lab_ip "$ns" link set eth0 up || return 1
	if [[ -n $ip4 ]]; then
		_lab_ip "$ns" route add default via "$LAB_POD4_NET.$idx.1" || return 1
	fi
	if [[ -n $ip6 ]]; then
		_lab_ip "$ns" -6 route add default via "$LAB_POD6_NET:$idx::1" || return 1
	fi
	# As CNI plugins do: a re-created pod reusing an IP has a new MAC, and the
	# node and its pods must not keep sending to the old one.
	if ! ip netns exec "$ns" "$LAB_PYTHON" -S "$LAB_LIBDIR/probe.py" announce eth0 \
		${ip4:+"${ip4%/*}"} ${ip6:+"${ip6%/*}"}; then
		_lab_err "lab_pod $name: cannot announce its addresses"
		return 1
	fi
	if ((${#ports[@]} == 0)); then
		return 0
	fi
	pidf=$LAB_STATE/run/$name.pid
	log=$LAB_STATE/logs/pod-$name.log
	rm -f "$pidf"
	lab_spawn "$name" "$log" "$LAB_PYTHON" -S "$LAB_LIBDIR/podserve.py" \
		--pidfile "$pidf" --name "$name" "${ports[@]}" >/dev/null || return 1
	if ! _lab_wait_ports "$ns" 5 "${ports[@]}"; then
		_lab_err "lab_pod $name: podserve not listening on ${ports[*]} after 5 s; log:"
		tail -n 5 "$log" >&2 2>/dev/null || true
		return 1
	fi
}

# lab_pod_del NAME: kill the pod's processes and delete it (its veth goes
# with it), so the name and address can be reused.
lab_pod_del() {
	_lab_need || return 1
	local name=${1:-} ns
	if [[ ! -e $LAB_STATE/pods/$name ]]; then
		_lab_err "no pod '$name'"
		return 1
	fi
	ns=${LAB_PREFIX}p-$name
	_lab_kill_ns_procs "$ns" || return 1
	if _lab_ns_exists "$ns"; then
		ip netns del "$ns" || { _lab_err "cannot delete $ns"; return 1; }
	fi
	rm -f "$LAB_STATE/pods/$name" "$LAB_STATE/run/$name.pid"
}

# lab_pod_ip NAME [4|6]: print the pod's address (without length).
lab_pod_ip() {
	_lab_need || return 1
	local node ip4 ip6 rest
	if [[ ! -e $LAB_STATE/pods/${1:-} ]]; then
		_lab_err "no pod '${1:-}'"
		return 1
	fi
	read -r node ip4 ip6 rest <"$LAB_STATE/pods/$1"
	if [[ ${2:-4} == 6 ]]; then
		[[ $ip6 != - ]] && printf '%s\n' "${ip6%/*}"
	else
		[[ $ip4 != - ]] && printf '%s\n' "${ip4%/*}"
	fi
}

_lab_probe_cmd() { # prints nothing; sets _LAB_PY array
	_LAB_PY=("$LAB_PYTHON" -S "$LAB_LIBDIR/probe.py" --timeout "${LAB_PROBE_TIMEOUT:-1}")
}

# lab_probe FROM TO_IP PORT PROTO: one probe from lab namespace FROM; prints
# ok or fail; returns 0 ok, 1 fail, 2 usage error.
lab_probe() {
	local ns out rc
	if (($# != 4)); then
		_lab_err "usage: lab_probe FROM TO_IP PORT tcp|udp"
		return 2
	fi
	ns=$(lab_ns "$1") || return 2
	_lab_probe_cmd
	out=$(ip netns exec "$ns" "${_LAB_PY[@]}" "$4" "$2" "$3")
	rc=$?
	if ((rc > 1)); then
		return 2
	fi
	printf '%s\n' "$out"
	[[ $out == ok ]]
}

# lab_probe_matrix [-v] SPECFILE|-: lines "FROM TO_IP PORT PROTO" (# comments
# and blank lines skipped); prints "FROM TO_IP PORT PROTO ok|fail" in input
# order (-v appends the failure reason). One probe.py per source namespace,
# all sources in parallel, each probing its targets concurrently: the whole
# matrix takes about one probe timeout. Returns 0 when every probe ran
# (whatever the results), 2 on a bad spec.
lab_probe_matrix() {
	_lab_need || return 2
	local why='' spec tmp i from to port proto k rc=0 tag rest
	local -a froms=() pids=() srcs=() extra=()
	local -A lines=() idx=()
	if [[ ${1:-} == -v ]]; then
		why=1
		shift
	fi
	spec=${1:-}
	if [[ -z $spec ]]; then
		_lab_err "usage: lab_probe_matrix [-v] SPECFILE|-"
		return 2
	fi
	if [[ $spec == - ]]; then
		spec=/dev/stdin
	fi
	i=0
	while read -r from to port proto rest; do
		if [[ -z $from || $from == \#* ]]; then
			continue
		fi
		if [[ -z $proto ]]; then
			_lab_err "lab_probe_matrix: want 'FROM TO_IP PORT PROTO', got '$from $to $port'"
			return 2
		fi
		froms[i]=$from
		if [[ -z ${idx[$from]:-} ]]; then
			idx[$from]=${#srcs[@]}
			srcs+=("$from")
			lab_ns "$from" >/dev/null || return 2
		fi
		lines[$from]+="$i $to $port $proto"$'\n'
		i=$((i + 1))
	done <"$spec"
	if ((i == 0)); then
		return 0
	fi
	tmp=$(mktemp -d "$LAB_STATE/matrix.XXXXXX") || return 2
	_lab_probe_cmd
	if [[ -n $why ]]; then
		extra=(--why)
	fi
	for from in "${srcs[@]}"; do
		k=${idx[$from]}
		printf '%s' "${lines[$from]}" |
			ip netns exec "$(lab_ns "$from")" "${_LAB_PY[@]}" "${extra[@]}" batch --tagged >"$tmp/$k" &
		pids+=($!)
	done
	for k in "${pids[@]}"; do
		if wait "$k"; then
			continue
		elif (($? > 1)); then
			rc=2
		fi
	done
	if ((rc == 0)); then
		sort -n -k1,1 "$tmp"/* | while read -r tag rest; do
			printf '%s %s\n' "${froms[tag]}" "$rest"
		done
	else
		_lab_err "lab_probe_matrix: a probe batch failed"
	fi
	rm -rf "$tmp"
	return $rc
}

# lab_probe_watch FROM PROTO TO_IP PORT OUTFILE [INTERVAL [WATCH-OPTION...]]: start
# a continuous probe (probe.py watch) in FROM appending "time ok|fail" lines to
# OUTFILE; prints its pid. Stop it with kill PID (lab_cleanup does too).
lab_probe_watch() {
	local from=${1:-} proto=${2:-} ip=${3:-} port=${4:-} out=${5:-} iv=${6:-0.05}
	if [[ -z $out ]]; then
		_lab_err "usage: lab_probe_watch FROM PROTO TO_IP PORT OUTFILE [INTERVAL [OPTION...]]"
		return 1
	fi
	shift $(($# < 6 ? $# : 6))
	_lab_probe_cmd
	lab_spawn "$from" "$LAB_STATE/logs/watch.log" "${_LAB_PY[@]}" \
		watch "$proto" "$ip" "$port" --out "$out" --interval "$iv" "$@"
}

# Assertions for test scripts: lab_check DESC CMD... counts a pass when CMD
# succeeds; lab_check_matrix EXPECTFILE runs "FROM TO_IP PORT PROTO ok|fail"
# lines as one matrix and counts each line; lab_summary prints
# "N passed, M failed" and returns 1 if anything failed or nothing ran.
lab_check() {
	local desc=$1
	shift
	if "$@"; then
		LAB_PASSED=$((LAB_PASSED + 1))
		echo "PASS: $desc"
		return 0
	fi
	LAB_FAILED=$((LAB_FAILED + 1))
	echo "FAIL: $desc"
	return 1 # so `lab_check ... || exit` guards can stop a scenario early
}

lab_check_matrix() {
	_lab_need || return 1
	local exp=${1:-} got from to port proto want res why n=0 bad=0
	local -a wants=()
	if [[ ! -r $exp ]]; then
		_lab_err "lab_check_matrix: cannot read '$exp'"
		return 1
	fi
	while read -r from to port proto want; do
		if [[ -z $from || $from == \#* ]]; then
			continue
		fi
		wants+=("$from $to $port $proto $want")
	done <"$exp"
	got=$(printf '%s\n' "${wants[@]}" | lab_probe_matrix -v -) || {
		LAB_FAILED=$((LAB_FAILED + 1))
		echo "FAIL: matrix $exp did not run"
		return 1
	}
	while read -r from to port proto res why; do
		read -r _ _ _ _ want <<<"${wants[n]}"
		if [[ $res == "$want" ]]; then
			LAB_PASSED=$((LAB_PASSED + 1))
		else
			LAB_FAILED=$((LAB_FAILED + 1))
			bad=$((bad + 1))
			echo "FAIL: $from -> $to $port/$proto: want $want, got $res${why:+ ($why)}"
		fi
		n=$((n + 1))
	done <<<"$got"
	if ((n != ${#wants[@]})); then
		LAB_FAILED=$((LAB_FAILED + 1))
		echo "FAIL: matrix $exp: $n results for ${#wants[@]} probes"
		return 1
	fi
	echo "$( ((bad)) && echo FAIL || echo PASS): matrix ${exp##*/}: $((n - bad))/$n as expected"
	((bad == 0))
}

lab_summary() {
	echo "$LAB_PASSED passed, $LAB_FAILED failed"
	((LAB_FAILED == 0 && LAB_PASSED > 0))
}
