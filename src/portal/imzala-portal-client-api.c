#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>
#include <openssl/crypto.h>

#include "imzala-error.h"
#include "imzala-portal-application.h"
#include "imzala-portal-checker.h"
#include "imzala-portal-code.h"
#include "imzala-portal-evidence.h"
#include "imzala-portal-http.h"
#include "imzala-portal-server-private.h"
#include "imzala-portal-texts.h"

/* The client API: what İmzala (and imzala-cli portal) calls with a
 * doğrulama kodu, docs/protocol.md §4, §5 and §8. Every path is
 * /api/v1/requests/CODE[/ACTION]; the code is looked up first, under the
 * guess limit, then the route table below picks the handler. */

/* What a closed request (state failed after IMZALA_PORTAL_MAX_REJECTED
 * rejected submissions) says, to İmzala and on the browser page alike. */
#define CODE_CLOSED_MESSAGE \
  "Çok fazla başarısız deneme yapıldığı için bu doğrulama kodu kapatıldı ve artık kullanılamaz."

static gboolean
nonce_matches (ImzalaPortalRequest *request, const char *text)
{
  g_autoptr(GBytes) nonce = text != NULL ? imzala_portal_http_decode_base64 (text) : NULL;
  gsize size, expected_size;
  const void *data, *expected;

  if (nonce == NULL)
    return FALSE;
  data = g_bytes_get_data (nonce, &size);
  expected = g_bytes_get_data (request->nonce, &expected_size);
  return size == expected_size && CRYPTO_memcmp (data, expected, size) == 0;
}


static const char *
purpose_title (const char *purpose)
{
  if (g_str_equal (purpose, "login"))
    return "E-imzalı Giriş";
  if (g_str_equal (purpose, "consent"))
    return "E-Onay";
  if (g_str_equal (purpose, "application"))
    return "Nitelikli Elektronik Sertifika Başvurusu";
  return "Kilit Çözme";
}


/* Brings a pending request whose time is up to "expired" and answers the
 * request's state with the protocol's error when it is not @wanted.
 * Returns TRUE when the caller may go on. */
static gboolean
check_state (ImzalaPortalServer  *self,
             SoupServerMessage   *msg,
             ImzalaPortalRequest *request,
             ImzalaPortalState    wanted)
{
  gint64 now = imzala_portal_now ();

  if (request->state == IMZALA_PORTAL_STATE_PENDING && now > request->expires_at)
    {
      imzala_portal_store_expire_requests (self->store, now);
      request->state = IMZALA_PORTAL_STATE_EXPIRED;
    }
  if (request->state == wanted)
    return TRUE;

  switch (request->state)
    {
    case IMZALA_PORTAL_STATE_EXPIRED:
      imzala_portal_http_send_error (
        msg, SOUP_STATUS_GONE, "code-expired",
        "Doğrulama kodunun süresi dolmuş. Tarayıcıda yeni bir kod alınız.");
      break;
    case IMZALA_PORTAL_STATE_FAILED:
      imzala_portal_http_send_error (msg, SOUP_STATUS_CONFLICT, "code-used",
                                     CODE_CLOSED_MESSAGE " Tarayıcıda yeni bir kod alınız.");
      break;
    default:
      imzala_portal_http_send_error (msg, SOUP_STATUS_CONFLICT, "code-used",
                                     "Bu doğrulama kodu daha önce kullanılmış.");
      break;
    }
  return FALSE;
}

