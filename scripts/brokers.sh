#!/usr/bin/env bash
# Makes sure the brokers the publisher tests talk to answer on loopback: Redis (6379),
# RabbitMQ (5672, guest/guest) and NATS with JetStream (4222). Installs Debian's package
# of a broker that is missing and starts each one that is down. Idempotent.
set -euo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_up() {
  for _ in $(seq 1 60); do up "$1" && return 0; sleep 1; done
  echo "brokers.sh: $2 did not come up on port $1" >&2
  return 1
}

need() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] && return 0
  echo "brokers.sh: installing $2" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

if ! up 6379; then
  need redis-server redis-server
  redis-server --daemonize yes --port 6379 --save "" --appendonly no >/dev/null
  wait_up 6379 Redis
fi
if ! up 5672; then
  need rabbitmq-server rabbitmq-server
  rabbitmq-server -detached
  wait_up 5672 RabbitMQ
fi
if ! up 4222; then
  need nats-server nats-server
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server
  wait_up 4222 NATS
fi
