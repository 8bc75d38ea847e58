#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>

#include "imzala-tckn.h"
#include "imzala-portal-application.h"
#include "imzala-portal-code.h"
#include "imzala-portal-http.h"
#include "imzala-portal-sms.h"
#include "imzala-portal-security-word.h"
#include "imzala-portal-server-private.h"
#include "imzala-portal-texts.h"

/* The browser API: the JSON calls of the portal's pages (portal.js) under
 * /api/v1/browser/. Each of the person's steps (giriş, e-onay, başvuru,
 * kilit çözme) makes a request whose code the page shows; the page then
 * polls the request's status until İmzala has signed it. */

/* ---- Creating requests ---- */

static char *
imzala_link (ImzalaPortalServer *self, const char *code)
{
  g_autofree char *portal = g_uri_escape_string (self->public_url, NULL, FALSE);
  g_autofree char *display = imzala_portal_format_code (code);

  return g_strdup_printf ("imzala:?portal=%s&code=%s", portal, display);
}

/* Makes a request with the given text bodies (the reference line is added
 * here, since it needs the code) and answers 201 for the page. */
static void
create_request (ImzalaPortalServer *self,
                SoupServerMessage  *msg,
                const char         *purpose,
                const char         *person,
                const char         *session,
                gint64              application,
                const char         *choice,
                const char * const *titles,
                const char * const *bodies)
{
  g_autoptr(ImzalaPortalRequest) request = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *key = imzala_portal_http_client_key (msg);
  g_autofree char *display = NULL;
  g_autofree char *link = NULL;
  gint64 now = imzala_portal_now ();
  guint wait;

  wait = imzala_portal_limiter_check (self->creations, key);
  if (wait > 0)
    {
      imzala_portal_http_send_rate_limited (msg, wait, FALSE);
      return;
    }
  imzala_portal_limiter_record (self->creations, key);

  for (guint attempt = 0; attempt < 5; attempt++)
    {
      g_clear_pointer (&request, imzala_portal_request_free);
      g_clear_error (&error);

      request = g_new0 (ImzalaPortalRequest, 1);
      request->public_id = imzala_portal_random_hex (16);
      request->code = imzala_portal_code_generate ();
      request->purpose = g_strdup (purpose);
      request->person = g_strdup (person);
      request->session = g_strdup (session);
      request->application = application;
      request->choice = g_strdup (choice);
      request->nonce = imzala_portal_random_bytes (32);
      request->created_at = now;
      request->expires_at = now + self->lifetime;
      request->titles = g_ptr_array_new_with_free_func (g_free);
      request->texts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      for (guint i = 0; bodies != NULL && bodies[i] != NULL; i++)
        {
          g_ptr_array_add (request->titles, g_strdup (titles[i]));
          g_ptr_array_add (request->texts,
                           imzala_portal_texts_bind (bodies[i], self->authority,
                                                     request->code, now));
        }
      if (imzala_portal_store_add_request (self->store, request, &error))
        break;
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        break;
    }
  if (error == NULL)
    imzala_portal_server_record_level (self, request, &error);
  if (error != NULL)
    {
      g_warning ("Could not store a request: %s", error->message);
      imzala_portal_http_send_internal_error (msg);
      return;
    }

  imzala_portal_store_log (self->store, "request-created", person, request->id, key, purpose);

  display = imzala_portal_format_code (request->code);
  link = imzala_link (self, request->code);
  json_builder_begin_object (builder);
  imzala_portal_http_add_string (builder, "request_id", request->public_id);
  imzala_portal_http_add_string (builder, "code", display);
  imzala_portal_http_add_string (builder, "purpose", purpose);
  imzala_portal_http_add_time (builder, "expires_at", request->expires_at);
  imzala_portal_http_add_time (builder, "server_time", now);
  json_builder_set_member_name (builder, "lifetime");
  json_builder_add_int_value (builder, self->lifetime);
  imzala_portal_http_add_string (builder, "imzala_link", link);
  imzala_portal_http_add_string (builder, "portal", self->public_url);
  json_builder_end_object (builder);
  imzala_portal_http_send_builder (msg, SOUP_STATUS_CREATED, builder);
}

/* ---- Handlers ---- */