static void
handle_get_request (ImzalaPortalServer  *self,
                    SoupServerMessage   *msg,
                    ImzalaPortalRequest *request)
{
  g_autoptr(ImzalaPortalRequest) owned = request;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(ImzalaPortalPerson) person = NULL;
  g_autofree char *nonce = NULL;
  g_autofree char *hint = NULL;
  g_autofree char *key = NULL;
  g_autofree char *level = NULL;
  g_autofree char *tsa_url = NULL;

  if (!check_state (self, msg, request, IMZALA_PORTAL_STATE_PENDING))
    return;

  /* Who fetched which request, and from where, belongs in the audit log as
   * much as who signed it. */
  key = imzala_portal_http_client_key (msg);
  imzala_portal_store_log (self->store, "request-fetched", request->person, request->id, key, NULL);

  person = imzala_portal_store_get_person (self->store, request->person);
  nonce = g_base64_encode (g_bytes_get_data (request->nonce, NULL), g_bytes_get_size (request->nonce));
  hint = imzala_portal_texts_tckn_hint (request->person);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  imzala_portal_http_add_string (builder, "code", request->code);
  imzala_portal_http_add_string (builder, "purpose", request->purpose);
  imzala_portal_http_add_string (builder, "portal", self->authority);
  imzala_portal_http_add_string (builder, "title", purpose_title (request->purpose));
  imzala_portal_http_add_time (builder, "created_at", request->created_at);
  imzala_portal_http_add_time (builder, "expires_at", request->expires_at);
  imzala_portal_http_add_time (builder, "server_time", imzala_portal_now ());
  imzala_portal_http_add_string (builder, "nonce", nonce);
  json_builder_set_member_name (builder, "texts");
  json_builder_begin_array (builder);
  for (guint i = 0; i < request->texts->len; i++)
    {
      GBytes *text = g_ptr_array_index (request->texts, i);
      g_autofree char *content = g_base64_encode (g_bytes_get_data (text, NULL), g_bytes_get_size (text));

      json_builder_begin_object (builder);
      imzala_portal_http_add_string (builder, "title", g_ptr_array_index (request->titles, i));
      imzala_portal_http_add_string (builder, "content", content);
      imzala_portal_http_add_string (builder, "media_type", "text/plain; charset=utf-8");
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "requester");
  json_builder_begin_object (builder);
  imzala_portal_http_add_string (builder, "name", person != NULL ? person->name : NULL);
  imzala_portal_http_add_string (builder, "tckn_hint", hint);
  json_builder_end_object (builder);
  /* Protocol 1.1 (§4.1): only a request above BES says its level, so a
   * BES answer is byte for byte what 1.0 clients know. */
  level = imzala_portal_store_get_request_level (self->store, request->id, &tsa_url);
  if (!g_str_equal (level, "BES"))
    {
      imzala_portal_http_add_string (builder, "signature_level", level);
      imzala_portal_http_add_string (builder, "tsa_url", tsa_url);
    }
  json_builder_end_object (builder);
  imzala_portal_http_send_builder (msg, SOUP_STATUS_OK, builder);
}

/* Counts a rejected submission and answers it. */
static void
send_rejected (ImzalaPortalServer  *self,
               SoupServerMessage   *msg,
               ImzalaPortalRequest *request,
               guint                status,
               const char          *code,
               const char          *message)
{
  g_autofree char *key = imzala_portal_http_client_key (msg);
  g_autofree char *closed = g_strconcat (message, " " CODE_CLOSED_MESSAGE, NULL);
  ImzalaPortalState state;

  state = imzala_portal_store_reject (self->store, request->id, IMZALA_PORTAL_MAX_REJECTED,
                                      message, closed);
  imzala_portal_store_log (self->store, "rejected", request->person, request->id, key, code);
  imzala_portal_http_send_error (msg, status, code,
                                 state == IMZALA_PORTAL_STATE_FAILED ? closed : message);
}

/* The sentence the page and İmzala show once @request is signed at @now. */
static char *
done_message (ImzalaPortalServer *self, ImzalaPortalRequest *request, gint64 now)
{
  if (g_str_equal (request->purpose, "login"))
    return g_strdup ("Giriş işleminiz tamamlanmıştır. İşleminize tarayıcı üzerinden devam edebilirsiniz.");
  if (g_str_equal (request->purpose, "consent"))
    return g_strdup (g_strcmp0 (request->choice, "accept") == 0
                     ? "Seçiminiz kaydedildi. Yeni yapacağınız başvurularda başvuru formunu doldurduktan sonra "
                       "imzalama tipi olarak E-Onay seçmeniz yeterli olacaktır."
                     : "Seçiminiz kaydedildi.");
  {
    /* An application: the same sentence as the E-Onaylı way, including
     * until when a renewal waits. */
    g_autoptr(ImzalaPortalApplication) application =
      imzala_portal_store_get_application_by_id (self->store, request->application);

    return imzala_portal_application_done_message (application != NULL ? application->production_date : now,
                                                   now);
  }
}

