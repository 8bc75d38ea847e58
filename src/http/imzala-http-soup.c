/* imzala-http-soup.c: the core's HTTP seam (src/core/imzala-http-session.h)
 * implemented with libsoup 3. Built as a private shared module
 * (<libdir>/imzala/imzala-http-soup.so) that the core opens on its first
 * HTTP exchange, so that only a program that talks HTTP loads libsoup and
 * its libraries.
 *
 * It calls no function of the core, only GLib, GIO and libsoup: the table
 * of imzala-http-backend.h is all it shares with the core.
 */
#define G_LOG_DOMAIN "imzala-http"

#include "config.h"

#include <libsoup/soup.h>

#include "imzala-http-backend.h"
#include "imzala-http-system-trust.h"

/* Exported; the rest of the module is hidden (-fvisibility=hidden). */
G_MODULE_EXPORT const ImzalaHttpBackend *imzala_http_backend_get (guint abi);

static char *
dup_version (void)
{
  return g_strdup_printf ("%u.%u.%u", soup_get_major_version (), soup_get_minor_version (),
                          soup_get_micro_version ());
}

static GObject *
session_new (const char *user_agent,
             guint       timeout,
             guint       idle_timeout,
             guint       max_conns_per_host)
{
  /* Every session of the process verifies against the one system trust
   * store, parsed once (imzala-http-system-trust.c says why libsoup's
   * default made each connection parse it again). */
  g_autoptr(GTlsDatabase) trust = imzala_http_system_trust_dup_default ();

  /* max-conns-per-host can only be given at construction. */
  if (max_conns_per_host > 0)
    return G_OBJECT (soup_session_new_with_options ("user-agent", user_agent,
                                                    "timeout", timeout,
                                                    "idle-timeout", idle_timeout,
                                                    "tls-database", trust,
                                                    "max-conns-per-host", max_conns_per_host,
                                                    NULL));
  return G_OBJECT (soup_session_new_with_options ("user-agent", user_agent,
                                                  "timeout", timeout,
                                                  "idle-timeout", idle_timeout,
                                                  "tls-database", trust,
                                                  NULL));
}

static void
session_set_timeout (GObject *session,
                     guint    timeout)
{
  g_object_set (session, "timeout", timeout, NULL);
}

static void
session_set_extra_ca (GObject      *session,
                      GTlsDatabase *extra_ca)
{
  g_autoptr(GTlsDatabase) trust = NULL;

  if (extra_ca != NULL)
    trust = imzala_http_system_trust_new_with_extra (extra_ca);
  else
    trust = imzala_http_system_trust_dup_default ();
  g_object_set (session, "tls-database", trust, NULL);
}

/* ---- TLS: the extra CA ---- */

/* libsoup verifies against the system trust store and only asks here when
 * that failed. The extra CA (the portal's, from --portal-ca or the TSA's
 * CA file) is the one other anchor accepted: the whole chain and the host
 * name are verified again against it alone, so a certificate from any
 * other CA, or for another host, is still refused. Shared by the portal
 * client, the TSA client and the status fetches
 * (imzala_http_message_set_extra_ca()). */
static gboolean
accept_extra_ca_cb (SoupMessage          *message,
                    GTlsCertificate      *peer,
                    GTlsCertificateFlags  system_errors,
                    gpointer              user_data)
{
  GTlsDatabase *extra_ca = user_data;
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GError) error = NULL;
  GUri *uri = soup_message_get_uri (message);
  GTlsCertificateFlags flags;
  gint port;

  if (peer == NULL)
    return FALSE;
  port = g_uri_get_port (uri);
  identity = g_network_address_new (g_uri_get_host (uri), port > 0 ? port : 443);
  flags = g_tls_database_verify_chain (extra_ca, peer, G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                       identity, NULL, G_TLS_DATABASE_VERIFY_NONE, NULL, &error);
  if (error != NULL || flags != 0)
    {
      g_debug ("%s: certificate refused: system flags 0x%x, extra CA flags 0x%x%s%s",
               g_uri_get_host (uri), system_errors, flags, error ? ": " : "", error ? error->message : "");
      return FALSE;
    }
  return TRUE;
}

