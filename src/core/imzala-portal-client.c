#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <openssl/crypto.h>

#include "imzala-error.h"
#include "imzala-http-session.h"
#include "imzala-json.h"
#include "imzala-portal-answer.h"
#include "imzala-portal-client.h"
#include "imzala-trust.h"

/* The answer is read into a buffer of ours (see Call), first this large,
 * doubled as needed up to the limit. */
#define FIRST_BUFFER (16 * 1024)

typedef enum
{
  CALL_FETCH,
  CALL_SUBMIT,
  CALL_UNBLOCK,
  CALL_REPORT,
} CallKind;

struct _ImzalaPortalClient
{
  GObject parent_instance;

  char         *base_url;  /* without a trailing slash */
  char         *host;      /* host[:port] as shown to the user */
  ImzalaHttpSession *session;
  GTlsDatabase *extra_database;
  guint         timeout;        /* seconds, for each read or write */
  guint         total_timeout;  /* milliseconds, for a whole exchange */
};

static void imzala_portal_client_portal_init (ImzalaPortalInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ImzalaPortalClient, imzala_portal_client, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (IMZALA_TYPE_PORTAL,
                                                      imzala_portal_client_portal_init))

/* One HTTP exchange: the message, the answer as it is read, and what the
 * caller's operation needs to interpret it.
 *
 * The answer is read with g_input_stream_read_async() straight into @body, a
 * buffer of ours that grows by copying (the old one wiped, never realloc(),
 * which would leave a copy behind) and is wiped when the call ends: the
 * answer to an unblock call holds the PUK. What libsoup itself still held
 * then is out of our reach: the TLS record buffer of glib-networking and the
 * few kilobytes of SoupBodyInputStream's read-ahead, both reused or freed
 * with the connection, which is why the connection of an unblock call is
 * closed at once (IMZALA_HTTP_NEW_CONNECTION and "Connection:
 * close") instead of going back to the pool.
 *
 * Every exchange has a total time limit (not one per read, which a portal
 * dripping one byte at a time would reset for ever): @deadline cancels
 * @cancellable, which every step of the exchange uses, and the caller's
 * cancellable is chained to it. */
typedef struct
{
  CallKind       kind;
  ImzalaHttpMessage *message;
  GInputStream  *stream;
  guint8        *body;
  gsize          body_length;
  gsize          body_size;
  char          *code;
  ImzalaRequest *request;
  GCancellable  *cancellable;
  GCancellable  *caller_cancellable;
  gulong         caller_handler;
  GSource       *deadline;
  gboolean       timed_out;
} Call;

static void
call_free (Call *call)
{
  if (call->deadline != NULL)
    {
      g_source_destroy (call->deadline);
      g_source_unref (call->deadline);
    }
  if (call->caller_cancellable != NULL)
    {
      g_cancellable_disconnect (call->caller_cancellable, call->caller_handler);
      g_object_unref (call->caller_cancellable);
    }
  g_clear_object (&call->cancellable);
  g_clear_object (&call->message);
  g_clear_object (&call->stream);
  if (call->body != NULL)
    {
      OPENSSL_cleanse (call->body, call->body_size);
      g_free (call->body);
    }
  g_free (call->code);
  g_clear_object (&call->request);
  g_free (call);
}

/* Room for @more bytes after what was read; FALSE past the limit. */
static gboolean
call_reserve (Call  *call,
              gsize  more)
{
  gsize size = call->body_size > 0 ? call->body_size : FIRST_BUFFER;
  guint8 *grown;

  if (call->body_length + more <= call->body_size)
    return TRUE;
  if (call->body_length + more > IMZALA_PORTAL_CLIENT_MAX_RESPONSE + 1)
    return FALSE;
  while (size < call->body_length + more)
    size *= 2;
  size = MIN (size, (gsize) IMZALA_PORTAL_CLIENT_MAX_RESPONSE + 1);
  grown = g_malloc (size);
  if (call->body_length > 0)
    memcpy (grown, call->body, call->body_length);
  if (call->body != NULL)
    {
      OPENSSL_cleanse (call->body, call->body_size);
      g_free (call->body);
    }
  call->body = grown;
  call->body_size = size;
  return TRUE;
}

