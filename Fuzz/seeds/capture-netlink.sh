#!/usr/bin/env bash
# Captures real kernel netlink dumps as fuzz seeds, in a private network namespace
# (fznl-$$, removed on exit) with one of each kind of object. Usage: bash Fuzz/seeds/capture-netlink.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ns=fznl-$$
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns add "$ns"
n() { ip -n "$ns" "$@"; }
n link set lo up
# This kernel may lack bridge VLAN filtering; the VLAN seeds are then skipped.
n link add br0 type bridge
vlans=1; n link set br0 type bridge vlan_filtering 1 2>/dev/null || vlans=0
n link add veth0 type veth peer name veth1
n link set veth0 master br0
n link set br0 up; n link set veth0 up; n link set veth1 up
# A veth stands in for an underlay NIC (no dummy module needed).
n link add dummy0 type veth peer name dummy1; n link set dummy0 up; n link set dummy1 up
n addr add 192.168.77.1/24 dev dummy0
n addr add fd00:77::1/64 dev dummy0 nodad
n link add vxlan1 type vxlan id 1 local 192.168.77.1 dev dummy0 dstport 8472 nolearning
n link set vxlan1 up
n addr add 10.244.0.0/32 dev vxlan1
n addr add 10.22.0.1/16 dev br0
if [ $vlans = 1 ]; then
  ip netns exec "$ns" bridge vlan add vid 10-20 dev veth0
  ip netns exec "$ns" bridge vlan add vid 30 dev veth0 pvid untagged
fi
n route add 10.244.1.0/24 via 10.244.1.0 dev vxlan1 onlink
n route add 10.99.0.0/16 via 192.168.77.2 metric 50 mtu 1400
n route add fd00:99::/64 via fd00:77::2 dev dummy0
n neigh add 10.244.1.0 lladdr aa:bb:cc:dd:ee:01 dev vxlan1 nud permanent
ip netns exec "$ns" bridge fdb add aa:bb:cc:dd:ee:01 dev vxlan1 dst 192.168.77.2 self permanent
ip netns exec "$ns" python3 Fuzz/seeds/capture-netlink.py Fuzz/corpus/netlink
ls Fuzz/corpus/netlink | wc -l
