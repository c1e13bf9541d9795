#!/bin/bash
# polygraph batched probe client.
#
# Runs every job it is given concurrently, from inside one source pod. TCP with netcat-openbsd,
# called by its full path (busybox sh would otherwise run its own `nc` applet, which has no -z):
# its non-blocking connect sees a reject that comes back at once, where bash's blocking /dev/tcp
# connect misses it (the kernel only notes an ICMP error that arrives while the socket is held,
# and the connection waits for its SYN to be sent again, a second later). UDP with bash's own
# /dev/udp socket: no program to start, so a UDP probe costs a fork, not an exec.
# Needs bash (with network redirections, as Debian builds it) and /usr/bin/nc (netcat-openbsd):
# present in registry.k8s.io/e2e-test-images/agnhost and in the lab's polygraph.local/probe image.
#
# Usage:  bash probe.sh JOB...          or   bash probe.sh < jobs
#         bash -c "$(cat probe.sh)" probe.sh JOB...   (when the script is not in the image)
#         bash probe.sh --session        (a probe session: rounds of jobs on stdin, see below)
#         bash probe.sh --hold           (held connections: commands on stdin, see below)
# JOB:    "<id>,<host>,<port>,<TCP|UDP>,<timeout-seconds>"   (on stdin: one per line, commas or
#         blanks between fields). <id> is any token without blanks or commas, echoed back.
#
# Output: one tab-separated line per job, in completion order, then a DONE line:
#   PROBE <id> <outcome> <elapsed-ms> <detail>
#   DONE  <number of jobs>
#
# Session mode (one long-lived exec per source pod, reused for every round): prints READY, then
# reads one round per line, "ROUND <token> JOB...", runs the round's jobs concurrently and
# answers with their PROBE lines and "END <token> <number of jobs>"; the next round is read only
# after that. A line that is not a round is answered "ERROR <what was read>". Ends at the end of
# its input.
#
# Hold mode (held connections of a step, opened before its actions and tested after them):
# prints READY, then reads one command per line and answers each with one line:
#   OPEN <id> <host> <port> <TCP|UDP> <timeout>  →  HELD <id> open|probe-error <ms> <detail>
#   TEST <id> <timeout>                          →  HELD <id> open|reset|dropped|probe-error <ms> <detail>
# OPEN connects and makes one exchange on the new connection (a hold that cannot even open is a
# probe-error); TEST makes one more exchange on the same connection. TCP: one HTTP/1.1 request on
# a keep-alive connection (the destination serves HTTP on that port: agnhost serve-hostname in
# HTTP mode); the response → open; a reset or a broken pipe or the peer closing it → reset;
# nothing within the timeout → dropped. UDP: one datagram from the same socket (the same
# conntrack entry); a reply → open; an error on the socket (an ICMP unreachable) → reset; no
# reply → dropped. Connections end with the client, at the end of its input.
#
# <outcome> is one of
#   allowed      TCP: connected. UDP: the server's reply arrived.
#   refused      actively rejected: TCP "Connection refused" or an ICMP unreachable; UDP: no reply,
#                and the socket reported an error well before the timeout (an ICMP unreachable).
#   dropped      nothing came back before the timeout (UDP: to any of the datagrams planned for
#                the timeout, one per UDP_RESEND_US; a probe short of CPU sends them all, within
#                twice the timeout).
#   probe-error  the probe itself failed (a bad job, a local error); the detail says why.
set -u
NC=/usr/bin/nc
# A UDP probe sends its datagram again after this long without a reply (microseconds).
UDP_RESEND_US=250000

