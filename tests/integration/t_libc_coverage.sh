#!/bin/bash
# Coverage by construction: every function the machine's libc.so.6 exports
# that can write to, send on, connect, hand off or execute with a descriptor
# must be either exported by the shim (its dynamic symbol table: the wrapper
# is what a program's reference binds to) or named in tlsguard.8's list of
# functions that are not wrapped, with the reason. The list of functions is
# read from libc itself at test time, through a table of name patterns by
# category below: a new glibc that exports a new alias or variant fails this
# suite until it is wrapped or documented.
#
# Not in a category, on purpose: stdio's writers (fprintf, fputs, fwrite,
# putc, perror, err, ...) reach a descriptor only through a FILE, which the
# shim fences or checks when flushed (tlsguard.8, Standard I/O); the flushing
# and stream-making entry points are in the "stdio" category.
. "$(dirname "$0")/lib.sh"

MAN="$TOP/man/tlsguard.8"

# The libc.so.6 a dynamically linked program gets here, as the loader finds it.
LIBC=$(ldd /bin/sh 2>/dev/null | awk '$1 == "libc.so.6" { print $3 }')
if [ -z "$LIBC" ] || [ ! -r "$LIBC" ]; then
	not_ok "libc.so.6 found" "ldd /bin/sh names no readable libc.so.6"
	exit 1
fi
ok "libc.so.6 found: $LIBC"

# Every defined function or object name libc exports, without its version.
nm -D --defined-only "$LIBC" | awk '{ sub(/@.*/, "", $3); print $3 }' | sort -u >"$T/libc.names"
nm -D --defined-only "$SHIM" | awk '{ sub(/@.*/, "", $3); print $3 }' | sort -u >"$T/shim.names"
expect_match "libc exports a plausible number of names (>1000)" "^[0-9]{4,}$" "$(wc -l <"$T/libc.names")"

# The names tlsguard.8 lists as not wrapped: every "Fn name" on an .It line
# between the not-wrapped markers; each .It must be followed by a reason.
sed -n '/^\.\\" not-wrapped:begin/,/^\.\\" not-wrapped:end/p' "$MAN" >"$T/limits.man"
if [ ! -s "$T/limits.man" ]; then
	not_ok "tlsguard.8 has a not-wrapped list" "no '.\\\" not-wrapped:begin' marker"
	exit 1
fi
grep '^\.It ' "$T/limits.man" | grep -o 'Fn [A-Za-z0-9_]*' | awk '{ print $2 }' | sort -u \
	>"$T/documented.names"
# .It lines directly followed by another .It or .El carry no reason
noreason=$(awk '/^\.It / { if (pending) print prev; pending = 1; prev = $0; next }
	/^\.El/ { if (pending) print prev; pending = 0; next }
	/^\.\\"/ { next }
	{ pending = 0 }' "$T/limits.man")
expect "every not-wrapped entry in tlsguard.8 gives its reason" "" "$noreason"

# category|extended regex over libc's exported names
CATEGORIES='write|^(__)?(write|writev|pwrite|pwrite64|pwritev|pwritev2|pwritev64|pwritev64v2)(_nocancel|_chk)?$
write|^__libc_pwrite(64)?$
send|^(__)?(send|sendto|sendmsg|sendmmsg|sendfile|sendfile64|splice|tee|vmsplice|copy_file_range)(_chk)?$
read|^(__)?(read|readv|pread|pread64|preadv|preadv2|preadv64|preadv64v2)(_nocancel|_chk)?$
read|^__libc_pread(64)?$
receive|^(__)?(recv|recvfrom|recvmsg|recvmmsg)(_chk)?$
connect|^(__)?(connect|socket|socketpair|accept|accept4|setsockopt)$
hand-off|^(__)?(dup|dup2|dup3|fcntl|fcntl64|close|close_range|closefrom|pidfd_getfd)(_nocancel)?$
hand-off|^__libc_fcntl(64)?$
formatted|^(__)?v?dprintf(_chk)?$
formatted|^(__)?v?syslog(_chk)?$
fatal|^__libc_(fatal|message)$|^__fortify_fail$
stdio|^(_IO_)?(fdopen|fflush|fclose|fcloseall|fflush_unlocked)$
stdio|^_IO_(file_attach|file_open|file_fopen|fopen|do_write|file_write|file_xsputn|file_overflow|file_sync|file_close_it|flush_all|flush_all_linebuffered|__overflow)$|^__overflow$
aio|^(aio_read|aio_read64|aio_write|aio_write64|lio_listio|lio_listio64)$
exec|^(exec[lv]p?e?|execveat|fexecve|posix_spawnp?|system|__libc_system|popen|_IO_popen|_IO_proc_open)$
fork|^(fork|vfork|_Fork|__libc_fork|clone|clone3)$
syscall|^syscall$
dl|^(dlsym|dlvsym|dlopen|dlmopen)$'

: >"$T/relevant"
while IFS='|' read -r cat re; do
	grep -E -- "$re" "$T/libc.names" | sed "s/^/$cat /" >>"$T/relevant"
done <<<"$CATEGORIES"
sort -u -o "$T/relevant" "$T/relevant"

# Each category's patterns must still match something in this libc: a
# category that matches nothing means its patterns went stale.
for cat in $(cut -d'|' -f1 <<<"$CATEGORIES" | sort -u); do
	expect_match "category $cat: libc exports names of it" "^$cat " "$(cat "$T/relevant")"
done

missing=""
while read -r cat name; do
	if grep -qx -- "$name" "$T/shim.names"; then
		continue
	fi
	if grep -qx -- "$name" "$T/documented.names"; then
		continue
	fi
	missing="$missing $cat:$name"
done <"$T/relevant"
expect "every relevant libc function is wrapped or named in tlsguard.8 (not-wrapped list)" "" \
	"${missing# }"

# The list in tlsguard.8 names only functions that are relevant and not
# wrapped: a name that is wrapped, or that libc does not export, is stale.
stale=""
while read -r name; do
	if grep -qx -- "$name" "$T/shim.names"; then
		stale="$stale $name(wrapped)"
	elif ! grep -qx -- "$name" "$T/libc.names"; then
		stale="$stale $name(not-in-libc)"
	fi
done <"$T/documented.names"
expect "tlsguard.8's not-wrapped list names no wrapped or unknown function" "" "${stale# }"

echo "# relevant: $(wc -l <"$T/relevant"), wrapped: $(awk '{print $2}' "$T/relevant" |
	grep -cxFf "$T/shim.names"), documented: $(wc -l <"$T/documented.names")"
