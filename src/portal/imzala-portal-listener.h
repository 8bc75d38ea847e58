/* imzala-portal-listener.h: the portal's own accept path in front of
 * libsoup's server.
 *
 * libsoup 3.2's server has no handshake or idle timeout, no cap on
 * connections, reads a refused body to its end, and leaks every keep-alive
 * connection the client closes (CLOSE-WAIT, fixed upstream in 3.3.0). The
 * listener therefore owns the listening sockets (a GSocketService), caps the
 * connections per address and in all, makes the TLS handshake itself with a
 * time limit and gives each request a deadline. It keeps connections alive
 * itself: each request goes to soup_server_accept_iostream() on a stream
 * of its own (ImzalaPortalRequestStream) that carries that one request and
 * whose close leaves the TLS connection open. Since the SoupServer itself
 * never listens, libsoup answers the request and closes that stream; the
 * listener then waits for the connection's next request (or ends it), so
 * libsoup never holds a connection between requests and nothing is left in
 * CLOSE-WAIT. A body the early handler refuses is answered by
 * imzala_portal_listener_refuse() without being read.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Defaults; imzala-portal's flags change them (tests make them small). */
#define IMZALA_PORTAL_HANDSHAKE_TIMEOUT     10
#define IMZALA_PORTAL_IDLE_TIMEOUT          30
#define IMZALA_PORTAL_MAX_PER_ADDRESS       48
#define IMZALA_PORTAL_MAX_CONNECTIONS       512
/* The GnuTLS priority of the portal's TLS (imzala_http_init_tls_policy(),
 * from imzala-portal's main()): TLS 1.3 only, as Mozilla's "modern" profile.
 * Every client of the portal has it (İmzala, browsers, nginx, curl), and
 * TLS 1.3 has no renegotiation: in TLS 1.2, glib-networking 2.74 over
 * GnuTLS makes a new full handshake whenever the client asks for one, on
 * a connection already counted, as often as it asks. */
#define IMZALA_PORTAL_TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3"
/* TLS handshakes running at once (each has a thread and ~4 MB). */
#define IMZALA_PORTAL_MAX_HANDSHAKES        32
/* Bytes of a refused body read and dropped after the answer, so that a
 * client that reads only after sending still gets it. */
#define IMZALA_PORTAL_LINGER_MAX            (4 * 1024 * 1024)
/* A kept connection waits at most this long (or the idle timeout, if
 * shorter) for its next request, and carries at most this many (nginx's
 * own default for keepalive_requests: a new connection behind nginx,
 * with its TLS handshake, every 500 submissions, not every 50). */
#define IMZALA_PORTAL_KEEPALIVE_TIMEOUT     5
#define IMZALA_PORTAL_MAX_REQUESTS          1000
/* close_notify writes running at once (each can hold a thread of GTask's
 * pool until the handshake timeout); past them a connection is just shut. */
#define IMZALA_PORTAL_MAX_CLOSING           8

/* Data set on a SoupServerMessage that came from a trusted proxy. */
#define IMZALA_PORTAL_VIA_PROXY             "imzala-portal-via-proxy"

#define IMZALA_TYPE_PORTAL_LISTENER (imzala_portal_listener_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalListener, imzala_portal_listener, IMZALA, PORTAL_LISTENER, GObject)

ImzalaPortalListener *imzala_portal_listener_new         (SoupServer      *soup,
                                                          GTlsCertificate *certificate);
/* @handshake_timeout: seconds from accept to the end of the TLS handshake;
 * @idle_timeout: seconds from then, or from a kept connection's next byte,
 * to the end of the request (headers and body; the handlers answer at
 * once), and at most the wait of a kept connection for its next request;
 * @max_per_address, @max_total: open connections, a kept one counted once
 * (IPv6 counted per /64 as the rate limiters count). */
void                  imzala_portal_listener_set_limits  (ImzalaPortalListener *self,
                                                          guint                 handshake_timeout,
                                                          guint                 idle_timeout,
                                                          guint                 max_per_address,
                                                          guint                 max_total);
/* Connections from an address in @network (one address, or a load
 * balancer's network) are a reverse proxy's (nginx on the same machine):
 * they count only against the total, and the client of each
 * request is the last address of its X-Forwarded-For header, which the
 * proxy appends (imzala_portal_http_client_key()). */
void                  imzala_portal_listener_add_trusted_proxy (ImzalaPortalListener *self,
                                                                GInetAddressMask     *network);
/* Listens on @address:@port (port 0: a free one); @address NULL means both
 * loopback addresses on one port. Returns the port, or 0 with @error. */
guint16               imzala_portal_listener_listen      (ImzalaPortalListener *self,
                                                          GInetAddress         *address,
                                                          guint16               port,
                                                          GError              **error);
/* Stops listening and ends every open connection. */
void                  imzala_portal_listener_stop        (ImzalaPortalListener *self);
/* Sends @msg's status, headers and body (already set) on its connection
 * and closes it, without reading the request's body. FALSE when @msg did
 * not come through this listener (the caller then leaves it to libsoup). */
gboolean              imzala_portal_listener_refuse      (ImzalaPortalListener *self,
                                                          SoupServerMessage    *msg);
/* Open connections (for the log and tests). */
guint                 imzala_portal_listener_get_n_connections (ImzalaPortalListener *self);

G_END_DECLS
