#!/usr/bin/env bash
# Captures real etcd v3 replies as fuzz seeds: a watch stream with puts and deletes of
# flannel leases, a range reply, and error bodies. etcd runs in a private network namespace
# (fzetcd-$$) on its loopback, removed on exit. Usage: bash Fuzz/seeds/capture-etcd.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ns=fzetcd-$$
dir=$(mktemp -d)
out=Fuzz/corpus
cleanup() {
  [ -n "${etcd_pid:-}" ] && kill "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }
in_ns etcd --data-dir "$dir/data" --listen-client-urls http://127.0.0.1:2379 \
  --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 >"$dir/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 50); do in_ns curl -s http://127.0.0.1:2379/health >/dev/null && break; sleep 0.1; done
b64() { printf %s "$1" | base64 -w0; }
api=http://127.0.0.1:2379/v3
prefix=/coreos.com/network/subnets/
range_end=$(b64 /coreos.com/network/subnets0)
in_ns curl -sN "$api/watch" -d "{\"create_request\":{\"key\":\"$(b64 $prefix)\",\"range_end\":\"$range_end\"}}" >"$dir/watch" &
watch_pid=$!
sleep 0.5
lease() { printf '{"PublicIP":"%s","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"%s"}}' "$1" "$2"; }
in_ns etcdctl --endpoints 127.0.0.1:2379 put ${prefix}10.244.1.0-24 "$(lease 192.168.1.2 aa:bb:cc:dd:ee:01)" >/dev/null
in_ns etcdctl --endpoints 127.0.0.1:2379 put "${prefix}10.244.2.0-24&fd00:10:244:2::-64" \
  '{"PublicIP":"192.168.1.3","PublicIPv6":"fd00::3","BackendType":"host-gw"}' >/dev/null
in_ns etcdctl --endpoints 127.0.0.1:2379 del ${prefix}10.244.1.0-24 >/dev/null
in_ns etcdctl --endpoints 127.0.0.1:2379 put /coreos.com/network/config \
  '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}' >/dev/null
put_op() { printf '{"request_put":{"key":"%s","value":"%s"}}' "$(b64 "$1")" "$(b64 "$2")"; }
# Two leases in one transaction: one watch message with two events.
in_ns curl -s "$api/kv/txn" -d "{\"success\":[$(put_op ${prefix}10.244.3.0-24 '{"PublicIP":"192.168.1.4","BackendType":"host-gw"}'),$(put_op ${prefix}10.244.4.0-24 '{"PublicIP":"192.168.1.5","BackendType":"host-gw"}')]}" >/dev/null
sleep 0.5
kill "$watch_pid"; wait "$watch_pid" 2>/dev/null || true
mkdir -p $out/etcd-watch $out/etcd-reply
# Each watch message is one line; a seed is the chunk-size byte then the body.
i=0
while IFS= read -r line; do
  i=$((i + 1)); { printf '\x07'; printf '%s\n' "$line"; } >$out/etcd-watch/etcd-$i
done <"$dir/watch"
{ printf '\x10'; cat "$dir/watch"; } >$out/etcd-watch/etcd-stream
in_ns curl -s "$api/kv/range" -d "{\"key\":\"$(b64 $prefix)\",\"range_end\":\"$range_end\"}" >$out/etcd-reply/range
in_ns curl -s "$api/kv/range" -d "{\"key\":\"$(b64 /coreos.com/network/config)\"}" >$out/etcd-reply/config
in_ns curl -s "$api/kv/range" -d '{"key":"not base64!"}' >$out/etcd-reply/bad-request
in_ns curl -s "$api/watch" -d '{"create_request":{"key":"AA==","start_revision":"1"}}' --max-time 1 >$out/etcd-reply/watch-created || true
in_ns curl -s "$api/kv/compaction" -d '{"revision":"1000"}' >$out/etcd-reply/compaction-future
in_ns curl -s "$api/auth/authenticate" -d '{"name":"root","password":"x"}' >$out/etcd-reply/auth-disabled
echo "captured $i watch messages; range, error and auth replies"
