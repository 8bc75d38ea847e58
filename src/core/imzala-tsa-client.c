#define G_LOG_DOMAIN "imzala-tsa"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "imzala-error.h"
#include "imzala-http-session.h"
#include "imzala-trust.h"
#include "imzala-tsa-client.h"

struct _ImzalaTsaClient
{
  GObject          parent_instance;

  char            *url;
  char            *host;
  ImzalaHttpSession *session;
  GTlsDatabase    *extra_database;
  guint            timeout;
};

G_DEFINE_FINAL_TYPE (ImzalaTsaClient, imzala_tsa_client, G_TYPE_OBJECT)

static void
imzala_tsa_client_finalize (GObject *object)
{
  ImzalaTsaClient *self = IMZALA_TSA_CLIENT (object);

  g_free (self->url);
  g_free (self->host);
  g_clear_object (&self->session);
  g_clear_object (&self->extra_database);

  G_OBJECT_CLASS (imzala_tsa_client_parent_class)->finalize (object);
}

static void
imzala_tsa_client_class_init (ImzalaTsaClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_tsa_client_finalize;
}

static void
imzala_tsa_client_init (ImzalaTsaClient *self)
{
  self->timeout = IMZALA_TSA_CLIENT_TIMEOUT_SECONDS;
}

static void
log_openssl_errors (const char *what)
{
  unsigned long code;

  while ((code = ERR_get_error ()) != 0)
    {
      char buffer[256];

      ERR_error_string_n (code, buffer, sizeof buffer);
      g_debug ("%s: %s", what, buffer);
    }
}

ImzalaTsaClient *
imzala_tsa_client_new (const char  *url,
                       const char  *extra_ca_file,
                       GError     **error)
{
  g_autoptr(ImzalaTsaClient) self = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *user_agent = NULL;
  const char *scheme;

  g_return_val_if_fail (url != NULL, NULL);

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0'
      || g_uri_get_userinfo (uri) != NULL)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP,
                   _("The time-stamp server address “%s” is not a valid web address."), url);
      return NULL;
    }
  /* As for the portal: checked before anything touches the network. */
  scheme = g_uri_get_scheme (uri);
  if (scheme == NULL || g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_INSECURE_URL,
                   _("The time-stamp server address must start with https://."));
      return NULL;
    }

  self = g_object_new (IMZALA_TYPE_TSA_CLIENT, NULL);
  self->url = g_strdup (url);
  if (g_uri_get_port (uri) > 0 && g_uri_get_port (uri) != 443)
    self->host = g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));
  else
    self->host = g_strdup (g_uri_get_host (uri));

  if (extra_ca_file != NULL)
    {
      self->extra_database = imzala_trust_new_tls_database (extra_ca_file, &local_error);
      if (self->extra_database == NULL)
        {
          g_debug ("Cannot load %s: %s", extra_ca_file, local_error->message);
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_TLS,
                       _("The CA file “%s” does not hold a readable certificate."), extra_ca_file);
          return NULL;
        }
    }

  user_agent = g_strdup_printf ("Imzala/%s", PACKAGE_VERSION);
  self->session = imzala_http_session_new (user_agent, self->timeout, 60, 0, error);
  if (self->session == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

GTlsDatabase *
imzala_tsa_client_get_extra_database (ImzalaTsaClient *self)
{
  g_return_val_if_fail (IMZALA_IS_TSA_CLIENT (self), NULL);
  return self->extra_database;
}

const char *
imzala_tsa_client_get_url (ImzalaTsaClient *self)
{
  g_return_val_if_fail (IMZALA_IS_TSA_CLIENT (self), NULL);
  return self->url;
}

void
imzala_tsa_client_set_timeout (ImzalaTsaClient *self,
                               guint            seconds)
{
  g_return_if_fail (IMZALA_IS_TSA_CLIENT (self));
  self->timeout = seconds;
  imzala_http_session_set_timeout (self->session, seconds);
}

/* ---- The query and the reply, without the network ---- */

static GError *
refused (const char *why)
{
  g_debug ("Time-stamp reply refused: %s", why);
  log_openssl_errors (why);
  return g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP,
                              _("The time-stamp server gave an answer that cannot be accepted, "
                                "so the signature was not completed and nothing was sent."));
}