/* ---- Submitting signatures (§8) ----
 *
 * Checking a signature (imzala_portal_check_signature(): one verification
 * by the core verifier, the signer, the time, the status and the level) is
 * most of a submission's CPU, and needs nothing but the signer trust, the
 * request's texts and level. So the handler checks the request and the
 * body on the main thread, pauses the message, and checks the signatures
 * on a worker thread (GTask's pool), so that several clients' submissions
 * use every core instead of queueing behind one main loop (issue 12: "8
 * clients get more done than 1"). Handing a check to another thread costs,
 * though (the worker's wake-up, the caches of another core, the main
 * loop's wake-up for the answer): one client behind nginx cost the portal
 * 2.88 ms of CPU a submission with every check on the pool, 2.53 ms with
 * this (issue 12's notes, 14 and 8 rounds of 150 in turn). So a
 * small submission (at most INLINE_CHECK_MAX bytes of signatures) that
 * arrives while no check runs on the pool and nothing else waits for the
 * server's main context (g_main_context_pending() of the thread-default
 * one, where the task's callback runs too) is checked on the main thread at
 * once: nobody waits for it then, and the answer takes the same way (the
 * task's callback). Anything else, and all but the first of a burst, goes
 * to the pool as before. The trust's status function reads the
 * certificates table there through the store's own locked read-only
 * connection (imzala_portal_store_get_certificate_status()). Everything
 * that writes the store (the request's state, the audit log) runs on the
 * main thread again. */

/* A typical BES signature with its CA's certificate is about 3 KiB; the
 * checks of larger ones keep to the pool, so that no client holds the
 * main loop for longer than a small check takes. */
#define INLINE_CHECK_MAX (16 * 1024)

typedef struct
{
  ImzalaPortalServer *self;
  SoupServerMessage  *msg;
  gboolean            on_pool;
  /* What the worker reads; none of it changes while it runs (the
   * request is this submission's own copy, read by the main thread again
   * only once the worker is done). */
  ImzalaPortalRequest *request;
  ImzalaTrust        *trust;
  char               *level;    /* the level the request asked for */
  GPtrArray          *cms;      /* GBytes*, one per text */
  /* What the worker found: the checked signatures of the first texts,
   * and why the next one failed, if one did. */
  GPtrArray          *checked;  /* ImzalaPortalSignature* */
  GError             *error;
} Submission;

static void
submission_free (Submission *submission)
{
  g_object_unref (submission->self);
  g_object_unref (submission->msg);
  imzala_portal_request_free (submission->request);
  g_object_unref (submission->trust);
  g_free (submission->level);
  g_ptr_array_unref (submission->cms);
  g_clear_pointer (&submission->checked, g_ptr_array_unref);
  g_clear_error (&submission->error);
  g_free (submission);
}

