#!/usr/bin/env bash
# The core library as an outside project sees it: `cmake --install` a build
# into a temporary prefix, then build and run the examples against the
# installed tree only, with plain pkg-config (shared and --static), a C++
# compiler, and a CMake project that uses find_package(admit-core).  Then
# moves the whole prefix elsewhere and does it all again: the .pc file and
# the CMake package must not remember where they were installed.
#
# Usage: tests/install_test.sh [BUILD_DIR]   (default: build)
# Uses cc, c++, pkg-config, cmake, readelf, ldd, valgrind (scripts/setup.sh
# installs them); non-zero exit on any failure.
set -Eeuo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
CC=${CC:-cc}
CXX=${CXX:-c++}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'echo "install test: FAILED (line $LINENO: $BASH_COMMAND)" >&2' ERR

say() { echo "install test: $*" >&2; }
fail() {
    echo "install test: FAILED: $*" >&2
    exit 1
}

# Runs an example; it must exit 0 and end with its "nothing left" summary.
run_example() {
    local exe=$1 log=$2
    "$exe" >"$log" 2>&1 || { cat "$log" >&2; fail "$exe exited non-zero"; }
    grep -q "left: .*0 task leases, 0 request leases, 0 request waiters" "$log" ||
        { cat "$log" >&2; fail "$exe: no clean final snapshot"; }
    grep -q "task_lease_released" "$log" && grep -q "request_lease_released" "$log" ||
        { cat "$log" >&2; fail "$exe printed no lease releases"; }
}

# The same under valgrind: no invalid access, no leak.
run_valgrind() {
    local exe=$1 log=$2
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$exe" >"$log" 2>&1 || { cat "$log" >&2; fail "valgrind $exe"; }
}

# Whether a binary asks for libadmit-core.so.  (Output is captured before
# grep: `cmd | grep -q` fails under pipefail when grep exits before cmd.)
needs_shared() {
    local dyn
    dyn=$(readelf -d "$1")
    grep -q 'NEEDED.*libadmit-core\.so' <<<"$dyn"
}

check_prefix() {
    local prefix=$1 out=$2 lib pcdir
    mkdir -p "$out"
    pcdir=$(dirname "$(find "$prefix" -name admit-core.pc -print -quit)")
    [ -f "$pcdir/admit-core.pc" ] || fail "no admit-core.pc under $prefix"
    lib=$(cd "$pcdir/.." && pwd)
    export PKG_CONFIG_PATH=$pcdir
    local cflags libs slibs
    cflags=$(pkg-config --cflags admit-core)
    libs=$(pkg-config --libs admit-core)
    slibs=$(pkg-config --static --libs admit-core)
    say "pkg-config --cflags --libs admit-core: $cflags $libs"
    say "pkg-config --static --libs admit-core: $slibs"
    [ "$(cd "$(pkg-config --variable=prefix admit-core)" && pwd)" = "$(cd "$prefix" && pwd)" ] ||
        fail "admit-core.pc prefix $(pkg-config --variable=prefix admit-core) is not $prefix"
    case " $slibs " in *" -lm "*) ;; *) fail "--static --libs lacks -lm: $slibs" ;; esac
    case " $slibs " in *" -pthread "*) ;; *) fail "--static --libs lacks -pthread: $slibs" ;; esac

    # Plain pkg-config, shared library: must load the installed copy.
    "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror "$src/examples/embed.c" $cflags $libs \
        -o "$out/embed_shared"
    needs_shared "$out/embed_shared" || fail "embed_shared does not use libadmit-core.so"
    local loaded
    loaded=$(LD_LIBRARY_PATH=$lib ldd "$out/embed_shared")
    grep -q "libadmit-core.so.* => $lib/" <<<"$loaded" ||
        fail "embed_shared does not load $lib/libadmit-core.so: $loaded"
    LD_LIBRARY_PATH=$lib run_example "$out/embed_shared" "$out/embed_shared.log"
    LD_LIBRARY_PATH=$lib run_valgrind "$out/embed_shared" "$out/embed_shared.valgrind.log"
    say "C example, pkg-config shared (and under valgrind): ok ($(tail -n 1 "$out/embed_shared.log"))"

    # pkg-config --static: a static binary, no libadmit-core.so needed.
    "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror "$src/examples/embed.c" \
        $(pkg-config --static --cflags admit-core) $slibs -static -o "$out/embed_static"
    ! needs_shared "$out/embed_static" || fail "embed_static needs libadmit-core.so"
    run_example "$out/embed_static" "$out/embed_static.log"
    say "C example, pkg-config --static: ok"

    # The C++ example with a C++ compiler.
    "$CXX" -std=c++17 -Wall -Wextra -Wpedantic -Werror "$src/examples/embed.cpp" $cflags $libs \
        -pthread -o "$out/embed_cpp"
    LD_LIBRARY_PATH=$lib run_example "$out/embed_cpp" "$out/embed_cpp.log"
    LD_LIBRARY_PATH=$lib run_valgrind "$out/embed_cpp" "$out/embed_cpp.valgrind.log"
    say "C++ example, pkg-config shared (and under valgrind): ok ($(tail -n 1 "$out/embed_cpp.log"))"

    # A CMake project: find_package(admit-core) through CMAKE_PREFIX_PATH only.
    unset PKG_CONFIG_PATH
    cmake -S "$src/examples" -B "$out/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" >"$out/cmake.log" 2>&1 ||
        { cat "$out/cmake.log" >&2; fail "examples: cmake configure failed"; }
    grep -qF "admit-core 0.1.0 from $prefix/" "$out/cmake.log" ||
        { cat "$out/cmake.log" >&2; fail "find_package(admit-core) did not find $prefix"; }
    cmake --build "$out/cmake" >"$out/cmake-build.log" 2>&1 ||
        { cat "$out/cmake-build.log" >&2; fail "examples: cmake build failed"; }
    needs_shared "$out/cmake/embed" || fail "cmake embed does not use libadmit-core.so"
    ! needs_shared "$out/cmake/embed_static" || fail "cmake embed_static needs libadmit-core.so"
    for exe in embed embed_static embed_cpp; do
        run_example "$out/cmake/$exe" "$out/cmake-$exe.log"
    done
    say "CMake find_package(admit-core): embed, embed_static, embed_cpp ok"
    check_live "$prefix" "$out"
}