GBytes *
imzala_tsa_client_build_query (GBytes  *data,
                               GError **error)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  unsigned char nonce_bytes[8];
  TS_REQ *request = NULL;
  TS_MSG_IMPRINT *imprint = NULL;
  X509_ALGOR *algorithm = NULL;
  ASN1_INTEGER *nonce = NULL;
  BIGNUM *nonce_bn = NULL;
  unsigned char *der = NULL;
  GBytes *result = NULL;
  gsize size;
  const void *bytes;
  int length;

  g_return_val_if_fail (data != NULL, NULL);

  bytes = g_bytes_get_data (data, &size);
  if (!EVP_Digest (bytes, size, digest, &digest_length, EVP_sha256 (), NULL))
    goto out;
  /* The nonce ties the reply to this query (a replayed reply to another
   * query of ours is refused); 64 bits as most TSAs expect. The top bit
   * is cleared so that the INTEGER is positive without a leading zero. */
  if (RAND_bytes (nonce_bytes, sizeof nonce_bytes) != 1)
    goto out;
  nonce_bytes[0] &= 0x7f;
  nonce_bytes[0] |= 0x01;

  request = TS_REQ_new ();
  imprint = TS_MSG_IMPRINT_new ();
  algorithm = X509_ALGOR_new ();
  nonce_bn = BN_bin2bn (nonce_bytes, sizeof nonce_bytes, NULL);
  if (request == NULL || imprint == NULL || algorithm == NULL || nonce_bn == NULL)
    goto out;
  nonce = BN_to_ASN1_INTEGER (nonce_bn, NULL);
  if (nonce == NULL
      || !TS_REQ_set_version (request, 1)
      || !X509_ALGOR_set0 (algorithm, OBJ_nid2obj (NID_sha256), V_ASN1_NULL, NULL)
      || !TS_MSG_IMPRINT_set_algo (imprint, algorithm)
      || !TS_MSG_IMPRINT_set_msg (imprint, digest, (int) digest_length)
      || !TS_REQ_set_msg_imprint (request, imprint)
      || !TS_REQ_set_nonce (request, nonce)
      || !TS_REQ_set_cert_req (request, 1))
    goto out;

  length = i2d_TS_REQ (request, &der);
  if (length > 0)
    result = g_bytes_new (der, length);

out:
  if (result == NULL)
    {
      log_openssl_errors ("Building the time-stamp query failed");
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP,
                           _("The time-stamp query could not be built."));
    }
  OPENSSL_free (der);
  BN_free (nonce_bn);
  ASN1_INTEGER_free (nonce);
  X509_ALGOR_free (algorithm);
  TS_MSG_IMPRINT_free (imprint);
  TS_REQ_free (request);
  return result;
}

/* The token's own signature, with the certificate it carries, and that
 * certificate's purpose. No trust decision: that is the verifier's. */
static gboolean
check_token_signature (PKCS7 *token)
{
  unsigned char *der = NULL;
  const unsigned char *p;
  CMS_ContentInfo *cms = NULL;
  STACK_OF (X509) *signers = NULL;
  X509 *tsa;
  int length;
  gboolean ok = FALSE;

  length = i2d_PKCS7 (token, &der);
  if (length <= 0)
    return FALSE;
  p = der;
  cms = d2i_CMS_ContentInfo (NULL, &p, length);
  if (cms == NULL)
    goto out;
  if (CMS_verify (cms, NULL, NULL, NULL, NULL,
                  CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1)
    goto out;
  signers = CMS_get0_signers (cms);
  if (signers == NULL || sk_X509_num (signers) != 1)
    goto out;
  tsa = sk_X509_value (signers, 0);
  /* RFC 3161 §2.3: the TSA's certificate has exactly one extended key
   * usage, timeStamping, in a critical extension. */
  if ((X509_get_extension_flags (tsa) & EXFLAG_XKUSAGE) == 0
      || X509_get_extended_key_usage (tsa) != XKU_TIMESTAMP)
    goto out;
  {
    int index = X509_get_ext_by_NID (tsa, NID_ext_key_usage, -1);

    if (index < 0 || !X509_EXTENSION_get_critical (X509_get_ext (tsa, index)))
      goto out;
  }
  ok = TRUE;

out:
  sk_X509_free (signers);
  CMS_ContentInfo_free (cms);
  OPENSSL_free (der);
  return ok;
}

GBytes *
imzala_tsa_client_check_reply (GBytes  *query,
                               GBytes  *reply,
                               GError **error)
{
  const unsigned char *p;
  gsize size;
  TS_REQ *request = NULL;
  TS_RESP *response = NULL;
  TS_VERIFY_CTX *context = NULL;
  PKCS7 *token;
  long status;
  unsigned char *der = NULL;
  int length;
  GBytes *result = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (query != NULL, NULL);
  g_return_val_if_fail (reply != NULL, NULL);

  p = g_bytes_get_data (query, &size);
  request = d2i_TS_REQ (NULL, &p, (long) size);
  if (request == NULL)
    {
      local_error = refused ("the query cannot be read back");
      goto out;
    }

  p = g_bytes_get_data (reply, &size);
  if (size == 0 || size > IMZALA_TSA_CLIENT_MAX_RESPONSE)
    {
      local_error = refused ("empty or too large");
      goto out;
    }
  response = d2i_TS_RESP (NULL, &p, (long) size);
  if (response == NULL || p != (const unsigned char *) g_bytes_get_data (reply, NULL) + size)
    {
      local_error = refused ("not a TimeStampResp, or trailing bytes");
      goto out;
    }

  status = ASN1_INTEGER_get (TS_STATUS_INFO_get0_status (TS_RESP_get_status_info (response)));
  if (status != TS_STATUS_GRANTED && status != TS_STATUS_GRANTED_WITH_MODS)
    {
      g_debug ("The TSA refused the query with status %ld", status);
      local_error = g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP,
                                         _("The time-stamp server refused to time-stamp the "
                                           "signature, so it was not completed and nothing was sent."));
      goto out;
    }
  token = TS_RESP_get_token (response);
  if (token == NULL || TS_RESP_get_tst_info (response) == NULL)
    {
      local_error = refused ("granted without a token");
      goto out;
    }

  /* Version, message imprint and nonce against our query. The signature is
   * checked below without a trust store; the TSA's name is not asked. */
  context = TS_REQ_to_TS_VERIFY_CTX (request, NULL);
  if (context == NULL)
    {
      local_error = refused ("no verify context");
      goto out;
    }
  TS_VERIFY_CTX_set_flags (context, TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_NONCE);
  if (TS_RESP_verify_response (context, response) != 1)
    {
      local_error = refused ("imprint, nonce or version differ from the query");
      goto out;
    }
  if (!check_token_signature (token))
    {
      local_error = refused ("the token's signature or its certificate's purpose");
      goto out;
    }

  length = i2d_PKCS7 (token, &der);
  if (length <= 0)
    {
      local_error = refused ("the token cannot be encoded");
      goto out;
    }
  result = g_bytes_new (der, length);

out:
  if (local_error != NULL)
    g_propagate_error (error, local_error);
  OPENSSL_free (der);
  TS_VERIFY_CTX_free (context);
  TS_RESP_free (response);
  TS_REQ_free (request);
  return result;
}

