#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# helpers.c holds one-line wrappers of static inlines and macros, nothing else
# (docs/design.md): prints every function in it whose body has more than one
# statement, and exits 1 if there is one. Logic goes into the Rust abstractions.
#
# usage: helpers-check.sh [FILE]
set -eo pipefail
awk '
	/^[A-Za-z].*\(/ && !/;$/ { name = $0; sub(/\(.*/, "", name); sub(/.* \**/, "", name) }
	/^\{/ { body = 1; n = 0; next }
	/^\}/ { if (body && n > 1) { print n " statements: " name; bad = 1 } body = 0; next }
	body && /;[ \t]*(\/\*.*)?$/ { n++ }
	END { exit bad }
' "${1:-src/helpers.c}"
