/*
 * The interposed priority functions (priority.h).
 *
 * The suffix carries the floor of the policy's top-level tls group: a
 * priority cache is made before any connection, so no rule is known yet
 * (rules cannot go below TLS 1.2; a rule asking for TLS 1.3 is held to it by
 * the outcome check). Each call tries, in order: the program's string with the
 * suffix; the same with the floor version added (a program that allowed only
 * older versions: "NONE:+VERS-TLS1.0:..."); and when even that does not parse
 * (a keyword string such as "@SYSTEM" that GnuTLS accepts only alone), the
 * program's own string unchanged, so that its error position stays its own.
 * That last one fails closed: the outcome check refuses a version below the
 * floor. Only in enforce mode; in audit mode the outcome check records.
 *
 * libgnutls makes the cache of gnutls_priority_set_direct and
 * gnutls_set_default_priority through gnutls_priority_init via its PLT: the
 * depth (call.c) lets that inner call through unchanged.
 */
#include "call.h"
#include "priority.h"
#include "priority_str.h"
#include "state.h"

#define PRIO_MAX 2048

static bool forcing(void)
{
	return gtls_call_outer() && gtls_active() && gtls_enforcing();
}

static enum policy_tls_version floor_version(void)
{
	return policy_tls_defaults(shim_policy())->min_version;
}

/* One attempt of each form; try(arg, s) calls the real function with s. */
typedef int (*prio_try)(const struct gnutls_fns *f, void *arg, const char *prio);

static int with_suffix(const struct gnutls_fns *f, const char *prog, prio_try attempt, void *arg)
{
	char buf[PRIO_MAX];
	int ret = GNUTLS_E_INVALID_REQUEST;

	gtls_call_in();
	if (gtls_priority_compose(prog, floor_version(), false, buf, sizeof(buf)) == 0) {
		ret = attempt(f, arg, buf);
	}
	if (ret == GNUTLS_E_NO_PRIORITIES_WERE_SET &&
	    gtls_priority_compose(prog, floor_version(), true, buf, sizeof(buf)) == 0) {
		ret = attempt(f, arg, buf);
	}
	gtls_call_out();
	return ret;
}

/* gnutls_priority_init2 calls gnutls_priority_init (through the PLT) and
 * not the other way round: each wrapper reaches its own real function. */
struct init_args {
	gnutls_priority_t *cache;
	unsigned flags;
	bool init2;
};

static int try_init(const struct gnutls_fns *f, void *arg, const char *prio)
{
	const struct init_args *a = arg;

	if (a->init2) {
		return f->gnutls_priority_init2(a->cache, prio, NULL, a->flags);
	}
	return f->gnutls_priority_init(a->cache, prio, NULL);
}

static int real_init(const struct gnutls_fns *f, const struct init_args *a, const char *prio,
                     const char **err_pos)
{
	int ret;

	gtls_call_in();
	ret = a->init2 ? f->gnutls_priority_init2(a->cache, prio, err_pos, a->flags)
	               : f->gnutls_priority_init(a->cache, prio, err_pos);
	gtls_call_out();
	return ret;
}

int gtls_priority_init(gnutls_priority_t *cache, const char *prio, const char **err_pos,
                       unsigned flags, bool init2)
{
	const struct gnutls_fns *f = gnutls_fns();
	struct init_args a = {cache, flags, init2};
	/* NULL: GnuTLS's default, to which the suffix is appended */
	struct init_args def = {cache, flags | GNUTLS_PRIORITY_INIT_DEF_APPEND, true};
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (forcing() &&
	    (ret = with_suffix(f, prio, try_init, prio == NULL ? &def : &a)) == GNUTLS_E_SUCCESS) {
		gtls_prio_cache_set(*cache, prio, flags);
		return ret;
	}
	ret = real_init(f, &a, prio, err_pos);
	if (ret == GNUTLS_E_SUCCESS && forcing()) {
		gtls_prio_cache_set(*cache, prio, flags);
	}
	return ret;
}