/* ---- The exchange ---- */

typedef struct
{
  ImzalaTsaClient *self;
  ImzalaHttpMessage *message;
  GBytes          *query;
  GByteArray      *body;
  GInputStream    *stream;
  GCancellable    *cancellable;  /* ours: the caller's, or the total-time limit */
  gulong           cancelled_id;
  GCancellable    *caller_cancellable;
  GSource         *deadline;
  gboolean         timed_out;
} Exchange;

static void
exchange_free (Exchange *exchange)
{
  if (exchange->deadline != NULL)
    {
      g_source_destroy (exchange->deadline);
      g_source_unref (exchange->deadline);
    }
  if (exchange->caller_cancellable != NULL)
    g_cancellable_disconnect (exchange->caller_cancellable, exchange->cancelled_id);
  g_clear_object (&exchange->caller_cancellable);
  g_clear_object (&exchange->cancellable);
  g_clear_object (&exchange->stream);
  g_clear_pointer (&exchange->body, g_byte_array_unref);
  g_clear_pointer (&exchange->query, g_bytes_unref);
  g_clear_object (&exchange->message);
  g_clear_object (&exchange->self);
  g_free (exchange);
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
  Exchange *exchange = user_data;

  exchange->timed_out = TRUE;
  g_cancellable_cancel (exchange->cancellable);
  return G_SOURCE_REMOVE;
}

static void
exchange_fail (GTask        *task,
               const GError *transport_error)
{
  Exchange *exchange = g_task_get_task_data (task);
  ImzalaTsaClient *self = exchange->self;

  if (transport_error != NULL)
    g_debug ("TSA transport error: %s", transport_error->message);

  /* libsoup's own I/O timeout and our total-time limit say the same. */
  if (exchange->timed_out
      || g_error_matches (transport_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP,
                             _("The time-stamp server at %s did not answer in time, so the "
                               "signature was not completed and nothing was sent. Try again."),
                             self->host);
  else if (exchange->caller_cancellable != NULL
           && g_cancellable_is_cancelled (exchange->caller_cancellable))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled."));
  else if (transport_error != NULL && transport_error->domain == G_TLS_ERROR)
    g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_TLS,
                             _("The identity of the time-stamp server at %s cannot be verified, "
                               "so the signature was not completed and nothing was sent."),
                             self->host);
  else
    g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP,
                             _("The time-stamp server at %s cannot be reached, so the signature "
                               "was not completed and nothing was sent. Check the network "
                               "connection and try again."),
                             self->host);
  g_object_unref (task);
}