static void
send_status (ImzalaPortalServer *self, SoupServerMessage *msg, ImzalaPortalRequest *request)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  gint64 now = imzala_portal_now ();
  const char *message = request->result_message;
  const char *next = "/";

  if (request->state == IMZALA_PORTAL_STATE_PENDING && now > request->expires_at)
    {
      imzala_portal_store_expire_requests (self->store, now);
      request->state = IMZALA_PORTAL_STATE_EXPIRED;
      message = "Doğrulama kodunun süresi doldu.";
    }
  if (request->state == IMZALA_PORTAL_STATE_PENDING)
    message = "İmza bekleniyor.";
  else if (request->state == IMZALA_PORTAL_STATE_RELEASED)
    message = "Kartınızın kilidi çözülüyor.";

  if (g_str_equal (request->purpose, "login"))
    next = "/islemler";
  else if (g_str_equal (request->purpose, "consent"))
    next = "/eonay";
  else if (g_str_equal (request->purpose, "application"))
    next = "/basvuru";
  else
    next = "/kilit";

  json_builder_begin_object (builder);
  imzala_portal_http_add_string (builder, "state", imzala_portal_state_to_string (request->state));
  json_builder_set_member_name (builder, "remaining");
  json_builder_add_int_value (builder, MAX (0, request->expires_at - now));
  imzala_portal_http_add_string (builder, "message", message);
  imzala_portal_http_add_string (builder, "next", next);
  imzala_portal_http_add_string (builder, "purpose", request->purpose);
  json_builder_end_object (builder);
  imzala_portal_http_send_builder (msg, SOUP_STATUS_OK, builder);
}

static void
add_person_json (JsonBuilder *builder, const ImzalaPortalPerson *person)
{
  g_autofree char *hint = NULL;

  if (person == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  hint = imzala_portal_texts_tckn_hint (person->tckn);
  json_builder_begin_object (builder);
  imzala_portal_http_add_string (builder, "name", person->name);
  imzala_portal_http_add_string (builder, "tckn_hint", hint);
  imzala_portal_http_add_string (builder, "institution", person->institution);
  imzala_portal_http_add_string (builder, "eonay", person->eonay);
  if (person->certificate_not_after > 0)
    {
      imzala_portal_http_add_time (builder, "certificate_not_after", person->certificate_not_after);
      imzala_portal_http_add_time (builder, "renewal_from",
                                   person->certificate_not_after - IMZALA_PORTAL_RENEWAL_WINDOW);
    }
  json_builder_end_object (builder);
}

/* PBKDF2 (the security word's 100 000 iterations) per call: counted per
 * address whatever the outcome, so that one client cannot take the
 * portal's CPU from everyone else. Answers 429 when over. */
static gboolean
work_limited (ImzalaPortalServer *self, SoupServerMessage *msg)
{
  return imzala_portal_http_work_limited (self->work, msg);
}

/* Checks the guess limiter and counts a wrong identity; answers 429 or 403. */
static void
send_identity_mismatch (ImzalaPortalServer *self, SoupServerMessage *msg, const char *message)
{
  g_autofree char *key = imzala_portal_http_client_key (msg);

  imzala_portal_limiter_record (self->guesses, key);
  imzala_portal_store_log (self->store, "identity-mismatch", NULL, 0, key, NULL);
  imzala_portal_http_send_error (msg, SOUP_STATUS_FORBIDDEN, "identity-mismatch", message);
}

static gboolean
guess_limited (ImzalaPortalServer *self, SoupServerMessage *msg)
{
  g_autofree char *key = imzala_portal_http_client_key (msg);
  guint wait = imzala_portal_limiter_check (self->guesses, key);

  if (wait == 0)
    return FALSE;
  imzala_portal_http_send_rate_limited (msg, wait, TRUE);
  return TRUE;
}

static void
browser_login (ImzalaPortalServer  *self,
               SoupServerMessage   *msg,
               ImzalaPortalSession *session,
               JsonObject          *body,
               char               **parts)
{
  const char *tckn = imzala_portal_http_member_string (body, "tckn");
  g_autoptr(ImzalaPortalPerson) person = NULL;
  const char *titles[] = { "Giriş Onayı", NULL };
  const char *bodies[] = { IMZALA_PORTAL_LOGIN_TEXT, NULL };

  if (guess_limited (self, msg))
    return;
  if (tckn == NULL || !imzala_tckn_is_valid (tckn))
    {
      imzala_portal_http_send_malformed (msg, "Geçerli bir T.C. kimlik numarası giriniz.");
      return;
    }
  person = imzala_portal_store_get_person (self->store, tckn);
  if (person == NULL)
    {
      send_identity_mismatch (self, msg,
                              "Bu T.C. kimlik numarasıyla kayıtlı bir e-imza sahibi bulunamadı.");
      return;
    }
  create_request (self, msg, "login", tckn, session->id_hash, 0, NULL, titles, bodies);
}

static void
browser_consent (ImzalaPortalServer  *self,
                 SoupServerMessage   *msg,
                 ImzalaPortalSession *session,
                 JsonObject          *body,
                 char               **parts)
{
  const char *choice = imzala_portal_http_member_string (body, "choice");
  const char *titles[] = { "E-Onay Beyanı", NULL };
  const char *bodies[] = { NULL, NULL };

  if (session->person == NULL)
    {
      imzala_portal_http_send_error (msg, SOUP_STATUS_UNAUTHORIZED, "not-signed-in",
                                     "Önce e-imzalı giriş yapınız.");
      return;
    }
  if (g_strcmp0 (choice, "accept") != 0 && g_strcmp0 (choice, "reject") != 0)
    {
      imzala_portal_http_send_malformed (
        msg, "Lütfen KABUL EDİYORUM veya KABUL ETMİYORUM seçeneklerinden birini seçiniz.");
      return;
    }
  bodies[0] = imzala_portal_texts_consent (g_str_equal (choice, "accept"));
  create_request (self, msg, "consent", session->person, session->id_hash, 0, choice, titles,
                  bodies);
}

static void
browser_application_login (ImzalaPortalServer  *self,
                           SoupServerMessage   *msg,
                           ImzalaPortalSession *session,
                           JsonObject          *body,
                           char               **parts)
{
  const char *tckn = imzala_portal_http_member_string (body, "tckn");
  const char *sicil = imzala_portal_http_member_string (body, "sicil_no");
  g_autoptr(ImzalaPortalPerson) person = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) prefill = NULL;

  if (guess_limited (self, msg))
    return;
  if (tckn == NULL || !imzala_tckn_is_valid (tckn) || sicil == NULL || *sicil == '\0')
    {
      imzala_portal_http_send_malformed (msg,
                                         "T.C. kimlik numaranızı ve sicil numaranızı giriniz.");
      return;
    }
  person = imzala_portal_store_get_person (self->store, tckn);
  if (person == NULL || g_strcmp0 (person->sicil_no, sicil) != 0)
    {
      send_identity_mismatch (self, msg, "T.C. kimlik numarası ile sicil numarası eşleşmiyor.");
      return;
    }
  imzala_portal_store_set_session_applicant (self->store, session->id_hash, tckn, NULL);

  prefill = imzala_portal_application_prefill (person);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "person");
  add_person_json (builder, person);
  json_builder_set_member_name (builder, "form");
  json_builder_add_value (builder, g_steal_pointer (&prefill));
  json_builder_end_object (builder);
  imzala_portal_http_send_builder (msg, SOUP_STATUS_OK, builder);
}

