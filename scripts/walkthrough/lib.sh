# Sourced by every walk-through, and by you to type a walk-through's lines
# yourself: from the repository's root, `source scripts/walkthrough/lib.sh`.
# It changes no shell option and starts nothing.
#
#   B      the local stack         http://127.0.0.1:$PORT              (PORT, 3000)
#   AUDIO  the audio socket (HTTP) http://127.0.0.1:$AUDIO_PORT        (AUDIO_PORT, 3001)
#   FAKE   the fake providers      http://127.0.0.1:$FAKE_PROVIDERS_PORT (3002; make run FAKE_PROVIDERS=1)
#   MOTO   the emulator            http://127.0.0.1:$MOTO_PORT         (MOTO_PORT, 3003 under make run)
#   PY     the project's Python    .venv/bin/python (make run installs it)
#
#   wait_ready [URL...]         until each URL ($B/numbers) answers 200; fails
#                               after READY_TIMEOUT seconds (120) naming the URL
#   json FIELD                  a field of the JSON on stdin: id, participants.1.proxy_number
#   expect TEXT PART...         fails unless TEXT holds every PART (shown with numbers masked)
#   eventually SECONDS CMD...   runs CMD until it succeeds; fails after SECONDS
#   fresh_pool                  fails unless the stack's pool is empty (a new `make run`)
#   ok STEP                     says a step passed

B=${B:-http://127.0.0.1:${PORT:-3000}}
AUDIO=${AUDIO:-http://127.0.0.1:${AUDIO_PORT:-3001}}
FAKE=${FAKE:-http://127.0.0.1:${FAKE_PROVIDERS_PORT:-3002}}
MOTO=${MOTO:-http://127.0.0.1:${MOTO_PORT:-3003}}
WALKTHROUGH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=${PY:-$WALKTHROUGH_ROOT/.venv/bin/python}

# Runs of eight or more digits keep their last four: no phone number is
# printed whole, not even a fictional one.
mask() {
    sed -E 's/[0-9]{4,}([0-9]{4})/****\1/g'
}

fail() {
    echo "walk-through FAILED: $*" >&2
    return 1
}

wait_ready() {
    local seconds=${READY_TIMEOUT:-120} url
    local deadline=$((SECONDS + seconds))
    for url in "${@:-$B/numbers}"; do
        until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url") == 200 ]]; do
            if ((SECONDS >= deadline)); then
                fail "$url did not answer 200 within ${seconds}s: is \`make run\` running (and done building), on this port?"
                return 1
            fi
            sleep 0.2
        done
    done
}

json() {
    "$PY" -c '
import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
print(value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
' "$1"
}

expect() {
    local text=$1 part
    shift
    for part in "$@"; do
        if [[ $text != *"$part"* ]]; then
            fail "expected $(mask <<<"$part")"
            echo "  in: $(mask <<<"$text")" >&2
            return 1
        fi
    done
}

eventually() {
    local seconds=$1
    shift
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if ((SECONDS >= deadline)); then
            fail "not true within ${seconds}s: $(mask <<<"$*")"
            return 1
        fi
        sleep 0.2
    done
}

fresh_pool() {
    local numbers
    numbers=$(curl -s "$B/numbers")
    [[ $numbers == '{"numbers":[]}' ]] ||
        fail "the pool is not empty: each walk-through starts on a fresh stack (stop \`make run\` and start it again; its emulator keeps nothing)"
}

ok() {
    echo "ok  $*"
}