static void
exchange_complete (GTask *task)
{
  Exchange *exchange = g_task_get_task_data (task);
  g_autoptr(GBytes) reply = g_byte_array_free_to_bytes (g_steal_pointer (&exchange->body));
  GError *error = NULL;
  GBytes *token;

  token = imzala_tsa_client_check_reply (exchange->query, reply, &error);
  if (token == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, token, (GDestroyNotify) g_bytes_unref);
  g_object_unref (task);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  Exchange *exchange = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = NULL;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (chunk == NULL)
    {
      exchange_fail (task, error);
      return;
    }
  if (g_bytes_get_size (chunk) == 0)
    {
      exchange_complete (task);
      return;
    }
  if (exchange->body->len + g_bytes_get_size (chunk) > IMZALA_TSA_CLIENT_MAX_RESPONSE)
    {
      g_task_return_error (task, refused ("the answer is too large"));
      g_object_unref (task);
      return;
    }
  g_byte_array_append (exchange->body, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
  g_input_stream_read_bytes_async (exchange->stream, 16384, G_PRIORITY_DEFAULT,
                                   exchange->cancellable, read_cb, task);
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  Exchange *exchange = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  const char *content_type;
  guint status;

  exchange->stream = imzala_http_session_send_finish (IMZALA_HTTP_SESSION (source), result, &error);
  if (exchange->stream == NULL)
    {
      exchange_fail (task, error);
      return;
    }
  status = imzala_http_message_get_status (exchange->message);
  content_type = imzala_http_message_get_content_type (exchange->message, NULL);
  /* RFC 3161 §3.4 names application/timestamp-reply; some TSAs still send
   * the draft's application/timestamp-response. */
  if (status != IMZALA_HTTP_STATUS_OK || content_type == NULL
      || (g_ascii_strcasecmp (content_type, "application/timestamp-reply") != 0
          && g_ascii_strcasecmp (content_type, "application/timestamp-response") != 0))
    {
      g_debug ("TSA answered HTTP %u with %s", status, content_type ? content_type : "no type");
      g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP,
                               _("The time-stamp server at %s did not give a time-stamp, so the "
                                 "signature was not completed and nothing was sent."),
                               exchange->self->host);
      g_object_unref (task);
      return;
    }
  if (imzala_http_message_get_content_length (exchange->message) > IMZALA_TSA_CLIENT_MAX_RESPONSE)
    {
      g_task_return_error (task, refused ("the declared answer is too large"));
      g_object_unref (task);
      return;
    }
  g_input_stream_read_bytes_async (exchange->stream, 16384, G_PRIORITY_DEFAULT,
                                   exchange->cancellable, read_cb, task);
}

void
imzala_tsa_client_stamp_async (ImzalaTsaClient     *self,
                               GBytes              *data,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  Exchange *exchange;
  GError *error = NULL;

  g_return_if_fail (IMZALA_IS_TSA_CLIENT (self));
  g_return_if_fail (data != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_tsa_client_stamp_async);
  /* Our own cancellable ends the exchange on the caller's cancel and on
   * the total-time limit alike; the error says which. */
  g_task_set_check_cancellable (task, FALSE);

  exchange = g_new0 (Exchange, 1);
  exchange->self = g_object_ref (self);
  exchange->body = g_byte_array_new ();
  exchange->cancellable = g_cancellable_new ();
  g_task_set_task_data (task, exchange, (GDestroyNotify) exchange_free);

  exchange->query = imzala_tsa_client_build_query (data, &error);
  if (exchange->query == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  if (cancellable != NULL)
    {
      exchange->caller_cancellable = g_object_ref (cancellable);
      exchange->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (caller_cancelled_cb),
                                                      g_object_ref (exchange->cancellable),
                                                      g_object_unref);
    }
  exchange->deadline = g_timeout_source_new_seconds (self->timeout);
  g_source_set_callback (exchange->deadline, deadline_cb, exchange, NULL);
  g_source_attach (exchange->deadline, g_main_context_get_thread_default ());

  exchange->message = imzala_http_message_new ("POST", self->url);
  if (exchange->message == NULL)
    {
      g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP,
                               _("The time-stamp server address “%s” is not a valid web address."),
                               self->url);
      g_object_unref (task);
      return;
    }
  imzala_http_message_add_flags (exchange->message, IMZALA_HTTP_NO_REDIRECT);
  imzala_http_message_set_body (exchange->message, "application/timestamp-query",
                                exchange->query);
  imzala_http_message_set_extra_ca (exchange->message, self->extra_database);
  imzala_http_session_send_async (self->session, exchange->message, G_PRIORITY_DEFAULT,
                                  exchange->cancellable, send_cb, task);
}

GBytes *
imzala_tsa_client_stamp_finish (ImzalaTsaClient  *self,
                                GAsyncResult     *result,
                                GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
