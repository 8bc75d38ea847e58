/* imzala-http-message.h: one HTTP request and, once sent, its answer's
 * status and the few headers the core reads.
 *
 * The core's HTTP seam (see imzala-http-session.h): this is a plain holder
 * of what to send and what came back, made and read in the core; only an
 * ImzalaHttpSession sends it, through the libsoup module. So a program that
 * never sends anything (`imzala-cli sign`) never loads libsoup.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The flags libsoup's soup_message_new() parses an http(s) URL with
 * (SOUP_HTTP_URI_FLAGS), so that an address is taken or refused here just
 * as libsoup would take or refuse it. */
#define IMZALA_HTTP_URI_FLAGS (G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED_PATH \
                               | G_URI_FLAGS_ENCODED_QUERY | G_URI_FLAGS_ENCODED_FRAGMENT \
                               | G_URI_FLAGS_SCHEME_NORMALIZE)

#define IMZALA_HTTP_STATUS_OK 200
#define IMZALA_HTTP_STATUS_IS_SUCCESSFUL(status) ((status) >= 200 && (status) < 300)

typedef enum
{
  IMZALA_HTTP_FLAGS_NONE = 0,
  /* A 3xx answer is returned as it is, never followed. */
  IMZALA_HTTP_NO_REDIRECT = 1 << 0,
  /* The request may be sent again on a kept connection that turns out
   * closed, so it may use one (SOUP_MESSAGE_IDEMPOTENT). */
  IMZALA_HTTP_IDEMPOTENT = 1 << 1,
  /* A connection of its own, not taken from the pool nor given back. */
  IMZALA_HTTP_NEW_CONNECTION = 1 << 2,
} ImzalaHttpFlags;

#define IMZALA_TYPE_HTTP_MESSAGE (imzala_http_message_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaHttpMessage, imzala_http_message, IMZALA, HTTP_MESSAGE, GObject)

/* NULL when @url is not an http:// or https:// address with a host (as
 * soup_message_new()). */
ImzalaHttpMessage *imzala_http_message_new          (const char        *method,
                                                     const char        *url);
ImzalaHttpMessage *imzala_http_message_new_from_uri (const char        *method,
                                                     GUri              *uri);

const char *imzala_http_message_get_method  (ImzalaHttpMessage *self);
GUri       *imzala_http_message_get_uri     (ImzalaHttpMessage *self);
void        imzala_http_message_add_flags   (ImzalaHttpMessage *self,
                                             ImzalaHttpFlags    flags);
ImzalaHttpFlags imzala_http_message_get_flags (ImzalaHttpMessage *self);
/* Replaces the request header @name. */
void        imzala_http_message_set_header  (ImzalaHttpMessage *self,
                                             const char        *name,
                                             const char        *value);
void        imzala_http_message_set_body    (ImzalaHttpMessage *self,
                                             const char        *content_type,
                                             GBytes            *body);
/* Lets the server's certificate also chain to @extra_ca (NULL: the system
 * store only), with the host name checked again against it alone. TLS
 * stays verified. */
void        imzala_http_message_set_extra_ca (ImzalaHttpMessage *self,
                                              GTlsDatabase      *extra_ca);

/* The answer, once imzala_http_session_send*() gave its body stream. */
guint       imzala_http_message_get_status  (ImzalaHttpMessage *self);
/* The media type without parameters, or NULL; @params (nullable) gets the
 * parameters (a GHashTable owned by the message). */
const char *imzala_http_message_get_content_type   (ImzalaHttpMessage  *self,
                                                    GHashTable        **params);
/* The declared Content-Length, or -1 when there is none. */
goffset     imzala_http_message_get_content_length (ImzalaHttpMessage *self);
/* The answer's Date header, or NULL when it has none that parses. */
GDateTime  *imzala_http_message_get_date    (ImzalaHttpMessage *self);

G_END_DECLS