static void
browser_application_form (ImzalaPortalServer  *self,
                          SoupServerMessage   *msg,
                          ImzalaPortalSession *session,
                          JsonObject          *body,
                          char               **parts)
{
  g_autoptr(ImzalaPortalPerson) person = NULL;
  g_autoptr(JsonObject) problems = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GError) error = NULL;
  ImzalaPortalApplication application = { 0 };
  gint64 now = imzala_portal_now ();

  if (work_limited (self, msg))
    return;
  if (session->applicant == NULL
      || (person = imzala_portal_store_get_person (self->store, session->applicant)) == NULL)
    {
      imzala_portal_http_send_error (
        msg, SOUP_STATUS_UNAUTHORIZED, "not-signed-in",
        "Önce T.C. kimlik numaranız ve sicil numaranızla giriş yapınız.");
      return;
    }
  if (!imzala_portal_application_validate (body, person, now, &application.fields_json,
                                           &application.form_text, &application.kind,
                                           &application.production_date, &problems))
    {
      imzala_portal_http_send_error_full (msg, SOUP_STATUS_BAD_REQUEST, "invalid-form",
                                          "Formda hatalı veya eksik alanlar var.", 0, problems);
      return;
    }
  application.public_id = imzala_portal_random_hex (16);
  application.person = g_strdup (person->tckn);
  if (!imzala_portal_store_add_application (self->store, &application, now, &error))
    {
      g_warning ("Could not store an application: %s", error->message);
      imzala_portal_http_send_internal_error (msg);
    }
  else
    {
      json_builder_begin_object (builder);
      imzala_portal_http_add_string (builder, "application_id", application.public_id);
      json_builder_set_member_name (builder, "eonay_available");
      json_builder_add_boolean_value (builder, g_strcmp0 (person->eonay, "accepted") == 0);
      imzala_portal_http_add_string (builder, "kind", application.kind);
      imzala_portal_http_add_time (builder, "production_date", application.production_date);
      imzala_portal_http_add_string (builder, "summary", application.form_text);
      json_builder_end_object (builder);
      imzala_portal_http_send_builder (msg, SOUP_STATUS_OK, builder);
    }
  g_free (application.public_id);
  g_free (application.person);
  g_free (application.fields_json);
  g_free (application.form_text);
  g_free (application.kind);
}

