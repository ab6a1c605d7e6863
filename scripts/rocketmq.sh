#!/usr/bin/env bash
# Makes sure a RocketMQ name server (127.0.0.1:9876) and broker (127.0.0.1:10911) answer on
# loopback for the RocketMQ publisher's tests: installs the rocketmq-rust name server and
# broker from crates.io when missing (10-20 min on two cores), starts each one that is
# down, and waits until a broker it started registered with the name server. The tests
# create their topics and wait for each one's route themselves. Idempotent.
#   scripts/rocketmq.sh              start what is down
#   scripts/rocketmq.sh stop-broker  stop the broker this script started (tests restart it)
#   scripts/rocketmq.sh auth         the same for a second name server (127.0.0.1:19876) and
#                                    broker (127.0.0.1:20911) that check ACL keys on every
#                                    request: one user, taskcenter / taskcenter-secret-1
set -euo pipefail

AUTH=false
if [ "${1:-}" = auth ]; then
  AUTH=true
  shift
fi

ROOT="${TASKCENTER_ROCKETMQ_ROOT:-$HOME/.cache/taskcenter/rocketmq}"
BIN="$ROOT/bin"
HOME_DIR="$ROOT/home"
$AUTH && HOME_DIR="$ROOT/auth-home"
# The broker's message store. This broker refuses every write once its disk is 90 % used
# (total minus what is available to users) and accepts them again only under 85 %; a test
# machine full of build output reaches that while the tests run. A RAM disk, where there is
# one, keeps its few MB of test messages away from that: they survive a broker restart,
# which is all the tests need.
if [ -z "${TASKCENTER_ROCKETMQ_STORE:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  TASKCENTER_ROCKETMQ_STORE=/dev/shm/taskcenter-rocketmq-store
fi
STORE_DIR="${TASKCENTER_ROCKETMQ_STORE:-$HOME_DIR/store}"
NAMESRV_PORT=9876
BROKER_PORT=10911
BROKER_NAME=taskcenter-broker
CLUSTER=DefaultCluster
AUTH_TOML=""
if $AUTH; then
  STORE_DIR="$STORE_DIR-auth"
  NAMESRV_PORT=19876
  BROKER_PORT=20911
  BROKER_NAME=taskcenter-auth-broker
  CLUSTER=AuthCluster
  # authenticationEnabled: every request must carry an access key and a signature of it
  # with the user's secret key; authorizationEnabled: and the user may do what it asks (this
  # one, seeded as a super user, may do everything). The user is created once, when absent
  # from authConfigPath, which a fresh start empties so that these keys are the only ones.
  AUTH_TOML='authenticationEnabled = true
authorizationEnabled = true
authConfigPath = "'"$HOME_DIR/auth"'"
initAuthenticationUser = "taskcenter:taskcenter-secret-1"
innerClientAuthenticationCredentials = '"'"'{"accessKey":"taskcenter","secretKey":"taskcenter-secret-1"}'"'"
fi

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_up() {
  for _ in $(seq 1 120); do up "$1" && return 0; sleep 0.5; done
  echo "rocketmq.sh: $2 did not come up on port $1 (log: $HOME_DIR/$3.log)" >&2
  return 1
}

if [ "${1:-}" = stop-broker ]; then
  if [ -f "$HOME_DIR/broker.pid" ]; then
    pid="$(cat "$HOME_DIR/broker.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$HOME_DIR/broker.pid"
  fi
  exit 0
fi

if [ ! -x "$BIN/rocketmq-namesrv-rust" ] || [ ! -x "$BIN/rocketmq-broker-rust" ]; then
  echo "rocketmq.sh: installing the rocketmq-rust name server and broker into $ROOT" >&2
  cargo install --locked rocketmq-namesrv@1.0.0 rocketmq-broker@1.0.0 --root "$ROOT"
fi

mkdir -p "$HOME_DIR" "$STORE_DIR"
export ROCKETMQ_HOME="$HOME_DIR"
export ROCKETMQ_SECURITY_PROFILE=development-insecure-loopback

if ! up "$NAMESRV_PORT"; then
  setsid nohup "$BIN/rocketmq-namesrv-rust" --bindAddress 127.0.0.1 --listenPort "$NAMESRV_PORT" \
    >"$HOME_DIR/namesrv.log" 2>&1 </dev/null &
  echo $! >"$HOME_DIR/namesrv.pid"
  wait_up "$NAMESRV_PORT" "the RocketMQ name server" namesrv
fi

# A small store (69 MB on disk instead of 1.5 GB); topics are created when first sent to.
cat >"$HOME_DIR/broker.toml" <<TOML
[broker]
listenPort = $BROKER_PORT
brokerIp1 = "127.0.0.1"
namesrvAddr = "127.0.0.1:$NAMESRV_PORT"
storePathRootDir = "$STORE_DIR"
autoCreateTopicEnable = true
$AUTH_TOML

[broker.brokerIdentity]
brokerName = "$BROKER_NAME"
brokerClusterName = "$CLUSTER"
brokerId = 0

[broker.brokerServerConfig]
bindAddress = "127.0.0.1"

[store]
storePathRootDir = "$STORE_DIR"
haListenAddress = "127.0.0.1"
haListenPort = $((BROKER_PORT + 1))
mappedFileSizeCommitLog = 67108864
maxHashSlotNum = 50000
maxIndexNum = 200000
TOML

if ! up "$BROKER_PORT"; then
  $AUTH && rm -rf "$HOME_DIR/auth"
  setsid nohup "$BIN/rocketmq-broker-rust" -c "$HOME_DIR/broker.toml" -n "127.0.0.1:$NAMESRV_PORT" \
    >"$HOME_DIR/broker.log" 2>&1 </dev/null &
  echo $! >"$HOME_DIR/broker.pid"
  wait_up "$BROKER_PORT" "the RocketMQ broker" broker
  # Routes exist once the broker registered with the name server, which it does when it
  # starts and every 30 s after (a name server started later waits up to 30 s for it).
  for _ in $(seq 1 120); do
    grep -q "Register broker to name" "$HOME_DIR/broker.log" && break
    sleep 0.5
  done
fi