static void
caller_cancelled_cb (GCancellable *caller,
                     gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static gboolean
deadline_cb (gpointer user_data)
{
  Call *call = user_data;

  g_debug ("Portal exchange exceeded its total time limit");
  call->timed_out = TRUE;
  g_cancellable_cancel (call->cancellable);
  return G_SOURCE_REMOVE;
}

/* The call's own cancellable and its deadline, @milliseconds from now. */
static void
call_arm (Call         *call,
          GCancellable *caller_cancellable,
          guint         milliseconds)
{
  call->cancellable = g_cancellable_new ();
  if (caller_cancellable != NULL)
    {
      call->caller_cancellable = g_object_ref (caller_cancellable);
      call->caller_handler = g_cancellable_connect (caller_cancellable,
                                                    G_CALLBACK (caller_cancelled_cb),
                                                    g_object_ref (call->cancellable),
                                                    g_object_unref);
    }
  call->deadline = g_timeout_source_new (milliseconds);
  g_source_set_callback (call->deadline, deadline_cb, call, NULL);
  g_source_set_static_name (call->deadline, "[imzala] portal exchange deadline");
  g_source_attach (call->deadline, g_main_context_get_thread_default ());
}

/* ---- Construction ---- */

static void
imzala_portal_client_finalize (GObject *object)
{
  ImzalaPortalClient *self = IMZALA_PORTAL_CLIENT (object);

  g_free (self->base_url);
  g_free (self->host);
  g_clear_object (&self->session);
  g_clear_object (&self->extra_database);

  G_OBJECT_CLASS (imzala_portal_client_parent_class)->finalize (object);
}

static void
imzala_portal_client_class_init (ImzalaPortalClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_client_finalize;
}

static void
imzala_portal_client_init (ImzalaPortalClient *self)
{
  const char *total = g_getenv ("IMZALA_PORTAL_CLIENT_TIMEOUT_MS");

  self->timeout = IMZALA_PORTAL_CLIENT_TIMEOUT_SECONDS;
  self->total_timeout = IMZALA_PORTAL_CLIENT_TIMEOUT_SECONDS * 1000;
  /* For tests that run imzala-cli against a portal that drips its answer;
   * a program that embeds the client calls imzala_portal_client_set_timeout(). */
  if (total != NULL && g_ascii_strtoull (total, NULL, 10) > 0)
    self->total_timeout = (guint) MIN (g_ascii_strtoull (total, NULL, 10), G_MAXUINT);
}

ImzalaPortalClient *
imzala_portal_client_new (const char  *base_url,
                          const char  *extra_ca_file,
                          GError     **error)
{
  g_autoptr(ImzalaPortalClient) self = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *user_agent = NULL;
  const char *scheme, *host;
  gint port;
  gsize length;

  g_return_val_if_fail (base_url != NULL, NULL);

  uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL)
    {
      g_debug ("Cannot parse portal URL: %s", local_error->message);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The portal address is not a valid web address."));
      return NULL;
    }

  /* The check is on the scheme alone and comes before anything touches the
   * network, so a plain-HTTP address never leaks even a DNS query. */
  scheme = g_uri_get_scheme (uri);
  if (scheme == NULL || g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_INSECURE_URL,
                   _("The portal address must start with https://. İmzala only talks to a portal "
                     "over an encrypted connection."));
      return NULL;
    }

  host = g_uri_get_host (uri);
  if (host == NULL || *host == '\0' || g_uri_get_userinfo (uri) != NULL ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The portal address is not a valid web address."));
      return NULL;
    }

  self = g_object_new (IMZALA_TYPE_PORTAL_CLIENT, NULL);

  self->base_url = g_strdup (base_url);
  length = strlen (self->base_url);
  while (length > 0 && self->base_url[length - 1] == '/')
    self->base_url[--length] = '\0';

  port = g_uri_get_port (uri);
  {
    g_autofree char *bracketed = strchr (host, ':') != NULL ? g_strdup_printf ("[%s]", host)
                                                             : g_strdup (host);
    /* Host names compare case-insensitively; the protocol's "portal" member
     * is in lower case (docs/protocol.md §4.1). */
    g_autofree char *lower = g_ascii_strdown (bracketed, -1);
    if (port > 0 && port != 443)
      self->host = g_strdup_printf ("%s:%d", lower, port);
    else
      self->host = g_steal_pointer (&lower);
  }

  if (extra_ca_file != NULL)
    {
      /* A relative path (as typed on a command line) is taken relative to
       * the current folder. */
      g_autofree char *ca_path = g_canonicalize_filename (extra_ca_file, NULL);

      if (!g_file_test (ca_path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_TLS,
                       _("The portal CA file “%s” does not exist."), extra_ca_file);
          return NULL;
        }
      /* PEM, DER or PKCS#7, as a CA publishes its certificate. */
      self->extra_database = imzala_trust_new_tls_database (ca_path, &local_error);
      if (self->extra_database == NULL)
        {
          g_debug ("Cannot load %s: %s", extra_ca_file, local_error->message);
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_TLS,
                       _("The portal CA file “%s” does not hold a readable certificate."),
                       extra_ca_file);
          return NULL;
        }
    }

  user_agent = g_strdup_printf ("Imzala/%s", PACKAGE_VERSION);
  self->session = imzala_http_session_new (user_agent, self->timeout, 60, 2, error);
  /* The portal's CA is asked before the system store, which a private
   * portal then never needs parsed (issue 12); a public portal still
   * verifies to the store. */
  if (self->session != NULL && self->extra_database != NULL)
    imzala_http_session_set_extra_ca (self->session, self->extra_database);
  if (self->session == NULL)
    return NULL;

  return g_steal_pointer (&self);
}