static void
check_signatures_thread (GTask        *task,
                         gpointer      source_object,
                         gpointer      task_data,
                         GCancellable *cancellable)
{
  Submission *submission = task_data;
  const ImzalaPortalRequest *request = submission->request;

  for (guint i = 0; i < submission->cms->len; i++)
    {
      ImzalaPortalSignature *signature;

      signature = imzala_portal_check_signature (submission->trust,
                                                 g_ptr_array_index (submission->cms, i),
                                                 g_ptr_array_index (request->texts, i),
                                                 request->person, submission->level,
                                                 request->created_at, request->expires_at,
                                                 imzala_portal_now (), &submission->error);
      if (signature == NULL)
        break;
      g_ptr_array_add (submission->checked, signature);
      /* §8: every text by the same certificate. */
      if (i > 0 && g_strcmp0 (signature->signer_fingerprint,
                              ((ImzalaPortalSignature *) g_ptr_array_index (submission->checked, 0))
                                ->signer_fingerprint) != 0)
        {
          g_set_error_literal (&submission->error, IMZALA_PORTAL_CHECK_ERROR, IMZALA_PORTAL_CHECK_INVALID,
                               "Bütün metinler aynı sertifika ile imzalanmalıdır.");
          break;
        }
    }
  g_task_return_boolean (task, TRUE);
}

/* The main thread's part after the check: the refusal (a revoked card
 * closes the request), or the state change and the answer. Returns with
 * @msg answered. */
