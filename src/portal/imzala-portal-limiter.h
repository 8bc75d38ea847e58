/* imzala-portal-limiter.h: a rolling-window counter per client address.
 *
 * IPv4 addresses count one by one, IPv6 addresses per /64 (one customer
 * usually has a whole /64). Times are monotonic microseconds.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define IMZALA_TYPE_PORTAL_LIMITER (imzala_portal_limiter_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalLimiter, imzala_portal_limiter, IMZALA, PORTAL_LIMITER, GObject)

ImzalaPortalLimiter *imzala_portal_limiter_new (guint max_events, guint window_seconds);

/* @address itself, or the IPv4 address an IPv4-mapped IPv6 one
 * (::ffff:192.0.2.1, a dual-stack socket's) stands for: one IPv4 client. */
GInetAddress *imzala_portal_limiter_unmap_address (GInetAddress *address);

/* The key an address is counted under ("192.0.2.1", "2001:db8:1:2::/64"). */
char *imzala_portal_limiter_key_for_address (GInetAddress *address);

/* Seconds until @key may act again (0: it may now). */
guint imzala_portal_limiter_check  (ImzalaPortalLimiter *self, const char *key);
/* Counts one event for @key. */
void  imzala_portal_limiter_record (ImzalaPortalLimiter *self, const char *key);
/* How many keys are held (for tests: memory must not grow for good). */
guint imzala_portal_limiter_get_size (ImzalaPortalLimiter *self);

G_END_DECLS