const char *
imzala_portal_client_get_base_url (ImzalaPortalClient *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_CLIENT (self), NULL);
  return self->base_url;
}

void
imzala_portal_client_set_timeout (ImzalaPortalClient *self,
                                  guint               seconds)
{
  g_return_if_fail (IMZALA_IS_PORTAL_CLIENT (self));
  self->timeout = seconds;
  self->total_timeout = seconds * 1000;
  imzala_http_session_set_timeout (self->session, seconds);
}

void
imzala_portal_client_set_total_timeout (ImzalaPortalClient *self,
                                        guint               milliseconds)
{
  g_return_if_fail (IMZALA_IS_PORTAL_CLIENT (self));
  g_return_if_fail (milliseconds > 0);
  self->total_timeout = milliseconds;
}

/* ---- Errors ---- */

static GError *
timed_out_error (ImzalaPortalClient *self)
{
  return g_error_new (IMZALA_ERROR, IMZALA_ERROR_NETWORK,
                      _("The portal at %s did not answer in time. Try again."), self->host);
}

static GError *
error_from_transport (ImzalaPortalClient *self,
                      const GError       *error)
{
  g_debug ("Portal transport error: %s (%s %d)", error->message,
           g_quark_to_string (error->domain), error->code);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);
  if (error->domain == G_TLS_ERROR)
    {
      if (error->code == G_TLS_ERROR_BAD_CERTIFICATE)
        return g_error_new (IMZALA_ERROR, IMZALA_ERROR_TLS,
                            _("The identity of the portal at %s cannot be verified, so İmzala "
                              "did not connect to it."), self->host);
      return g_error_new (IMZALA_ERROR, IMZALA_ERROR_TLS,
                          _("A secure connection to the portal at %s could not be made."),
                          self->host);
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (IMZALA_ERROR, IMZALA_ERROR_NETWORK,
                        _("The portal at %s did not answer in time. Try again."), self->host);
  return g_error_new (IMZALA_ERROR, IMZALA_ERROR_NETWORK,
                      _("The portal at %s cannot be reached. Check the network connection and "
                        "try again."), self->host);
}

