/*
 * Tunnels: the shim speaks TLS for a program that speaks plaintext, outbound
 * (`action = "upgrade_tls"`) and inbound (`action = "terminate_tls"`).
 *
 * Design: a socket pair and a pump thread, and a direct path beside them.
 *
 *   program fd N  <== AF_UNIX SOCK_STREAM pair ==>  pump end  [pump thread]
 *        |                                              |
 *        +---- direct path (the program's thread) ----> SSL (libssl)
 *                                                       |
 *                                                    TCP socket (hidden fd)
 *
 * The program's descriptor number N becomes one end of a socket pair (dup2'ed
 * over N, so the number, its O_NONBLOCK and FD_CLOEXEC stay what the program
 * made). The real TCP socket moves to a high, close-on-exec descriptor the
 * program never sees. One pump thread per tunnel (blocking poll on the pump
 * end, the TCP socket and an eventfd) encrypts what the program writes into
 * the pair and writes what it decrypts into the pair. Why this rather than
 * an inline record layer with emulated readiness:
 *  - every I/O call of the program is a real call on a real stream socket:
 *    blocking and non-blocking I/O, poll/select/epoll (level and edge),
 *    partial reads, FIONREAD, SO_RCVTIMEO, sendfile/splice from a file,
 *    readv/writev, MSG_PEEK, stdio FILEs all keep their kernel semantics with
 *    no emulation and no wrapper to miss. The pump writes only decrypted
 *    application bytes into the pair: a record without application data
 *    (a TLS 1.3 ticket, a key update, an alert) never makes the descriptor
 *    readable, so no reader spins on EAGAIN.
 *  - the TLS itself is the program's kind: the tunnel's SSL sits on the TCP
 *    descriptor (SSL_set_fd) and is driven through the OpenSSL layer's own
 *    entry points (tls/openssl/call.h), its socket BIO's reads and writes go
 *    through the socket layer as a program's would (the first bytes must be
 *    a ClientHello, the hello is claimed by the SSL that made it, starttls
 *    postgres and its downgrade check are the stream classifier's). The TCP
 *    descriptor is a governed connection under the upgrade/terminate rule,
 *    which tls/openssl/apply.c governs like require_tls: one verifier, one
 *    outcome check, one verdict, the same audit reasons (event=upgrade).
 *    The tunnel's SSL is governed once, by that layer, on purpose.
 *
 * The direct path (direct.c) takes away the pair's cost where it can be
 * taken away exactly: in the process whose pump serves the tunnel, a plain
 * read/recv/write/send (and a one-buffer writev) runs SSL_read/SSL_write in
 * the program's thread whenever that keeps the bytes in order (nothing of the
 * program's waiting in the pair or the pump on the way out, nothing decrypted
 * waiting there on the way in). The pump and the direct path take turns on
 * the SSL under the tunnel's lock. A write the socket cannot take at once is
 * handed to the pump; a blocking read waits in poll on the TCP socket and the
 * pair (SO_RCVTIMEO, EINTR as read has it) while the pump leaves the socket
 * to it; a read takes the whole records libssl read ahead while they fit,
 * and spills what does not into the pair, where poll sees it. Every other
 * call takes the pair. So for the calls
 * programs make in their hot loops a tunnel costs what TLS in the program
 * costs (make bench: bulk and 1-byte ping-pong against stunnel), and the
 * kernel semantics stay exact for the rest.
 *  - the cost: one thread per open tunnel, an eventfd, and for bytes that go
 *    through the pair one extra copy (in the kernel) each way and the pump's
 *    wake-ups.
 *
 * Connect (outbound). The shim makes the real connect on the TCP socket as the
 * program asked (a blocking connect blocks; a non-blocking one returns
 * EINPROGRESS), then swaps the descriptors and starts the pump, which waits
 * for the connection, sends the SSLRequest for starttls postgres, and
 * handshakes. A blocking connect makes those steps itself, in the program's
 * thread (it waits for them anyway), then starts the pump, and returns 0, or
 * -1 with the refusal's errno. A non-blocking connect returns EINPROGRESS
 * and the pair is writable at once; what the program writes waits in the pair
 * until the handshake has passed, and is never read by the pump before then.
 * getsockopt(SO_ERROR) waits for the handshake's outcome (it is asked once
 * the connection looks writable) and reports 0 or the refusal; it waits at
 * most 2 s (an unreachable peer must not stall an event loop): 0 then, and
 * a later refusal fails the next call.
 *
 * Refusal. The policy refusing the handshake, a failed connect, a peer that
 * does not speak TLS, a downgrade (starttls), or TLS from the program itself
 * (reason tls_in_tls): no byte of the program reaches the peer. The tunnel is
 * marked refused; every later call of the program on the descriptor fails:
 * outbound with ECONNREFUSED (what programs already handle as "could not
 * connect": they retry or report, where EACCES reads as a local permission
 * problem), inbound with ECONNRESET (as on a require_tls listener).
 *
 * Accept (inbound). accept/accept4 on a listener whose rule is terminate_tls
 * returns the program a pair end in place of the accepted socket (the address
 * accept filled in is the real client's); the pump does the server handshake
 * with tls.cert_file/key_file, asks for client certificates when the rule
 * requires them; a client speaking plaintext is refused by the socket layer's
 * own check (reason plaintext).
 *
 * The socket calls that must see the TCP socket are redirected for a tunnel's
 * descriptor (calls.c): getpeername, getsockname (cached when the tunnel is
 * made, so they work in a forked child too), getsockopt and setsockopt (TCP
 * and IP levels, SO_KEEPALIVE, SO_LINGER, ... go to the TCP socket; the
 * buffering and timeout options of SOL_SOCKET to the pair, where the program's
 * reads and writes happen; SO_ERROR, SO_DOMAIN, SO_PROTOCOL are answered).
 * shutdown is made on the pair end: SHUT_WR there makes the pump read EOF,
 * send close_notify and shut the TCP write side once the pair is drained; it
 * also ends the direct path, so that the kernel answers what follows.
 * close flushes the same way: the pump drains what is left in the pair first.
 *
 * fork: the pair end is shared by parent and child; the pump thread lives in
 * the process that made the tunnel and serves both. The child closes its
 * copies of the TCP socket and the pump end, so the peer sees the end of the
 * connection when the tunnel ends. If the creating process exits before the
 * child is done, the tunnel ends with it (documented in tlsguard.8).
 * exec: a process that execs while it owns tunnels whose program descriptor is
 * inherited (not close-on-exec) first forks a keeper process (tunnel_exec_prepare, exec.c)
 * that runs those tunnels' pumps and exits when they end; the new image sees a
 * pair end, and the shim in it learns from the environment (TLSGUARD_TUNNELS)
 * which descriptors are tunnels and their addresses, for getpeername.
 *
 * Limits (tlsguard.8 lists them):
 *  - the hidden descriptors (from 600 up, close-on-exec) are the shim's; a
 *    program that closes every descriptor it did not open (closefrom,
 *    close_range) ends its tunnels: the program then reads EOF.
 *  - in a forked child and in an exec'd image the TCP socket is in another
 *    process: TCP- and IP-level socket options there reach the pair and
 *    fail (EOPNOTSUPP); getpeername, getsockname, SO_ERROR still answer. After
 *    exec a later refusal is not seen as such: the program reads EOF.
 *  - the tunnel ends when the process that pumps it exits (after sending what
 *    the program wrote), even if a forked child still holds the descriptor.
 *  - ioctl queue sizes (FIONREAD, SIOCOUTQ) and TCP_INFO describe the pair,
 *    not the TCP socket; MSG_OOB is refused with EOPNOTSUPP
 *    (TLS has no urgent data; sock/send.c).
 *  - sendto/sendmsg with an address (what TCP ignores once connected) pass
 *    without it; MSG_FASTOPEN on an upgrade_tls destination is refused
 *    (EACCES, audited): the bytes would leave before the handshake.
 *  - audit mode: the tunnel is made, a refusal is recorded, not enforced (TLS
 *    from the program too); mode off: no tunnel, the plaintext goes as it is.
 *  - one thread (256 KiB of stack) per open tunnel.
 *  - a direct write can overtake bytes written into the pair where no
 *    wrapper sees them and no sharing is known (a system call made without
 *    libc); every other writer is counted or marks the pair shared
 *    (direct.c).
 *
 * Who calls whom: sock/decide_connect.c -> tunnel.c (tunnel_connect,
 * tunnel_accept); sock/decide_{send,recv}.c, sock/opaque.c -> tunnel_io_check;
 * sock/fd.c setsockopt -> calls.c; tunnel.c -> pump.c -> ctx.c,
 * tls/openssl/call.h, bind/tunnel_ssl.h; exec/ -> tunnel_exec_prepare,
 * tunnel_adopt_env.
 */
