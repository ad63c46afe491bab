/*
 * What every new process image does before main: the top of the shim's
 * start-up, and called by nothing else. It lives with the child side of exec
 * so that core/ never calls up into exec/. Data flows down from here: the
 * environment as started (core/start_env.c), the policy's bytes
 * (core/init.c), then the sockets a parent or a super-server handed over
 * (inherit_child.c).
 */
#include "core/init.h"
#include "core/start_env.h"
#include "inherit_child.h"
#include "tunnel/tunnel.h"

/* Before any other constructor, and so before main can touch the environment
 * or the policy file (a wrapper called even earlier takes the snapshot and
 * reads the policy itself). The sockets an exec'ed parent governed are
 * governed again before any byte moves. */
__attribute__((constructor(101))) static void shim_start(void)
{
	start_env_take();
	shim_policy_read_at_start();
	inherit_child_adopt(shim_start_fds(), shim_start_listen_pid(), shim_start_listen_fds());
	tunnel_adopt_env(shim_start_tunnel());
}