static GError *
protocol_error (const char *why)
{
  g_debug ("Portal protocol error: %s", why);
  return g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_PROTOCOL,
                              _("The portal sent an answer that İmzala cannot accept."));
}

/* ---- Request bodies ---- */

static char *
encode_base64 (GBytes *bytes)
{
  gsize length;
  const guchar *data = g_bytes_get_data (bytes, &length);
  return g_base64_encode (data, length);
}

static GBytes *
builder_to_bytes (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  gsize length;
  char *text;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  return g_bytes_new_take (text, length);
}

static JsonBuilder *
begin_body (ImzalaRequest *request)
{
  JsonBuilder *builder = json_builder_new ();
  g_autofree char *nonce = encode_base64 (imzala_request_get_nonce (request));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, IMZALA_PORTAL_PROTOCOL_VERSION);
  json_builder_set_member_name (builder, "nonce");
  json_builder_add_string_value (builder, nonce);
  return builder;
}

/* ---- One HTTP exchange ---- */

/* The answer is read; what it means is decided by imzala-portal-answer.c. */
static void
call_complete (GTask *task)
{
  ImzalaPortalClient *self = g_task_get_source_object (task);
  Call *call = g_task_get_task_data (task);
  g_autoptr(GBytes) json = NULL;
  g_autoptr(GError) error = NULL;
  GHashTable *params = NULL;
  const char *media_type;
  gboolean is_json;
  guint status;

  status = imzala_http_message_get_status (call->message);
  media_type = imzala_http_message_get_content_type (call->message, &params);
  is_json = imzala_json_is_media_type (media_type, params);
  if (!is_json)
    g_debug ("Portal answer of type %s", media_type != NULL ? media_type : "(none)");
  /* The bytes stay in call->body, which call_free() wipes (the answer to an
   * unblock call holds the PUK), so no copy of them is made here. */
  if (is_json)
    json = g_bytes_new_static (call->body != NULL ? call->body : (guint8 *) "", call->body_length);

  if (status != IMZALA_HTTP_STATUS_OK)
    {
      g_task_return_error (task, imzala_portal_answer_parse_error (status, json));
      return;
    }
  if (json == NULL)
    {
      g_task_return_error (task, protocol_error ("the answer is not JSON"));
      return;
    }

  switch (call->kind)
    {
    case CALL_FETCH:
      {
        GDateTime *date_header = imzala_http_message_get_date (call->message);
        ImzalaRequest *request;

        request = imzala_portal_answer_parse_request (json, self->host, call->code,
                                                      date_header, &error);
        if (request == NULL)
          g_task_return_error (task, g_steal_pointer (&error));
        else
          g_task_return_pointer (task, request, g_object_unref);
      }
      break;

    case CALL_SUBMIT:
    case CALL_REPORT:
      {
        char *message = call->kind == CALL_SUBMIT
          ? imzala_portal_answer_parse_status (json, "accepted",
                                               _("The portal accepted the signature."), &error)
          : imzala_portal_answer_parse_status (json, "recorded",
                                               _("The portal recorded the result."), &error);
        if (message == NULL)
          g_task_return_error (task, g_steal_pointer (&error));
        else
          g_task_return_pointer (task, message, g_free);
      }
      break;

    case CALL_UNBLOCK:
      {
        /* Taken from our own buffer, which call_free() wipes. */
        ImzalaSecret *puk = imzala_portal_answer_take_puk (call->body, call->body_length, &error);
        if (puk == NULL)
          g_task_return_error (task, g_steal_pointer (&error));
        else
          g_task_return_pointer (task, puk, (GDestroyNotify) imzala_secret_unref);
      }
      break;

    default:
      g_assert_not_reached ();
    }
}

