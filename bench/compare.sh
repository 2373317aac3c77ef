#!/usr/bin/env bash
# Side-by-side comparison of Tern with nats-server / JetStream / RabbitMQ on this machine, in one run.
#   bench/compare.sh --workloads W1,W2,W3 --targets tern,nats --runs 3
#   bench/compare.sh --workloads W4 --targets nats,rabbitmq
#   bench/compare.sh --help
# Builds tern-peers (profile "peers", not in the default reactor; other modules' tests are not compiled), installs missing peers from Debian's
# packages, then runs tern.peers.Compare in one client JVM. Extra JVM options for that client JVM:
# TERN_PEERS_JAVA_OPTS (default "-Xms1g -Xmx1g -XX:+AlwaysPreTouch"). MAVEN_OPTS/-o: set TERN_PEERS_MVN_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."

targets="tern,nats"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --targets) targets="${args[$((i + 1))]:-}" ;;
    --targets=*) targets="${args[$i]#--targets=}" ;;
  esac
done

need=()
[[ ",$targets," == *",nats,"* ]] && ! command -v nats-server >/dev/null 2>&1 && need+=(nats-server)
[[ ",$targets," == *",rabbitmq,"* ]] && [[ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] && need+=(rabbitmq-server)
if ((${#need[@]})); then
  echo "# installing ${need[*]} from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >&2
  # The package may start a system rabbitmq node; the harness starts its own on free ports, so stop it.
  if [[ " ${need[*]} " == *" rabbitmq-server "* ]] && command -v service >/dev/null 2>&1; then
    service rabbitmq-server stop >/dev/null 2>&1 || true
  fi
fi

# shellcheck disable=SC2086
mvn -B -q ${TERN_PEERS_MVN_ARGS:-} -Ppeers -pl tern-peers -am package -Dmaven.test.skip=true >&2

# Run from a private copy of this tree's jars: other work in the same tree may rebuild them in place,
# which would break the client JVM or the child Tern broker while they still load classes.
run_dir="$(mktemp -d "${TMPDIR:-/tmp}/tern-peers-cp.XXXXXX")"
trap 'rm -rf "$run_dir"' EXIT
cp -r tern-peers/target/classes "$run_dir/tern-peers-classes"
cp="$run_dir/tern-peers-classes"
IFS=":" read -r -a entries <"tern-peers/target/classpath.txt" || true  # no trailing newline
for e in "${entries[@]}"; do
  if [[ "$e" == "$PWD"/* ]]; then
    cp "$e" "$run_dir/" && e="$run_dir/$(basename "$e")"
  fi
  cp="$cp:$e"
done
echo "# command: bench/compare.sh $*" >&2
# shellcheck disable=SC2086
java ${TERN_PEERS_JAVA_OPTS:--Xms1g -Xmx1g -XX:+AlwaysPreTouch} -cp "$cp" tern.peers.Compare "$@"
