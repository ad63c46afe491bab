/*
 * Transitional: the old names of the socket layer's decision (decide.h), until
 * the wrappers call the new ones. Removed by the next commit.
 */
#ifndef TLSGUARD_GUARD_H
#define TLSGUARD_GUARD_H

#include "decide.h"

#define guard_outbound          decide_outbound
#define guard_connect           decide_connect
#define guard_inbound           decide_inbound
#define guard_adopt             decide_adopt
#define guard_adopt_as          decide_adopt_as
#define guard_send_classifying  decide_send_classifying
#define guard_send_check        decide_send_check
#define guard_send_commit       decide_send_commit
#define guard_recv_check        decide_recv_check
#define guard_opaque_io         decide_opaque_io
#define guard_opaque            decide_opaque

#endif