# The live layer: examples/live.c built with `pkg-config admit-live
# admit-core` against the installed tree, run against the installed
# admitsim's mock provider on a loopback port.
check_live() {
    local prefix=$1 out=$2 pcdir lib port mockpid
    pcdir=$(dirname "$(find "$prefix" -name admit-live.pc -print -quit)")
    [ -f "$pcdir/admit-live.pc" ] || fail "no admit-live.pc under $prefix"
    lib=$(cd "$pcdir/.." && pwd)
    export PKG_CONFIG_PATH=$pcdir
    "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror "$src/examples/live.c" \
        $(pkg-config --cflags --libs admit-live admit-core) -o "$out/live"
    unset PKG_CONFIG_PATH
    "$prefix/bin/admitsim" mock-provider "$src/tests/data/live_secret.json" --time-scale 0.2 \
        >"$out/mock.port" 2>"$out/mock.log" &
    mockpid=$!
    for _ in $(seq 100); do [ -s "$out/mock.port" ] && break; sleep 0.05; done
    port=$(head -n 1 "$out/mock.port")
    [ -n "$port" ] || { kill "$mockpid"; cat "$out/mock.log" >&2; fail "the mock printed no port"; }
    LD_LIBRARY_PATH=$lib timeout 60 "$out/live" "http://127.0.0.1:$port/v1" gen-1 \
        >"$out/live.log" 2>&1 || { kill "$mockpid"; cat "$out/live.log" >&2; fail "live example"; }
    kill -INT "$mockpid"
    wait "$mockpid" || fail "mock-provider exited non-zero"
    grep -q "left: 0 task leases, 0 request leases, 0 request waiters" "$out/live.log" &&
        grep -q "model_request_completed" "$out/live.log" ||
        { cat "$out/live.log" >&2; fail "live example: no clean final snapshot"; }
    say "live example, pkg-config admit-live against the mock: ok ($(tail -n 1 "$out/live.log"))"
}

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log" ||
    { cat "$work/install.log" >&2; fail "cmake --install $build"; }
say "installed $build into $prefix"
check_prefix "$prefix" "$work/out1"

moved=$work/elsewhere/moved-prefix
mkdir -p "$(dirname "$moved")"
mv "$prefix" "$moved"
say "moved the installed tree to $moved"
check_prefix "$moved" "$work/out2"
say "ok: pkg-config (shared, static), C++ and CMake consumers, before and after moving the prefix"
