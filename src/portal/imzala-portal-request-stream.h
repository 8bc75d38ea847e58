/* imzala-portal-request-stream.h: one request of a kept TLS connection,
 * as the stream that libsoup's server reads and writes.
 *
 * libsoup 3.2.3's server leaks every connection it keeps alive itself
 * (fixed in 3.3.0), so the listener keeps them instead: for each request it
 * hands libsoup a new ImzalaPortalRequestStream over the connection's TLS
 * stream. libsoup answers the one request and closes it, which does not
 * close the TLS connection; the listener then waits for the next request
 * on that connection itself.
 *
 * The stream gives libsoup no byte past its request: up to the blank line
 * that ends the headers, then exactly the body length that the listener
 * read from those headers (imzala_portal_request_stream_set_body_length()).
 * Bytes that arrived beyond (a client that pipelines) stay here for the
 * next request (imzala_portal_request_stream_steal_pending()).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define IMZALA_TYPE_PORTAL_REQUEST_STREAM (imzala_portal_request_stream_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalRequestStream, imzala_portal_request_stream, IMZALA,
                      PORTAL_REQUEST_STREAM, GIOStream)

/* @base: the connection's TLS stream (pollable both ways); @pending: bytes
 * of this request already read from it (NULL: none). */
ImzalaPortalRequestStream *imzala_portal_request_stream_new             (GIOStream *base,
                                                                         GBytes    *pending);
/* After the headers: how many body bytes follow them; -1 means the body
 * has no length known up front, so the stream passes on everything to the
 * end of the connection (which is then not kept). */
void                       imzala_portal_request_stream_set_body_length (ImzalaPortalRequestStream *self,
                                                                         gint64                     length);
/* TRUE when libsoup has read exactly the headers and the body set above,
 * so that the next byte on the connection starts the next request. */
gboolean                   imzala_portal_request_stream_is_complete     (ImzalaPortalRequestStream *self);
/* Bytes read from the connection past this request (a pipelined next
 * request), or NULL. */
GBytes                    *imzala_portal_request_stream_steal_pending   (ImzalaPortalRequestStream *self);
/* From now on every read and write fails without touching @base: the
 * listener has taken the connection back (or closed it). */
void                       imzala_portal_request_stream_detach          (ImzalaPortalRequestStream *self);

G_END_DECLS
