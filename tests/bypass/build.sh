#!/bin/bash
# Builds every tests/bypass/*.c into $BUILD/tests/bypass/NAME (the Makefile's
# rules do not cover this directory). Usage: [BUILD=build] tests/bypass/build.sh
# Run from the top of the tree, or with TOP set to it.
set -eu
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
out="$top/${BUILD:-build}/tests/bypass"
mkdir -p "$out"
read -ra ssl <<<"$(pkg-config --cflags --libs openssl)"
for src in "$top"/tests/bypass/*.c; do
	name=$(basename "$src" .c)
	# plugin_*.c are shared objects a bypass program loads (plugin_NAME.so)
	if [[ $name == plugin_* ]]; then
		if ! [ "$out/$name.so" -nt "$src" ]; then
			cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -fPIC -shared \
				-o "$out/$name.so" "$src"
		fi
		continue
	fi
	# rebuild only what changed (the suite runs this every time)
	if [ "$out/$name" -nt "$src" ] && [ "$out/$name" -nt "$top/tests/bypass/bypass.h" ] &&
		[ "$out/$name" -nt "$top/tests/bypass/bypass_tls.h" ] &&
		[ "$out/$name" -nt "$top/tests/bypass/bypass_bio.h" ] &&
		[ "$out/$name" -nt "$top/tests/bypass/bypass_child.h" ]; then
		continue
	fi
	cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o "$out/$name" "$src" \
		"${ssl[@]}" -ldl -pthread
done
