/* imzala-portal-http.h: what every handler of the portal needs from HTTP.
 *
 * JSON answers in the protocol's shapes (docs/protocol.md §9: an "error"
 * object with a code, a Turkish message, a Retry-After), the request body
 * as a JSON object, the client's address as the rate limiters count it, and
 * the early handler that sets the headers of every answer and refuses a
 * body before libsoup reads it. None of this knows the portal's state.
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "imzala-portal-limiter.h"

G_BEGIN_DECLS

/* Unix seconds (UTC): the clock of every time the portal stores or answers. */
static inline gint64
imzala_portal_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* ---- Answers ---- */
void        imzala_portal_http_send_json          (SoupServerMessage *msg,
                                                   guint              status,
                                                   JsonNode          *node);
void        imzala_portal_http_send_builder       (SoupServerMessage *msg,
                                                   guint              status,
                                                   JsonBuilder       *builder);
/* {"error": {"code", "message", "retry_after"?, "fields"?}}; a @retry_after
 * above 0 also sets Retry-After. */
void        imzala_portal_http_send_error_full    (SoupServerMessage *msg,
                                                   guint              status,
                                                   const char        *code,
                                                   const char        *message,
                                                   guint              retry_after,
                                                   JsonObject        *fields);
void        imzala_portal_http_send_error         (SoupServerMessage *msg,
                                                   guint              status,
                                                   const char        *code,
                                                   const char        *message);
/* 400 "malformed"; @message NULL: a general sentence. */
void        imzala_portal_http_send_malformed     (SoupServerMessage *msg,
                                                   const char        *message);
/* 429 "rate-limited" with Retry-After. @failed_attempts: the address is
 * over its limit of failed attempts (unknown codes, another person's
 * card), and is told so; otherwise it asked for too much work of one kind
 * (codes, sessions, OCSP or TSA answers) in a short time, which is no
 * mistake of the user's: an office's users may share one address. */
void        imzala_portal_http_send_rate_limited  (SoupServerMessage *msg,
                                                   guint              retry_after,
                                                   gboolean           failed_attempts);
/* 500 "internal": what went wrong goes to the log, not to the client. */
void        imzala_portal_http_send_internal_error (SoupServerMessage *msg);

/* A string member, or null when @value is NULL. */
void        imzala_portal_http_add_string         (JsonBuilder *builder,
                                                   const char  *name,
                                                   const char  *value);
/* A time member in RFC 3339 UTC. */
void        imzala_portal_http_add_time           (JsonBuilder *builder,
                                                   const char  *name,
                                                   gint64       value);

/* ---- Requests ---- */
/* The key the rate limiters count the client's address under. */
char       *imzala_portal_http_client_key         (SoupServerMessage *msg);
/* Counts the call against @limiter for the client's address, whatever its
 * outcome; when over, answers 429 with Retry-After and returns TRUE. For
 * the calls that cost the portal real work (a PBKDF2, a signature). */
gboolean    imzala_portal_http_work_limited       (ImzalaPortalLimiter *limiter,
                                                   SoupServerMessage   *msg);
/* The body as a JSON object; sends the error itself and returns NULL when
 * it is not one. @need_version: the client protocol's "version": 1. */
JsonObject *imzala_portal_http_parse_body         (SoupServerMessage *msg,
                                                   gboolean           need_version);
/* @name's value when it is a string, else NULL. */
const char *imzala_portal_http_member_string      (JsonObject *object,
                                                   const char *name);
/* Strict base64 (standard alphabet, padded), or NULL. */
GBytes     *imzala_portal_http_decode_base64      (const char *text);

/* The early handler of every path: headers of every answer, and the body
 * limits (size, Content-Length, JSON) before libsoup reads a body. */
void        imzala_portal_http_early_cb           (SoupServer        *server,
                                                   SoupServerMessage *msg,
                                                   const char        *path,
                                                   GHashTable        *query,
                                                   gpointer           user_data);

G_END_DECLS