#ifndef TLSGUARD_TUNNEL_H
#define TLSGUARD_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/conn.h"
#include "policy.h"

/* The errno of every call on a refused tunnel (see above). */
#define TUNNEL_REFUSED_ERRNO_OUT ECONNREFUSED
#define TUNNEL_REFUSED_ERRNO_IN  ECONNRESET

/* Outbound connect of fd to sa under an upgrade_tls rule; host is the name
 * the program resolved, or "". Returns what connect() returns. */
int tunnel_connect(int fd, const struct sockaddr *sa, socklen_t len, const struct policy_rule *rule,
                   const char *host);

/* fd was just accepted on a listener whose rule is terminate_tls: fd becomes
 * the program's end of a tunnel. 0, or -1 (errno set: the caller refuses the
 * connection as it refuses any it cannot follow). */
int tunnel_accept(int fd, const struct policy_rule *rule);

/* On a tunnel's program descriptor (c->tunnel != NULL), before or after any
 * I/O call: 0 when the call may proceed (a real call on the pair), -1 with
 * errno when the tunnel was refused or failed. */
int tunnel_io_check(const struct conn *c);

/* The direct path (direct.c): a plain read or write of a tunnel's program
 * descriptor fd (t: its conn's tunnel), done on the tunnel's SSL in the
 * caller's thread when that keeps the bytes in order. What read or write
 * returns (errno set), or TUNNEL_DIRECT_PASS: make the real call on the
 * pair. flags: the send's (MSG_DONTWAIT, MSG_NOSIGNAL); dontwait:
 * MSG_DONTWAIT. A blocking write returns only when all of it went (into the
 * pair for the part the socket could not take at once), as on a socket. */