static void read_more (GTask *task);

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImzalaPortalClient *self = g_task_get_source_object (task);
  Call *call = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gssize length;

  length = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (length < 0)
    {
      if (call->timed_out)
        g_task_return_error (task, timed_out_error (self));
      else
        g_task_return_error (task, error_from_transport (self, error));
      return;
    }
  if (length == 0)
    {
      g_input_stream_close (call->stream, NULL, NULL);
      call_complete (task);
      return;
    }
  call->body_length += (gsize) length;
  read_more (task);
}

static void
read_more (GTask *task)
{
  Call *call = g_task_get_task_data (task);

  if (!call_reserve (call, 1) || call->body_length > IMZALA_PORTAL_CLIENT_MAX_RESPONSE)
    {
      g_debug ("Portal answer exceeds %d bytes", IMZALA_PORTAL_CLIENT_MAX_RESPONSE);
      /* Closing drops the connection instead of reading the rest. */
      g_input_stream_close (call->stream, NULL, NULL);
      g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_TOO_LARGE,
                               _("The portal's answer is too large to be accepted."));
      return;
    }
  g_input_stream_read_async (call->stream, call->body + call->body_length,
                             call->body_size - call->body_length, G_PRIORITY_DEFAULT,
                             call->cancellable, read_cb, g_object_ref (task));
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImzalaPortalClient *self = g_task_get_source_object (task);
  Call *call = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  goffset declared;

  call->stream = imzala_http_session_send_finish (IMZALA_HTTP_SESSION (source), result, &error);
  if (call->stream == NULL)
    {
      if (call->timed_out)
        g_task_return_error (task, timed_out_error (self));
      else
        g_task_return_error (task, error_from_transport (self, error));
      return;
    }

  declared = imzala_http_message_get_content_length (call->message);
  if (declared > IMZALA_PORTAL_CLIENT_MAX_RESPONSE)
    {
      g_debug ("Portal announces %" G_GOFFSET_FORMAT " bytes", declared);
      g_input_stream_close (call->stream, NULL, NULL);
      g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_TOO_LARGE,
                               _("The portal's answer is too large to be accepted."));
      return;
    }

  read_more (task);
}

static void
call_start (ImzalaPortalClient  *self,
            CallKind             kind,
            const char          *method,
            const char          *code,
            const char          *suffix,
            ImzalaRequest       *request,
            GBytes              *body,
            gpointer             source_tag,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *url = NULL;
  Call *call;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  call = g_new0 (Call, 1);
  call->kind = kind;
  call->code = g_strdup (code);
  call->request = request != NULL ? g_object_ref (request) : NULL;
  g_task_set_task_data (task, call, (GDestroyNotify) call_free);
  call_arm (call, cancellable, self->total_timeout);

  /* The code is from the Crockford alphabet only, so it needs no escaping. */
  url = g_strconcat (self->base_url, "/api/v1/requests/", code, suffix, NULL);
  call->message = imzala_http_message_new (method, url);
  if (call->message == NULL)
    {
      g_task_return_error (task, protocol_error ("cannot build the URL"));
      return;
    }

  /* A redirect could lead to plain HTTP or another host; the protocol has
   * none, so an answer 3xx is an error. */
  imzala_http_message_add_flags (call->message, IMZALA_HTTP_NO_REDIRECT);
  /* libsoup gives a POST a new connection unless it may be sent again on a
   * kept connection that turns out closed. Ours may: the portal takes a
   * code's signatures once (a repeat is 409 code-used), and one connection
   * for the GET and the POST saves a TLS handshake and a reading of the
   * trust store per request (issue 12). */
  if (body != NULL)
    imzala_http_message_add_flags (call->message, IMZALA_HTTP_IDEMPOTENT);
  imzala_http_message_set_header (call->message, "Accept", "application/json");
  if (body != NULL)
    imzala_http_message_set_body (call->message, "application/json", body);
  if (kind == CALL_UNBLOCK)
    {
      /* The connection that carried the PUK is not kept for another
       * request: its buffers go with it (see Call). */
      imzala_http_message_add_flags (call->message, IMZALA_HTTP_NEW_CONNECTION);
      imzala_http_message_set_header (call->message, "Connection", "close");
    }
  imzala_http_message_set_extra_ca (call->message, self->extra_database);

  g_debug ("%s %s", method, url);
  imzala_http_session_send_async (self->session, call->message, G_PRIORITY_DEFAULT,
                                  call->cancellable, send_cb, g_steal_pointer (&task));
}