now_us() { local t=${EPOCHREALTIME//[.,]/}; echo "$t"; }

emit() { # id outcome elapsed_ms detail
  local detail=${4//[$'\t\r\n']/ }
  printf 'PROBE\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${detail:0:200}"
}

probe_one() {
  local id=$1 host=$2 port=$3 proto=$4 timeout=$5
  if [[ ! $port =~ ^[0-9]+$ || ! $timeout =~ ^[0-9]+$ || $timeout -lt 1 ]]; then
    emit "$id" probe-error 0 "invalid job: port '$port' timeout '$timeout'"
    return
  fi
  local numeric=()
  [[ $host =~ ^[0-9.]+$ || $host == *:* ]] && numeric=(-n)
  local start end elapsed out rc
  start=${EPOCHREALTIME//[.,]/}
  case $proto in
    TCP | tcp)
      out=$("$NC" -v "${numeric[@]}" -z -w "$timeout" "$host" "$port" 2>&1)
      rc=$?
      end=${EPOCHREALTIME//[.,]/}
      elapsed=$(((end - start) / 1000))
      if [[ $rc -eq 0 ]]; then
        emit "$id" allowed "$elapsed" "connected"
      elif [[ $out == *"refused"* ]]; then
        emit "$id" refused "$elapsed" "$out"
      elif [[ $out == *"unreachable"* || $out == *"No route to host"* ]]; then
        emit "$id" refused "$elapsed" "$out"
      elif [[ $out == *"timed out"* || $elapsed -ge $((timeout * 1000 - 100)) ]]; then
        emit "$id" dropped "$elapsed" "no answer within ${timeout}s"
      else
        emit "$id" probe-error "$elapsed" "nc exit $rc: $out"
      fi
      ;;
    UDP | udp)
      # bash's own UDP socket, no process started: a datagram to the port; a reply proves
      # delivery. One byte of it is enough (bash reads one byte at a time from a socket, which
      # takes the whole datagram), so the probe ends as soon as the reply arrives. The datagram
      # is sent again every UDP_RESEND_US from the same socket (one conntrack entry), as TCP sends
      # its SYN again: one datagram or reply lost on a busy node is not a denial.
      # "No reply" means every planned datagram (one per UDP_RESEND_US of the timeout) went
      # unanswered: a probe short of CPU, which sent fewer by the timeout, goes on sending until
      # it has sent them all or twice the timeout has passed.
      if ! { exec 3<>"/dev/udp/$host/$port"; } 2>/dev/null; then
        emit "$id" probe-error 0 "could not open a UDP socket to $host:$port"
        return
      fi
      local sent=0 limit=$((start + timeout * 1000000)) hard=$((start + 2 * timeout * 1000000))
      local planned=$((timeout * 1000000 / UDP_RESEND_US)) left slice wait
      while :; do
        if ! { printf 'polygraph\n' >&3; } 2>/dev/null; then
          # A send fails once the socket holds an error: an ICMP unreachable for an earlier one.
          end=${EPOCHREALTIME//[.,]/}
          exec 3>&-
          if [[ $sent -gt 0 ]]; then
            emit "$id" refused $(((end - start) / 1000)) "no reply; the socket reported an error (an ICMP unreachable)"
          else
            emit "$id" probe-error $(((end - start) / 1000)) "could not send to $host:$port"
          fi
          return
        fi
        sent=$((sent + 1))
        end=${EPOCHREALTIME//[.,]/}
        if [[ $end -ge $limit ]]; then
          [[ $sent -ge $planned || $end -ge $hard ]] && { rc=142; break; }
          left=$((hard - end)) # short of CPU: one more datagram's wait, within twice the timeout
        else
          left=$((limit - end))
        fi
        slice=$((left < UDP_RESEND_US ? left : UDP_RESEND_US))
        printf -v wait '%d.%06d' $((slice / 1000000)) $((slice % 1000000))
        read -r -t "$wait" -N 1 _ <&3 2>/dev/null
        rc=$?
        [[ $rc -le 128 ]] && break # a reply (0) or an error on the socket
        end=${EPOCHREALTIME//[.,]/}
        [[ $end -ge $limit && ($sent -ge $planned || $end -ge $hard) ]] && break
      done
      # A reply that came while the probe had no CPU to read it is still a reply.
      if [[ $rc -gt 128 ]]; then
        read -r -t 0.001 -N 1 _ <&3 2>/dev/null
        rc=$?
      fi
      end=${EPOCHREALTIME//[.,]/}
      elapsed=$(((end - start) / 1000))
      exec 3>&-
      if [[ $rc -eq 0 ]]; then
        emit "$id" allowed "$elapsed" "a reply arrived$([[ $sent -gt 1 ]] && echo " (datagram $sent)")"
      elif [[ $rc -gt 128 ]]; then
        emit "$id" dropped "$elapsed" "no reply within ${timeout}s ($sent datagrams$([[ $end -gt $((limit + UDP_RESEND_US)) ]] && echo ", over ${elapsed} ms: the probe was short of CPU"))"
      else
        emit "$id" refused "$elapsed" "no reply; the socket reported an error (an ICMP unreachable)"
      fi
      ;;
    *)
      emit "$id" probe-error 0 "unsupported protocol '$proto' (TCP or UDP)"
      ;;
  esac
}

# Runs every job of its arguments concurrently and waits for all of them; sets COUNT.
run_jobs() {
  local job id host port proto timeout extra
  COUNT=0
  for job in "$@"; do
    read -r id host port proto timeout extra <<<"${job//,/ }"
    COUNT=$((COUNT + 1))
    if [[ -z ${timeout:-} || -n ${extra:-} ]]; then
      emit "${id:-?}" probe-error 0 "invalid job '$job': want id,host,port,protocol,timeout"
      continue
    fi
    probe_one "$id" "$host" "$port" "$proto" "$timeout" </dev/null &
  done
  wait
}

# One exchange on held connection fd $1 (TCP: an HTTP request and its whole response; UDP: a
# datagram and its reply), within $3 seconds. Run in a subshell with stderr on stdout: prints
# "open|reset|dropped <detail>".
exchange() {
  local fd=$1 proto=$2 timeout=$3 line length=0 err
  # Whatever already waits on the connection is not this exchange's answer: discard it first.
  while read -r -t 0 <&"$fd" 2>/dev/null; do read -r -N 1 -t 1 line <&"$fd" 2>/dev/null || break; done
  if [[ $proto == UDP ]]; then
    if ! err=$({ printf 'polygraph\n' >&"$fd"; } 2>&1); then
      echo "reset could not send: ${err##*: }"
      return
    fi
    local start=${EPOCHREALTIME//[.,]/}
    read -r -t "$timeout" -N 1 line <&"$fd" 2>/dev/null
    local rc=$? end=${EPOCHREALTIME//[.,]/}
    if [[ $rc -eq 0 ]]; then
      echo "open a reply arrived"
    elif [[ $rc -gt 128 || $(((end - start) / 1000)) -ge $((timeout * 800)) ]]; then
      echo "dropped no reply within ${timeout}s"
    else
      echo "reset no reply; the socket reported an error (an ICMP unreachable)"
    fi
    return
  fi
  if ! err=$({ printf 'GET / HTTP/1.1\r\nHost: polygraph\r\n\r\n' >&"$fd"; } 2>&1); then
    echo "reset could not send: ${err##*: }"
    return
  fi
  err=$({ IFS= read -r -t "$timeout" line <&"$fd" && printf 'LINE%s' "$line"; } 2>&1)
  local rc=$?
  if [[ $rc -gt 128 ]]; then
    echo "dropped no response within ${timeout}s"
    return
  fi
  if [[ $rc -ne 0 ]]; then
    if [[ -n $err ]]; then echo "reset ${err##*: }"; else echo "reset the peer closed the connection"; fi
    return
  fi
  if [[ $err != LINEHTTP/* ]]; then
    echo "probe-error not an HTTP response: ${err#LINE}"
    return
  fi
  while IFS= read -r -t "$timeout" line <&"$fd"; do
    line=${line%$'\r'}
    [[ -z $line ]] && break
    [[ ${line,,} == content-length:* ]] && length=${line#*: }
  done
  [[ $length =~ ^[0-9]+$ && $length -gt 0 ]] && read -r -t "$timeout" -N "$length" _ <&"$fd"
  echo "open a response arrived"
}

if [[ ${1:-} == --hold ]]; then
  trap '' PIPE
  declare -A HOLD_FD HOLD_PROTO
  held() { # id outcome start detail
    local end=${EPOCHREALTIME//[.,]/} detail=${4//[$'\t\r\n']/ }
    printf 'HELD\t%s\t%s\t%s\t%s\n' "$1" "$2" $(((end - $3) / 1000)) "${detail:0:200}"
  }
  printf 'READY\n'
  while IFS= read -r line; do
    read -r cmd id host port proto timeout extra <<<"$line"
    start=${EPOCHREALTIME//[.,]/}
    case ${cmd:-} in
      OPEN)
        if [[ -z ${timeout:-} || -n ${extra:-} || ! $port =~ ^[0-9]+$ || ! $timeout =~ ^[0-9]+$ ]]; then
          held "${id:-?}" probe-error "$start" "invalid OPEN '$line'"
          continue
        fi
        proto=${proto^^}
        if [[ $proto == TCP ]]; then
          # bash's blocking connect waits out a dropped SYN for minutes: netcat, bounded, first.
          if ! out=$("$NC" -n -z -w "$timeout" "$host" "$port" 2>&1); then
            held "$id" probe-error "$start" "could not open: ${out:-no connection within ${timeout}s}"
            continue
          fi
        elif [[ $proto != UDP ]]; then
          held "$id" probe-error "$start" "unsupported protocol '$proto' (TCP or UDP)"
          continue
        fi
        if ! { exec {fd}<>"/dev/${proto,,}/$host/$port"; } 2>/dev/null; then
          held "$id" probe-error "$start" "could not open a $proto socket to $host:$port"
          continue
        fi
        HOLD_FD[$id]=$fd
        HOLD_PROTO[$id]=$proto
        result=$(exchange "$fd" "$proto" "$timeout" 2>&1)
        if [[ $result == open* ]]; then
          held "$id" open "$start" "opened; ${result#open }"
        else
          held "$id" probe-error "$start" "opened, but the first exchange failed: $result"
        fi
        ;;
      TEST)
        timeout=$host
        if [[ -z ${HOLD_FD[$id]:-} || ! ${timeout:-} =~ ^[0-9]+$ ]]; then
          held "${id:-?}" probe-error "$start" "invalid TEST '$line' (no such held connection?)"
          continue
        fi
        result=$(exchange "${HOLD_FD[$id]}" "${HOLD_PROTO[$id]}" "$timeout" 2>&1)
        case ${result%% *} in
          open | reset | dropped | probe-error) held "$id" "${result%% *}" "$start" "${result#* }" ;;
          *) held "$id" probe-error "$start" "the exchange failed: $result" ;;
        esac
        ;;
      *)
        line=${line//[$'\t\r']/ }
        printf 'ERROR\t%s\n' "${line:0:200}"
        ;;
    esac
  done
  exit 0
fi

if [[ ${1:-} == --session ]]; then
  printf 'READY\n'
  while IFS= read -r line; do
    read -r -a words <<<"$line"
    if [[ ${words[0]:-} != ROUND || -z ${words[1]:-} ]]; then
      line=${line//[$'\t\r']/ }
      printf 'ERROR\t%s\n' "${line:0:200}"
      continue
    fi
    run_jobs "${words[@]:2}"
    printf 'END\t%s\t%d\n' "${words[1]}" "$COUNT"
  done
  exit 0
fi

jobs_in=()
if [[ $# -gt 0 ]]; then
  jobs_in=("$@")
else
  while IFS= read -r line || [[ -n $line ]]; do
    [[ -n ${line//[[:space:]]/} ]] && jobs_in+=("$line")
  done
fi

run_jobs "${jobs_in[@]}"
printf 'DONE\t%d\n' "$COUNT"