static void
browser_application_action (ImzalaPortalServer  *self,
                            SoupServerMessage   *msg,
                            ImzalaPortalSession *session,
                            JsonObject          *body,
                            char               **parts)
{
  const char *id = parts[1];
  const char *action = parts[2];
  g_autoptr(ImzalaPortalApplication) application = imzala_portal_store_get_application (self->store, id);
  g_autoptr(ImzalaPortalPerson) person = NULL;
  g_autoptr(GError) error = NULL;

  if (application == NULL || g_strcmp0 (application->person, session->applicant) != 0)
    {
      imzala_portal_http_send_error (msg, SOUP_STATUS_NOT_FOUND, "not-found",
                                     "Başvuru bulunamadı.");
      return;
    }
  if (g_strcmp0 (application->state, "draft") != 0)
    {
      imzala_portal_http_send_error (msg, SOUP_STATUS_CONFLICT, "code-used",
                                     "Bu başvuru daha önce onaylanmış.");
      return;
    }
  person = imzala_portal_store_get_person (self->store, application->person);

  if (g_str_equal (action, "eonay"))
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autofree char *message = NULL;
      gint64 now = imzala_portal_now ();

      if (g_strcmp0 (person->eonay, "accepted") != 0)
        {
          imzala_portal_http_send_error (
            msg, SOUP_STATUS_FORBIDDEN, "eonay-missing",
            "E-Onaylı başvuru için önce E-Onay İşlemleri bölümünden onay vermelisiniz.");
          return;
        }
      if (!imzala_portal_store_submit_application (self->store, application->id, "eonay",
                                                   now, &error))
        {
          imzala_portal_http_send_error (msg, SOUP_STATUS_CONFLICT, "code-used",
                                         "Bu başvuru daha önce onaylanmış.");
          return;
        }
      imzala_portal_store_log (self->store, "application-eonay", person->tckn, 0, NULL,
                               application->public_id);
      message = imzala_portal_application_done_message (application->production_date, now);
      json_builder_begin_object (builder);
      imzala_portal_http_add_string (builder, "state",
                                     application->production_date > now ? "waiting" : "submitted");
      imzala_portal_http_add_string (builder, "message", message);
      json_builder_end_object (builder);
      imzala_portal_http_send_builder (msg, SOUP_STATUS_OK, builder);
    }
  else if (g_str_equal (action, "esign"))
    {
      g_autofree char *undertaking = imzala_portal_texts_undertaking (person->name, person->tckn);
      const char *titles[] = { "Başvuru Formu", "Sertifika Sahibi Taahhütnamesi", NULL };
      const char *bodies[] = { application->form_text, undertaking, NULL };

      create_request (self, msg, "application", person->tckn, session->id_hash,
                      application->id, NULL, titles, bodies);
    }
  else
    imzala_portal_http_send_malformed (msg, "Bu istek desteklenmiyor.");
}

/* Kilit Çözme in two steps, like Kamu SM's: the T.C. kimlik no and the
 * security word make the portal send a one-time code to the registered
 * phone (202); the same two with that code ("sms_code") make the unblock
 * request (201). The word is checked again in the second step, so the code
 * alone is worth nothing, and the code is bound to this browser session. */