/* ---- The portal's clock ---- */

static void
query_time_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImzalaPortalClient *self = g_task_get_source_object (task);
  Call *call = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GDateTime *date;

  /* A HEAD answer has no body: the stream is only closed. */
  call->stream = imzala_http_session_send_finish (IMZALA_HTTP_SESSION (source), result, &error);
  if (call->stream == NULL)
    {
      g_task_return_error (task, call->timed_out ? timed_out_error (self)
                                                 : error_from_transport (self, error));
      return;
    }
  g_input_stream_close (call->stream, NULL, NULL);

  date = imzala_http_message_get_date (call->message);
  if (date == NULL)
    {
      g_task_return_error (task, protocol_error ("the answer has no valid Date header"));
      return;
    }
  g_task_return_pointer (task, g_date_time_ref (date), (GDestroyNotify) g_date_time_unref);
}

void
imzala_portal_client_query_time_async (ImzalaPortalClient  *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *url = NULL;
  Call *call;

  g_return_if_fail (IMZALA_IS_PORTAL_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_portal_client_query_time_async);
  call = g_new0 (Call, 1);
  g_task_set_task_data (task, call, (GDestroyNotify) call_free);
  call_arm (call, cancellable, self->total_timeout);

  url = g_strconcat (self->base_url, "/api/v1/", NULL);
  call->message = imzala_http_message_new ("HEAD", url);
  if (call->message == NULL)
    {
      g_task_return_error (task, protocol_error ("cannot build the URL"));
      return;
    }
  imzala_http_message_add_flags (call->message, IMZALA_HTTP_NO_REDIRECT);
  imzala_http_message_set_extra_ca (call->message, self->extra_database);

  g_debug ("HEAD %s", url);
  imzala_http_session_send_async (self->session, call->message, G_PRIORITY_DEFAULT,
                                  call->cancellable, query_time_cb, g_steal_pointer (&task));
}