static void
finish_signatures (ImzalaPortalServer  *self,
                   SoupServerMessage   *msg,
                   ImzalaPortalRequest *request,
                   Submission          *submission)
{
  GPtrArray *checked = submission->checked;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *key = imzala_portal_http_client_key (msg);
  g_autofree char *message = NULL;
  gint64 now;

  if (!check_state (self, msg, request, IMZALA_PORTAL_STATE_PENDING))
    return;

  if (submission->error != NULL)
    {
      guint status = 0;
      const char *code;

      /* The worker stopped at a text. */
      error = g_steal_pointer (&submission->error);
      code = imzala_portal_check_error_code (error, &status);
      if (g_error_matches (error, IMZALA_PORTAL_CHECK_ERROR, IMZALA_PORTAL_CHECK_REVOKED))
        {
          /* A revoked card (every card of the person is revoked
           * together) cannot succeed on a second try: the request is
           * closed at once, and its page says why (§4.2). */
          imzala_portal_store_reject (self->store, request->id, 1, error->message, error->message);
          imzala_portal_store_log (self->store, "rejected", request->person, request->id, key, code);
          imzala_portal_http_send_error (msg, status, code, error->message);
        }
      else
        send_rejected (self, msg, request, status, code, error->message);
      return;
    }

  /* One clock reading for the state change (waiting or submitted) and the
   * sentence that says so. The store records the request's effect (a
   * consent, an application) in the same transaction; a login signs the
   * browser in when it reads this request's status
   * (imzala_portal_sessions_sign_in()). */
  now = imzala_portal_now ();
  message = done_message (self, request, now);
  if (!imzala_portal_store_complete (self->store, request, now, checked, message, key, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
        {
          /* Another submission won the race, or the time just ran out. */
          g_autoptr(ImzalaPortalRequest) again =
            imzala_portal_store_get_request_by_code (self->store, request->code);

          if (again != NULL && !check_state (self, msg, again, IMZALA_PORTAL_STATE_PENDING))
            return;
        }
      g_warning ("Could not complete a request: %s", error->message);
      imzala_portal_http_send_internal_error (msg);
      return;
    }
  /* The "signed" audit row was written with the state change. */

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  imzala_portal_http_add_string (builder, "status", "accepted");
  imzala_portal_http_add_string (builder, "message", message);
  imzala_portal_http_add_time (builder, "completed_at", now);
  json_builder_end_object (builder);
  imzala_portal_http_send_builder (msg, SOUP_STATUS_OK, builder);
}

static void
signatures_checked_cb (GObject      *source_object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  Submission *submission = g_task_get_task_data (G_TASK (result));
  ImzalaPortalServer *self = submission->self;
  SoupServerMessage *msg = submission->msg;
  guint64 failures = imzala_portal_store_get_failures (self->store);

  if (submission->on_pool)
    self->checks_on_pool--;
  /* The request may have changed meanwhile (another submission, a time
   * out): finish_signatures() checks its time again, and the store
   * completes only a request still pending. */
  finish_signatures (self, msg, submission->request, submission);
  /* What the route table's guard does for an answer made at once. */
  imzala_portal_server_guard_end (self, msg, failures);
  soup_server_message_unpause (msg);
}

static void
handle_signatures (ImzalaPortalServer  *self,
                   SoupServerMessage   *msg,
                   ImzalaPortalRequest *request)
{
  g_autoptr(ImzalaPortalRequest) owned = request;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(GTask) task = NULL;
  g_autoptr(GPtrArray) cms_list = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GMainContext) context = NULL;
  gsize cms_bytes = 0;
  Submission *submission;
  JsonNode *list_node;
  JsonArray *list;

  if ((body = imzala_portal_http_parse_body (msg, TRUE)) == NULL)
    return;
  if (!check_state (self, msg, request, IMZALA_PORTAL_STATE_PENDING))
    return;
  if (g_str_equal (request->purpose, "unblock"))
    {
      imzala_portal_http_send_malformed (msg, "Kilit çözme işleminde imza gönderilmez.");
      return;
    }

  list_node = json_object_get_member (body, "signatures");
  if (list_node == NULL || !JSON_NODE_HOLDS_ARRAY (list_node))
    {
      imzala_portal_http_send_malformed (msg, "İstekte imza listesi bulunmuyor.");
      return;
    }
  if (!nonce_matches (request, imzala_portal_http_member_string (body, "nonce")))
    {
      send_rejected (self, msg, request, SOUP_STATUS_BAD_REQUEST, "malformed",
                     "İstekteki tek kullanımlık değer (nonce) bu işleme ait değil.");
      return;
    }
  list = json_node_get_array (list_node);
  if (json_array_get_length (list) != request->texts->len)
    {
      send_rejected (self, msg, request, SOUP_STATUS_BAD_REQUEST, "malformed",
                     "Her metin için bir imza gönderilmelidir.");
      return;
    }

  for (guint i = 0; i < request->texts->len; i++)
    {
      JsonNode *item = json_array_get_element (list, i);
      GBytes *cms = NULL;

      if (JSON_NODE_HOLDS_VALUE (item) && json_node_get_value_type (item) == G_TYPE_STRING)
        cms = imzala_portal_http_decode_base64 (json_node_get_string (item));
      if (cms == NULL)
        {
          /* Refused before any signature is checked: the submission is
           * refused and counted once either way. */
          send_rejected (self, msg, request, SOUP_STATUS_BAD_REQUEST, "malformed",
                         "İmza base64 biçiminde değil.");
          return;
        }
      g_ptr_array_add (cms_list, cms);
      cms_bytes += g_bytes_get_size (cms);
    }

  submission = g_new0 (Submission, 1);
  submission->self = g_object_ref (self);
  submission->msg = g_object_ref (msg);
  submission->request = g_steal_pointer (&owned);
  submission->trust = g_object_ref (self->signer_trust);
  submission->level = imzala_portal_store_get_request_level (self->store, request->id, NULL);
  submission->cms = g_steal_pointer (&cms_list);
  submission->checked = g_ptr_array_new_with_free_func ((GDestroyNotify) imzala_portal_signature_free);

  soup_server_message_pause (msg);
  task = g_task_new (NULL, NULL, signatures_checked_cb, NULL);
  g_task_set_source_tag (task, handle_signatures);
  g_task_set_task_data (task, submission, (GDestroyNotify) submission_free);
  context = g_main_context_ref_thread_default ();
  submission->on_pool = self->checks_on_pool > 0 || cms_bytes > INLINE_CHECK_MAX
                        || g_main_context_pending (context);
  if (submission->on_pool)
    {
      self->checks_on_pool++;
      g_task_run_in_thread (task, check_signatures_thread);
    }
  else
    check_signatures_thread (task, NULL, submission, NULL);
  g_debug ("Submission checked %s", submission->on_pool ? "on the pool" : "at once");
}