static void
browser_unblock (ImzalaPortalServer  *self,
                 SoupServerMessage   *msg,
                 ImzalaPortalSession *session,
                 JsonObject          *body,
                 char               **parts)
{
  const char *tckn = imzala_portal_http_member_string (body, "tckn");
  const char *word = imzala_portal_http_member_string (body, "security_word");
  const char *sms_code = imzala_portal_http_member_string (body, "sms_code");
  g_autoptr(ImzalaPortalPerson) person = NULL;
  const char *none[] = { NULL };
  gint64 now = imzala_portal_now ();

  if (guess_limited (self, msg) || work_limited (self, msg))
    return;
  if (tckn == NULL || !imzala_tckn_is_valid (tckn) || word == NULL || *word == '\0')
    {
      imzala_portal_http_send_malformed (msg,
                                         "T.C. kimlik numaranızı ve güvenlik sözcüğünüzü giriniz.");
      return;
    }
  person = imzala_portal_store_get_person (self->store, tckn);
  /* The hash is computed even for an unknown person, so that the answer
   * time does not tell which T.C. kimlik numbers are registered. */
  if (!imzala_portal_security_word_verify (
        word, person != NULL ? person->security_word_hash
                             : "pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA==$"
                               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
      || person == NULL)
    {
      send_identity_mismatch (self, msg, "T.C. kimlik numarası veya güvenlik sözcüğü hatalı.");
      return;
    }
  if (person->card_serial == NULL)
    {
      imzala_portal_http_send_error (msg, SOUP_STATUS_CONFLICT, "no-card",
                                     "Adınıza kayıtlı bir e-imza kartı bulunmuyor.");
      return;
    }
  if (person->phone == NULL)
    {
      imzala_portal_http_send_error (msg, SOUP_STATUS_CONFLICT, "no-phone",
                                     "Adınıza kayıtlı bir cep telefonu bulunmuyor. Lütfen "
                                     "kayıt merkezine başvurunuz.");
      return;
    }

  if (sms_code == NULL)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autofree char *key = imzala_portal_http_client_key (msg);
      g_autofree char *masked = imzala_portal_sms_send (self->sms, session->id_hash, tckn,
                                                        person->phone, now);
      g_autofree char *message =
        g_strdup_printf ("Kayıtlı cep telefonunuza (%s) bir doğrulama kodu gönderildi. Kodu "
                         "%d dakika içinde giriniz.", masked, IMZALA_PORTAL_SMS_LIFETIME / 60);

      imzala_portal_store_log (self->store, "unblock-sms-sent", tckn, 0, key, masked);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "sms_required");
      json_builder_add_boolean_value (builder, TRUE);
      imzala_portal_http_add_string (builder, "phone", masked);
      imzala_portal_http_add_string (builder, "message", message);
      json_builder_end_object (builder);
      imzala_portal_http_send_builder (msg, SOUP_STATUS_ACCEPTED, builder);
      return;
    }

  switch (imzala_portal_sms_check (self->sms, session->id_hash, tckn, sms_code, now))
    {
    case IMZALA_PORTAL_SMS_OK:
      break;
    case IMZALA_PORTAL_SMS_WRONG:
      {
        g_autofree char *key = imzala_portal_http_client_key (msg);

        imzala_portal_limiter_record (self->guesses, key);
        imzala_portal_store_log (self->store, "unblock-sms-wrong", tckn, 0, key, NULL);
        imzala_portal_http_send_error (msg, SOUP_STATUS_FORBIDDEN, "sms-code-wrong",
                                       "Cep telefonunuza gönderilen kod hatalı. Lütfen tekrar "
                                       "deneyiniz.");
        return;
      }
    case IMZALA_PORTAL_SMS_NONE:
    default:
      {
        g_autofree char *key = imzala_portal_http_client_key (msg);

        imzala_portal_limiter_record (self->guesses, key);
        imzala_portal_store_log (self->store, "unblock-sms-wrong", tckn, 0, key, "no live code");
        imzala_portal_http_send_error (msg, SOUP_STATUS_FORBIDDEN, "sms-code-expired",
                                       "Kodun süresi doldu veya çok fazla hatalı deneme yapıldı. "
                                       "Lütfen yeni bir kod isteyiniz.");
        return;
      }
    }
  create_request (self, msg, "unblock", tckn, session->id_hash, 0, NULL, none, none);
}

/* ---- Routes ---- */

static void
handle_session (ImzalaPortalServer  *self,
                SoupServerMessage   *msg,
                ImzalaPortalSession *session,
                JsonObject          *body,
                char               **parts)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(ImzalaPortalPerson) person = NULL;

  if (session != NULL && session->person != NULL)
    person = imzala_portal_store_get_person (self->store, session->person);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "person");
  add_person_json (builder, person);
  json_builder_end_object (builder);
  imzala_portal_http_send_builder (msg, SOUP_STATUS_OK, builder);
}