/* The program's session gets the cache's priorities: which string made it is
 * recorded on the session (apply.c may set them again with a rule's
 * floor). */
int gtls_priority_set(gnutls_session_t session, gnutls_priority_t cache)
{
	const struct gnutls_fns *f = gnutls_fns();
	struct gtls_state *st;
	bool outer = forcing();
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	gtls_call_in();
	ret = f->gnutls_priority_set(session, cache);
	gtls_call_out();
	if (ret == GNUTLS_E_SUCCESS && outer && (st = gtls_state_make(session)) != NULL) {
		gtls_prio_cache_apply(cache, st);
	}
	return ret;
}

void gtls_priority_deinit(gnutls_priority_t cache)
{
	const struct gnutls_fns *f = gnutls_fns();

	if (f == NULL) {
		return;
	}
	if (gtls_call_outer()) {
		gtls_prio_cache_forget(cache);
	}
	gtls_call_in();
	f->gnutls_priority_deinit(cache);
	gtls_call_out();
}

/* What a session was given, for apply.c. */
static void record(gnutls_session_t session, const char *prio, bool on_default, unsigned flags)
{
	struct gtls_state *st = gtls_state_make(session);

	if (st != NULL) {
		gtls_prio_record(st, prio, on_default, flags);
	}
}

static int try_direct(const struct gnutls_fns *f, void *arg, const char *prio)
{
	return f->gnutls_priority_set_direct(arg, prio, NULL);
}

static int try_default_append(const struct gnutls_fns *f, void *arg, const char *prio)
{
	return f->gnutls_set_default_priority_append(arg, prio, NULL, 0);
}

int gtls_priority_set_direct(gnutls_session_t session, const char *prio, const char **err_pos)
{
	const struct gnutls_fns *f = gnutls_fns();
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (forcing() && (ret = with_suffix(f, prio, prio == NULL ? try_default_append : try_direct,
	                                    session)) == GNUTLS_E_SUCCESS) {
		record(session, prio, prio == NULL, 0);
		return ret;
	}
	gtls_call_in();
	ret = f->gnutls_priority_set_direct(session, prio, err_pos);
	gtls_call_out();
	if (ret == GNUTLS_E_SUCCESS && forcing()) {
		record(session, prio, prio == NULL, 0);
	}
	return ret;
}

int gtls_set_default_priority(gnutls_session_t session)
{
	const struct gnutls_fns *f = gnutls_fns();
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (forcing() &&
	    (ret = with_suffix(f, NULL, try_default_append, session)) == GNUTLS_E_SUCCESS) {
		record(session, NULL, true, 0);
		return ret;
	}
	gtls_call_in();
	ret = f->gnutls_set_default_priority(session);
	gtls_call_out();
	if (ret == GNUTLS_E_SUCCESS && forcing()) {
		record(session, NULL, true, 0);
	}
	return ret;
}

struct append_args {
	gnutls_session_t session;
	unsigned flags;
};

static int try_append(const struct gnutls_fns *f, void *arg, const char *prio)
{
	const struct append_args *a = arg;

	return f->gnutls_set_default_priority_append(a->session, prio, NULL, a->flags);
}

int gtls_set_default_priority_append(gnutls_session_t session, const char *add,
                                     const char **err_pos, unsigned flags)
{
	const struct gnutls_fns *f = gnutls_fns();
	struct append_args a = {session, flags};
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (forcing() && (ret = with_suffix(f, add, try_append, &a)) == GNUTLS_E_SUCCESS) {
		record(session, add, true, flags);
		return ret;
	}
	gtls_call_in();
	ret = f->gnutls_set_default_priority_append(session, add, err_pos, flags);
	gtls_call_out();
	if (ret == GNUTLS_E_SUCCESS && forcing()) {
		record(session, add, true, flags);
	}
	return ret;
}