GDateTime *
imzala_portal_client_query_time_finish (ImzalaPortalClient  *self,
                                        GAsyncResult        *result,
                                        GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- ImzalaPortal ---- */

static void
imzala_portal_client_fetch_request_async (ImzalaPortal        *portal,
                                          const char          *code,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  ImzalaPortalClient *self = IMZALA_PORTAL_CLIENT (portal);
  g_autofree char *normalized = NULL;
  GError *error = NULL;

  normalized = imzala_portal_normalize_code (code, &error);
  if (normalized == NULL)
    {
      g_task_report_error (self, callback, user_data,
                           imzala_portal_client_fetch_request_async, error);
      return;
    }

  call_start (self, CALL_FETCH, "GET", normalized, "", NULL, NULL,
              imzala_portal_client_fetch_request_async, cancellable, callback, user_data);
}

static gpointer
finish_pointer (gpointer      self,
                GAsyncResult *result,
                gpointer      source_tag,
                GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, source_tag), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static ImzalaRequest *
imzala_portal_client_fetch_request_finish (ImzalaPortal *portal,
                                           GAsyncResult *result,
                                           GError      **error)
{
  return finish_pointer (portal, result, imzala_portal_client_fetch_request_async, error);
}

static void
imzala_portal_client_submit_signatures_async (ImzalaPortal        *portal,
                                              ImzalaRequest       *request,
                                              GPtrArray           *signatures,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data)
{
  ImzalaPortalClient *self = IMZALA_PORTAL_CLIENT (portal);
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(GBytes) body = NULL;

  if (signatures->len != imzala_request_get_n_texts (request) || signatures->len == 0)
    {
      g_task_report_new_error (self, callback, user_data,
                               imzala_portal_client_submit_signatures_async,
                               IMZALA_ERROR, IMZALA_ERROR_FAILED,
                               _("There must be exactly one signature for each text."));
      return;
    }

  builder = begin_body (request);
  json_builder_set_member_name (builder, "signatures");
  json_builder_begin_array (builder);
  for (guint i = 0; i < signatures->len; i++)
    {
      g_autofree char *encoded = encode_base64 (g_ptr_array_index (signatures, i));
      json_builder_add_string_value (builder, encoded);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  body = builder_to_bytes (builder);

  call_start (self, CALL_SUBMIT, "POST", imzala_request_get_code (request),
              "/signatures", request, body, imzala_portal_client_submit_signatures_async,
              cancellable, callback, user_data);
}

static char *
imzala_portal_client_submit_signatures_finish (ImzalaPortal *portal,
                                               GAsyncResult *result,
                                               GError      **error)
{
  return finish_pointer (portal, result, imzala_portal_client_submit_signatures_async, error);
}

static void
imzala_portal_client_unblock_async (ImzalaPortal        *portal,
                                    ImzalaRequest       *request,
                                    const char          *token_serial,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  ImzalaPortalClient *self = IMZALA_PORTAL_CLIENT (portal);
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(GBytes) body = NULL;

  builder = begin_body (request);
  json_builder_set_member_name (builder, "token_serial");
  json_builder_add_string_value (builder, token_serial);
  json_builder_end_object (builder);
  body = builder_to_bytes (builder);

  call_start (self, CALL_UNBLOCK, "POST", imzala_request_get_code (request),
              "/unblock", request, body, imzala_portal_client_unblock_async,
              cancellable, callback, user_data);
}

static ImzalaSecret *
imzala_portal_client_unblock_finish (ImzalaPortal *portal,
                                     GAsyncResult *result,
                                     GError      **error)
{
  return finish_pointer (portal, result, imzala_portal_client_unblock_async, error);
}

static void
imzala_portal_client_report_unblock_async (ImzalaPortal        *portal,
                                           ImzalaRequest       *request,
                                           gboolean             success,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  ImzalaPortalClient *self = IMZALA_PORTAL_CLIENT (portal);
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(GBytes) body = NULL;

  builder = begin_body (request);
  json_builder_set_member_name (builder, "success");
  json_builder_add_boolean_value (builder, success);
  json_builder_end_object (builder);
  body = builder_to_bytes (builder);

  call_start (self, CALL_REPORT, "POST", imzala_request_get_code (request),
              "/unblock-result", request, body, imzala_portal_client_report_unblock_async,
              cancellable, callback, user_data);
}

static char *
imzala_portal_client_report_unblock_finish (ImzalaPortal *portal,
                                            GAsyncResult *result,
                                            GError      **error)
{
  return finish_pointer (portal, result, imzala_portal_client_report_unblock_async, error);
}

static const char *
imzala_portal_client_get_host (ImzalaPortal *portal)
{
  return IMZALA_PORTAL_CLIENT (portal)->host;
}

static void
imzala_portal_client_portal_init (ImzalaPortalInterface *iface)
{
  iface->fetch_request_async = imzala_portal_client_fetch_request_async;
  iface->fetch_request_finish = imzala_portal_client_fetch_request_finish;
  iface->submit_signatures_async = imzala_portal_client_submit_signatures_async;
  iface->submit_signatures_finish = imzala_portal_client_submit_signatures_finish;
  iface->unblock_async = imzala_portal_client_unblock_async;
  iface->unblock_finish = imzala_portal_client_unblock_finish;
  iface->report_unblock_async = imzala_portal_client_report_unblock_async;
  iface->report_unblock_finish = imzala_portal_client_report_unblock_finish;
  iface->get_host = imzala_portal_client_get_host;
}