static void
handle_unblock (ImzalaPortalServer  *self,
                SoupServerMessage   *msg,
                ImzalaPortalRequest *request)
{
  g_autoptr(ImzalaPortalRequest) owned = request;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(ImzalaPortalPerson) person = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *key = imzala_portal_http_client_key (msg);
  g_autofree char *serial = NULL;
  const char *given;

  if ((body = imzala_portal_http_parse_body (msg, TRUE)) == NULL)
    return;
  if (!check_state (self, msg, request, IMZALA_PORTAL_STATE_PENDING))
    return;
  if (!g_str_equal (request->purpose, "unblock"))
    {
      imzala_portal_http_send_malformed (msg,
                                         "Bu doğrulama kodu bir kilit çözme işlemine ait değil.");
      return;
    }
  given = imzala_portal_http_member_string (body, "token_serial");
  if (given == NULL)
    {
      imzala_portal_http_send_malformed (msg, "İstekte kart seri numarası bulunmuyor.");
      return;
    }
  if (!nonce_matches (request, imzala_portal_http_member_string (body, "nonce")))
    {
      send_rejected (self, msg, request, SOUP_STATUS_BAD_REQUEST, "malformed",
                     "İstekteki tek kullanımlık değer (nonce) bu işleme ait değil.");
      return;
    }

  person = imzala_portal_store_get_person (self->store, request->person);
  serial = g_strchomp (g_strdup (given));
  if (person == NULL || person->card_serial == NULL || person->card_puk == NULL
      || strlen (serial) != strlen (person->card_serial)
      || CRYPTO_memcmp (serial, person->card_serial, strlen (serial)) != 0)
    {
      send_rejected (self, msg, request, SOUP_STATUS_FORBIDDEN, "wrong-card",
                     "Takılı kart, adınıza kayıtlı e-imza kartı değil.");
      return;
    }
  if (!imzala_portal_store_release (self->store, request->id, imzala_portal_now ()))
    {
      g_autoptr(ImzalaPortalRequest) again =
        imzala_portal_store_get_request_by_code (self->store, request->code);

      if (again != NULL)
        check_state (self, msg, again, IMZALA_PORTAL_STATE_PENDING);
      else
        imzala_portal_http_send_internal_error (msg);
      return;
    }
  {
    g_autofree char *tag = imzala_portal_texts_serial_tag (serial);

    /* Not the serial itself: the log is read by more people than the
     * database's persons table. */
    imzala_portal_store_log (self->store, "puk-released", request->person, request->id, key, tag);
  }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  imzala_portal_http_add_string (builder, "puk", person->card_puk);
  imzala_portal_http_add_string (builder, "message", "Kart kilidi çözme yetkisi verildi.");
  json_builder_end_object (builder);
  imzala_portal_http_send_builder (msg, SOUP_STATUS_OK, builder);
}