static void
handle_status (ImzalaPortalServer  *self,
               SoupServerMessage   *msg,
               ImzalaPortalSession *session,
               JsonObject          *body,
               char               **parts)
{
  g_autoptr(ImzalaPortalRequest) request =
    imzala_portal_store_get_request_by_public_id (self->store, parts[1]);

  /* A request's status is only for the browser that made it. */
  if (request == NULL || session == NULL || g_strcmp0 (request->session, session->id_hash) != 0)
    {
      imzala_portal_http_send_error (msg, SOUP_STATUS_NOT_FOUND, "code-unknown",
                                     "İşlem bulunamadı.");
      return;
    }
  if (g_str_equal (request->purpose, "login") && request->state == IMZALA_PORTAL_STATE_DONE
      && !imzala_portal_sessions_sign_in (self->sessions, msg, session, request->person))
    {
      imzala_portal_http_send_internal_error (msg);
      return;
    }
  send_status (self, msg, request);
}

static void
handle_logout (ImzalaPortalServer  *self,
               SoupServerMessage   *msg,
               ImzalaPortalSession *session,
               JsonObject          *body,
               char               **parts)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  if (session != NULL)
    imzala_portal_store_sign_out_session (self->store, session->id_hash, NULL);
  json_builder_begin_object (builder);
  imzala_portal_http_add_string (builder, "status", "ok");
  json_builder_end_object (builder);
  imzala_portal_http_send_builder (msg, SOUP_STATUS_OK, builder);
}

typedef void (*BrowserHandler) (ImzalaPortalServer  *self,
                                SoupServerMessage   *msg,
                                ImzalaPortalSession *session,
                                JsonObject          *body,
                                char               **parts);

/* @path after /api/v1/browser/, matched segment by segment, "*" standing
 * for any one segment (the handler finds it in @parts). @needs_session:
 * the handler gets this browser's session, made when it has none. Only a
 * POST may make one: reading a page or a status never adds a row. */
static const struct
{
  const char     *method;
  const char     *path;
  gboolean        needs_session;
  BrowserHandler  handler;
} routes[] = {
  { "GET", "session", FALSE, handle_session },
  { "GET", "requests/*/status", FALSE, handle_status },
  { "POST", "logout", FALSE, handle_logout },
  { "POST", "login", TRUE, browser_login },
  { "POST", "consent", TRUE, browser_consent },
  { "POST", "unblock", TRUE, browser_unblock },
  { "POST", "application/login", TRUE, browser_application_login },
  { "POST", "application/form", TRUE, browser_application_form },
  { "POST", "application/*/*", TRUE, browser_application_action },
};

static gboolean
path_matches (const char *pattern, char **parts)
{
  g_auto(GStrv) segments = g_strsplit (pattern, "/", -1);

  if (g_strv_length (segments) != g_strv_length (parts))
    return FALSE;
  for (guint i = 0; segments[i] != NULL; i++)
    if (!g_str_equal (segments[i], "*") && !g_str_equal (segments[i], parts[i]))
      return FALSE;
  return TRUE;
}

void
imzala_portal_browser_api_cb (SoupServer        *server,
                              SoupServerMessage *msg,
                              const char        *path,
                              GHashTable        *query,
                              gpointer           user_data)
{
  ImzalaPortalServer *self = user_data;
  g_autoptr(ImzalaPortalSession) session = NULL;
  g_autoptr(JsonObject) body = NULL;
  g_auto(GStrv) parts = NULL;
  const char *method = soup_server_message_get_method (msg);
  gboolean post = g_str_equal (method, "POST");
  guint i;

  if (!post && !g_str_equal (method, "GET"))
    {
      imzala_portal_http_send_malformed (msg, "Bu istek desteklenmiyor.");
      return;
    }
  /* Reading needs no session of its own: a browser without one is simply
   * not signed in and owns no request. */
  session = imzala_portal_sessions_lookup (self->sessions, msg);
  if (post && (body = imzala_portal_http_parse_body (msg, FALSE)) == NULL)
    return;

  parts = g_strsplit (path + strlen ("/api/v1/browser/"), "/", -1);
  for (i = 0; i < G_N_ELEMENTS (routes); i++)
    if (g_str_equal (method, routes[i].method) && path_matches (routes[i].path, parts))
      break;

  /* A POST to no route gets a session first too, as it always has; the
   * answer is the same 404. */
  if (post && (i == G_N_ELEMENTS (routes) || routes[i].needs_session) && session == NULL
      && (session = imzala_portal_sessions_ensure (self->sessions, msg)) == NULL)
    return;
  if (i == G_N_ELEMENTS (routes))
    {
      imzala_portal_http_send_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "Sayfa bulunamadı.");
      return;
    }
  routes[i].handler (self, msg, session, body, parts);
}
