/* imzala-http-backend.h: the plain C interface between the core's HTTP
 * seam (imzala-http-session.c, imzala-http-message.c) and the module that
 * implements it with libsoup (src/http/imzala-http-soup.c).
 *
 * Only GLib and GIO types cross it: the module calls no function of the
 * core (a program's own symbols are not exported to a module it opens), and
 * the core no function of libsoup. The module exports one function,
 * IMZALA_HTTP_BACKEND_SYMBOL, which gives the table for the version of this
 * header it was built with, or NULL for another one: the module is always
 * built and installed with the programs, so a mismatch is a broken
 * installation, reported as such.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-http-message.h"

G_BEGIN_DECLS

#define IMZALA_HTTP_BACKEND_ABI 2
#define IMZALA_HTTP_BACKEND_SYMBOL "imzala_http_backend_get"
#define IMZALA_HTTP_BACKEND_MODULE "imzala-http-soup"

/* What to send; the strings and objects belong to the message. */
typedef struct
{
  const char      *method;
  GUri            *uri;
  ImzalaHttpFlags  flags;
  /* Request headers: name, value, name, value, ..., NULL. */
  const char     **headers;
  const char      *content_type;
  GBytes          *body;
  GTlsDatabase    *extra_ca;
} ImzalaHttpRequestData;

/* What came back; the backend fills it in its send_finish() or send(), and
 * the message frees it (g_free, g_hash_table_unref, g_date_time_unref). */
typedef struct
{
  guint       status;
  char       *content_type;
  GHashTable *content_type_params;
  goffset     content_length;
  GDateTime  *date;
} ImzalaHttpResponseData;

typedef struct
{
  guint          abi;
  /* "3.2.2", newly allocated. */
  char         *(*dup_version)         (void);
  GObject      *(*session_new)         (const char                   *user_agent,
                                        guint                         timeout,
                                        guint                         idle_timeout,
                                        guint                         max_conns_per_host);
  void          (*session_set_timeout) (GObject                      *session,
                                        guint                         timeout);
  void          (*send_async)          (GObject                      *session,
                                        const ImzalaHttpRequestData  *request,
                                        int                           io_priority,
                                        GCancellable                 *cancellable,
                                        GAsyncReadyCallback           callback,
                                        gpointer                      user_data);
  GInputStream *(*send_finish)         (GObject                      *session,
                                        GAsyncResult                 *result,
                                        ImzalaHttpResponseData       *response,
                                        GError                      **error);
  GInputStream *(*send)                (GObject                      *session,
                                        const ImzalaHttpRequestData  *request,
                                        ImzalaHttpResponseData       *response,
                                        GCancellable                 *cancellable,
                                        GError                      **error);
  /* ABI 2 (issue 12): imzala_http_session_set_extra_ca(). */
  void          (*session_set_extra_ca) (GObject                     *session,
                                         GTlsDatabase                *extra_ca);
} ImzalaHttpBackend;

typedef const ImzalaHttpBackend *(*ImzalaHttpBackendGetFunc) (guint abi);

/* For imzala-http-session.c only: the message's two halves. */
const ImzalaHttpRequestData *imzala_http_message_get_request_data  (ImzalaHttpMessage *self);
ImzalaHttpResponseData      *imzala_http_message_get_response_data (ImzalaHttpMessage *self);

G_END_DECLS