/* ---- One exchange ---- */

static SoupMessage *
message_new (const ImzalaHttpRequestData *request)
{
  SoupMessage *message = soup_message_new_from_uri (request->method, request->uri);
  SoupMessageFlags flags = 0;

  if (request->flags & IMZALA_HTTP_NO_REDIRECT)
    flags |= SOUP_MESSAGE_NO_REDIRECT;
  if (request->flags & IMZALA_HTTP_IDEMPOTENT)
    flags |= SOUP_MESSAGE_IDEMPOTENT;
  if (request->flags & IMZALA_HTTP_NEW_CONNECTION)
    flags |= SOUP_MESSAGE_NEW_CONNECTION;
  soup_message_add_flags (message, flags);

  for (guint i = 0; request->headers != NULL && request->headers[i] != NULL; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (message),
                                  request->headers[i], request->headers[i + 1]);
  if (request->body != NULL)
    soup_message_set_request_body_from_bytes (message, request->content_type, request->body);
  if (request->extra_ca != NULL)
    g_signal_connect_data (message, "accept-certificate", G_CALLBACK (accept_extra_ca_cb),
                           g_object_ref (request->extra_ca),
                           (GClosureNotify) (void (*) (void)) g_object_unref, 0);
  return message;
}

static void
read_response (SoupMessage            *message,
               ImzalaHttpResponseData *response)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);
  GHashTable *params = NULL;
  const char *content_type, *date;

  response->status = soup_message_get_status (message);
  content_type = soup_message_headers_get_content_type (headers, &params);
  response->content_type = g_strdup (content_type);
  response->content_type_params = params;
  /* libsoup says 0 for "none declared" as well; only a Content-Length
   * header declares a length. */
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
    response->content_length = soup_message_headers_get_content_length (headers);
  else
    response->content_length = -1;
  date = soup_message_headers_get_one (headers, "Date");
  response->date = date != NULL ? soup_date_time_new_from_http_string (date) : NULL;
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GInputStream *stream;
  GError *error = NULL;

  stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (stream == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, stream, g_object_unref);
}

static void
send_async (GObject                     *session,
            const ImzalaHttpRequestData *request,
            int                          io_priority,
            GCancellable                *cancellable,
            GAsyncReadyCallback          callback,
            gpointer                     user_data)
{
  GTask *task = g_task_new (session, cancellable, callback, user_data);
  SoupMessage *message = message_new (request);

  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, message, g_object_unref);
  soup_session_send_async (SOUP_SESSION (session), message, io_priority, cancellable,
                           send_cb, task);
}

static GInputStream *
send_finish (GObject                 *session,
             GAsyncResult            *result,
             ImzalaHttpResponseData  *response,
             GError                 **error)
{
  GInputStream *stream;

  g_return_val_if_fail (g_task_is_valid (result, session), NULL);

  stream = g_task_propagate_pointer (G_TASK (result), error);
  if (stream != NULL)
    read_response (g_task_get_task_data (G_TASK (result)), response);
  return stream;
}

static GInputStream *
send_sync (GObject                      *session,
           const ImzalaHttpRequestData  *request,
           ImzalaHttpResponseData       *response,
           GCancellable                 *cancellable,
           GError                      **error)
{
  g_autoptr(SoupMessage) message = message_new (request);
  GInputStream *stream;

  stream = soup_session_send (SOUP_SESSION (session), message, cancellable, error);
  if (stream != NULL)
    read_response (message, response);
  return stream;
}

static const ImzalaHttpBackend backend = {
  .abi = IMZALA_HTTP_BACKEND_ABI,
  .dup_version = dup_version,
  .session_new = session_new,
  .session_set_timeout = session_set_timeout,
  .session_set_extra_ca = session_set_extra_ca,
  .send_async = send_async,
  .send_finish = send_finish,
  .send = send_sync,
};

const ImzalaHttpBackend *
imzala_http_backend_get (guint abi)
{
  return abi == IMZALA_HTTP_BACKEND_ABI ? &backend : NULL;
}
