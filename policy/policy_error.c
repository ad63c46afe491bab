/* The one setter for policy error text (libtls tls_set_errorx style). */
#include <stdio.h>

#include "policy_internal.h"

void policy_set_errorv(struct policy_error *err, const char *fmt, va_list ap)
{
	if (err == NULL)
		return;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

void policy_set_error(struct policy_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	policy_set_errorv(err, fmt, ap);
	va_end(ap);
}