#define TUNNEL_DIRECT_PASS ((ssize_t)-2)
ssize_t tunnel_direct_write(struct tunnel *t, int fd, const void *buf, size_t len, int flags);
ssize_t tunnel_direct_read(struct tunnel *t, int fd, void *buf, size_t len, bool dontwait);

/* A write of the program into the pair, around the real call (the direct
 * path waits for it: the bytes keep their order). */
void tunnel_write_begin(struct tunnel *t);
void tunnel_write_end(struct tunnel *t);
/* Something may write into the pair the shim does not count (sendfile,
 * splice, AIO, the descriptor passed to another process): the direct path
 * then asks the kernel what the pair holds, every time. */
void tunnel_mark_shared(struct tunnel *t);

/* close (and fclose) of fd, before the real close: when fd is a tunnel's
 * program descriptor whose pump runs in this process, waits (at most 5 s)
 * until the pump has taken and encrypted everything written on it, so that a
 * program that writes, closes and exits loses nothing. */
void tunnel_close_flush(int fd);

/* The redirected socket calls (calls.c). Each returns 1 and sets *rc when fd
 * is a tunnel's program descriptor and the call was answered, 0 otherwise. */
int tunnel_getsockopt(int fd, int level, int name, void *value, socklen_t *len, int *rc);
int tunnel_setsockopt(int fd, int level, int name, const void *value, socklen_t len, int *rc);
/* shutdown of the pair end: the pump reads EOF there and sends close_notify
 * (SHUT_WR); the direct path stops, so that the kernel answers what follows. */
int tunnel_shutdown(int fd, int how, int *rc);

/* exec (shim/exec/). TLSGUARD_TUNNEL names the tunnels' program descriptors
 * a new image inherits, by socket (as TLSGUARD_FDS does), with the addresses
 * it answers getpeername and getsockname with. */
#define TUNNEL_ENV_MAX 4095
/* Appends t's entry for the inherited descriptor fd to list (len bytes). */
void tunnel_env_add(struct tunnel *t, int fd, char *list, size_t len);
/* In a new image: the tunnels the environment's TLSGUARD_TUNNEL names (their
 * pump runs in another process). */
void tunnel_adopt_env(const char *value);

/* A process that execs while its pumps run would end them: before the real
 * exec, a keeper process takes them over (a double fork: it is nobody's
 * child, no program waits for it). It starts pumping only once the exec has
 * succeeded (the close-on-exec end of a pipe closes); meanwhile this
 * process's pumps are held still. After a failed exec, tunnel_exec_abort
 * sends the keeper away and lets the pumps go on. */
struct tunnel_keep {
	int go; /* the pipe's write end, or -1: no keeper */
	size_t n;
	struct tunnel *held[64];
};
void tunnel_exec_prepare(struct tunnel_keep *k);
void tunnel_exec_abort(struct tunnel_keep *k);

#endif