static void
handle_unblock_result (ImzalaPortalServer  *self,
                       SoupServerMessage   *msg,
                       ImzalaPortalRequest *request)
{
  g_autoptr(ImzalaPortalRequest) owned = request;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *key = imzala_portal_http_client_key (msg);
  JsonNode *success_node;
  gboolean success;
  const char *message;
  gint64 now = imzala_portal_now ();

  if ((body = imzala_portal_http_parse_body (msg, TRUE)) == NULL)
    return;
  success_node = json_object_get_member (body, "success");
  if (success_node == NULL || !JSON_NODE_HOLDS_VALUE (success_node)
      || json_node_get_value_type (success_node) != G_TYPE_BOOLEAN)
    {
      imzala_portal_http_send_malformed (msg, "İstekte sonuç (success) bulunmuyor.");
      return;
    }
  if (!nonce_matches (request, imzala_portal_http_member_string (body, "nonce")))
    {
      imzala_portal_http_send_malformed (
        msg, "İstekteki tek kullanımlık değer (nonce) bu işleme ait değil.");
      return;
    }
  if (request->state != IMZALA_PORTAL_STATE_RELEASED)
    {
      check_state (self, msg, request, IMZALA_PORTAL_STATE_RELEASED);
      return;
    }
  if (now > request->released_at + IMZALA_PORTAL_UNBLOCK_GRACE)
    {
      imzala_portal_http_send_error (msg, SOUP_STATUS_GONE, "code-expired",
                                     "Kilit çözme sonucu çok geç bildirildi.");
      return;
    }

  success = json_node_get_boolean (success_node);
  message = success
    ? "Kartınızın kilidi çözüldü ve yeni PIN kodunuz belirlendi."
    : "Kartınızın kilidi çözülemedi. Lütfen yeniden deneyiniz.";
  if (!imzala_portal_store_finish_unblock (self->store, request->id, success, now, message))
    {
      imzala_portal_http_send_error (msg, SOUP_STATUS_CONFLICT, "code-used",
                                     "Bu işlemin sonucu daha önce bildirilmiş.");
      return;
    }
  imzala_portal_store_log (self->store, success ? "unblocked" : "unblock-failed",
                           request->person, request->id, key, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  imzala_portal_http_add_string (builder, "status", "recorded");
  imzala_portal_http_add_string (builder, "message", message);
  json_builder_end_object (builder);
  imzala_portal_http_send_builder (msg, SOUP_STATUS_OK, builder);
}

/* A handler owns @request (transfer full): one that answers later, after
 * the message was paused, keeps it until then. */
typedef void (*ClientHandler) (ImzalaPortalServer  *self,
                               SoupServerMessage   *msg,
                               ImzalaPortalRequest *request);

/* @action NULL: the request itself ("/api/v1/requests/CODE"). */
static const struct
{
  const char    *method;
  const char    *action;
  ClientHandler  handler;
} routes[] = {
  { "GET", NULL, handle_get_request },
  { "POST", "signatures", handle_signatures },
  { "POST", "unblock", handle_unblock },
  { "POST", "unblock-result", handle_unblock_result },
};

void
imzala_portal_client_api_cb (SoupServer        *server,
                             SoupServerMessage *msg,
                             const char        *path,
                             GHashTable        *query,
                             gpointer           user_data)
{
  ImzalaPortalServer *self = user_data;
  g_autofree char *key = imzala_portal_http_client_key (msg);
  g_auto(GStrv) parts = NULL;
  g_autoptr(ImzalaPortalRequest) request = NULL;
  const char *method = soup_server_message_get_method (msg);
  const char *action;
  guint wait;

  /* While an address is over its guess limit it learns nothing, not even
   * whether a code exists. */
  wait = imzala_portal_limiter_check (self->guesses, key);
  if (wait > 0)
    {
      imzala_portal_http_send_rate_limited (msg, wait, TRUE);
      return;
    }

  /* "/api/v1/requests/CODE[/action]" */
  parts = g_strsplit (path + strlen ("/api/v1/requests/"), "/", 3);
  action = parts[0] != NULL ? parts[1] : NULL;
  if (parts[0] == NULL || (action != NULL && parts[2] != NULL))
    {
      imzala_portal_http_send_error (msg, SOUP_STATUS_NOT_FOUND, "code-unknown",
                                     "Bu doğrulama kodu bulunamadı.");
      return;
    }

  if (imzala_portal_code_is_canonical (parts[0]))
    request = imzala_portal_store_get_request_by_code (self->store, parts[0]);
  if (request == NULL)
    {
      imzala_portal_limiter_record (self->guesses, key);
      imzala_portal_store_log (self->store, "wrong-code", NULL, 0, key, NULL);
      imzala_portal_http_send_error (
        msg, SOUP_STATUS_NOT_FOUND, "code-unknown",
        "Bu doğrulama kodu bulunamadı. Kodu tarayıcınızda gösterildiği gibi giriniz.");
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      if (g_str_equal (method, routes[i].method) && g_strcmp0 (action, routes[i].action) == 0)
        {
          routes[i].handler (self, msg, g_steal_pointer (&request));
          return;
        }
    }
  imzala_portal_http_send_malformed (msg, "Bu istek desteklenmiyor.");
}
