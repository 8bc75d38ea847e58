/* imzala-doctor.c: an ImzalaDoctor's facts: the Facts structs, the object
 * and its setters, the facts taken from the program's objects, and
 * gathering them (imzala_doctor_gather_async()). Masking, the problems and
 * their advice, and the text and JSON reports are in imzala-doctor-render.c.
 */
#define G_LOG_DOMAIN "imzala-doctor"

#include "config.h"

#include <sys/utsname.h>
#include <json-glib/json-glib.h>
#include <openssl/crypto.h>
#include <PCSC/pcsclite.h>

#include "imzala-doctor-private.h"
#include "imzala-error.h"
#include "imzala-http-session.h"

/* How long gathering waits for pcscd's first answer to the monitor. */
#define PCSC_WAIT_SECONDS 5

G_DEFINE_FINAL_TYPE (ImzalaDoctor, imzala_doctor, G_TYPE_OBJECT)

/* ---- Facts ---- */

ImzalaDoctorReaderFacts *
imzala_doctor_reader_facts_new (void)
{
  return g_new0 (ImzalaDoctorReaderFacts, 1);
}

void
imzala_doctor_reader_facts_free (ImzalaDoctorReaderFacts *facts)
{
  if (facts == NULL)
    return;
  g_free (facts->name);
  g_free (facts->atr);
  g_free (facts->state_text);
  g_free (facts->token_label);
  g_free (facts);
}

ImzalaDoctorModuleFacts *
imzala_doctor_module_facts_new (void)
{
  return g_new0 (ImzalaDoctorModuleFacts, 1);
}

void
imzala_doctor_module_facts_free (ImzalaDoctorModuleFacts *facts)
{
  if (facts == NULL)
    return;
  g_free (facts->name);
  g_free (facts->path);
  g_free (facts->description);
  g_free (facts->manufacturer);
  g_free (facts->version);
  g_free (facts->load_error);
  g_free (facts);
}

ImzalaDoctorCertificateFacts *
imzala_doctor_certificate_facts_new (void)
{
  return g_new0 (ImzalaDoctorCertificateFacts, 1);
}

void
imzala_doctor_certificate_facts_free (ImzalaDoctorCertificateFacts *facts)
{
  if (facts == NULL)
    return;
  g_free (facts->holder);
  g_free (facts->tckn);
  g_free (facts->issuer);
  g_free (facts->key);
  g_clear_pointer (&facts->not_before, g_date_time_unref);
  g_clear_pointer (&facts->not_after, g_date_time_unref);
  g_strfreev (facts->problems);
  g_free (facts);
}

ImzalaDoctorTokenFacts *
imzala_doctor_token_facts_new (void)
{
  ImzalaDoctorTokenFacts *facts = g_new0 (ImzalaDoctorTokenFacts, 1);

  facts->certificates = g_ptr_array_new_with_free_func ((GDestroyNotify) imzala_doctor_certificate_facts_free);
  return facts;
}

void
imzala_doctor_token_facts_free (ImzalaDoctorTokenFacts *facts)
{
  if (facts == NULL)
    return;
  g_free (facts->label);
  g_free (facts->manufacturer);
  g_free (facts->model);
  g_free (facts->serial);
  g_free (facts->slot_description);
  g_free (facts->module);
  g_ptr_array_unref (facts->certificates);
  g_free (facts);
}

ImzalaDoctorCertificateFacts *
imzala_doctor_certificate_facts_new_for_certificate (ImzalaCertificate *certificate,
                                                     GDateTime         *now)
{
  ImzalaDoctorCertificateFacts *facts = imzala_doctor_certificate_facts_new ();
  ImzalaCertificateProblem problems = imzala_certificate_get_problems (certificate, now);
  GDateTime *not_before = imzala_certificate_get_not_before (certificate);
  GDateTime *not_after = imzala_certificate_get_not_after (certificate);

  facts->holder = g_strdup (imzala_certificate_get_holder_name (certificate));
  facts->tckn = g_strdup (imzala_certificate_get_tckn (certificate));
  facts->issuer = g_strdup (imzala_certificate_get_issuer_name (certificate));
  facts->key = g_strdup (imzala_certificate_get_key_description (certificate));
  facts->not_before = not_before != NULL ? g_date_time_ref (not_before) : NULL;
  facts->not_after = not_after != NULL ? g_date_time_ref (not_after) : NULL;
  facts->qualified = imzala_certificate_is_qualified (certificate);
  facts->ca = imzala_certificate_is_ca (certificate);
  facts->has_private_key = imzala_certificate_has_private_key (certificate);
  facts->usable = problems == IMZALA_CERTIFICATE_PROBLEM_NONE;
  facts->expired = (problems & IMZALA_CERTIFICATE_PROBLEM_EXPIRED) != 0;
  if (!facts->usable && !facts->ca)
    facts->problems = imzala_certificate_describe_problems (certificate, now);
  return facts;
}

/* ---- Object ---- */

static void
imzala_doctor_finalize (GObject *object)
{
  ImzalaDoctor *self = IMZALA_DOCTOR (object);

  g_clear_pointer (&self->now, g_date_time_unref);
  g_free (self->os);
  g_ptr_array_unref (self->versions);
  g_free (self->pcsc_error);
  g_ptr_array_unref (self->readers);
  g_ptr_array_unref (self->modules);
  g_free (self->modules_error);
  g_ptr_array_unref (self->tokens);
  g_ptr_array_unref (self->token_objects);
  g_free (self->tokens_error);
  g_free (self->portal_url);
  g_clear_pointer (&self->portal_time, g_date_time_unref);
  g_clear_pointer (&self->portal_local_time, g_date_time_unref);
  g_free (self->portal_error);

  G_OBJECT_CLASS (imzala_doctor_parent_class)->finalize (object);
}

static void
imzala_doctor_class_init (ImzalaDoctorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_doctor_finalize;
}

static char *
read_os (void)
{
  g_autofree char *pretty = g_get_os_info (G_OS_INFO_KEY_PRETTY_NAME);
  struct utsname names;

  if (uname (&names) == 0)
    return g_strdup_printf ("%s, %s %s %s", pretty != NULL ? pretty : "?",
                            names.sysname, names.release, names.machine);
  return g_strdup (pretty != NULL ? pretty : "?");
}

static void
imzala_doctor_init (ImzalaDoctor *self)
{
  g_autofree char *glib_version = NULL;
  g_autofree char *soup_version = NULL;
  g_autoptr(GError) soup_error = NULL;

  self->now = g_date_time_new_now_utc ();
  self->versions = g_ptr_array_new_with_free_func (g_free);
  self->readers = g_ptr_array_new_with_free_func ((GDestroyNotify) imzala_doctor_reader_facts_free);
  self->modules = g_ptr_array_new_with_free_func ((GDestroyNotify) imzala_doctor_module_facts_free);
  self->tokens = g_ptr_array_new_with_free_func ((GDestroyNotify) imzala_doctor_token_facts_free);
  self->token_objects = g_ptr_array_new_with_free_func (g_object_unref);
  self->os = read_os ();

  glib_version = g_strdup_printf ("%u.%u.%u", glib_major_version, glib_minor_version, glib_micro_version);
  /* libsoup is in the HTTP module (imzala-http-session.h): loading it here
   * also shows whether it is installed. */
  soup_version = imzala_http_dup_backend_version (&soup_error);
  imzala_doctor_set_version (self, "İmzala", PACKAGE_VERSION);
  imzala_doctor_set_version (self, "GLib", glib_version);
  imzala_doctor_set_version (self, "OpenSSL", OpenSSL_version (OPENSSL_VERSION_STRING));
  /* p11-kit and pcsc-lite tell their version only at build time. */
  imzala_doctor_set_version (self, "p11-kit", IMZALA_P11_KIT_VERSION);
  imzala_doctor_set_version (self, "pcsc-lite", PCSCLITE_VERSION_NUMBER);
  imzala_doctor_set_version (self, "libsoup", soup_version != NULL ? soup_version : soup_error->message);
  imzala_doctor_set_version (self, "json-glib", JSON_VERSION_S);
}

ImzalaDoctor *
imzala_doctor_new (void)
{
  return g_object_new (IMZALA_TYPE_DOCTOR, NULL);
}

void
imzala_doctor_set_version (ImzalaDoctor *self,
                           const char   *component,
                           const char   *version)
{
  g_autofree char *prefix = NULL;

  g_return_if_fail (IMZALA_IS_DOCTOR (self));
  g_return_if_fail (component != NULL);

  prefix = g_strconcat (component, "\t", NULL);
  for (guint i = 0; i < self->versions->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (self->versions, i), prefix))
      {
        g_free (g_ptr_array_index (self->versions, i));
        self->versions->pdata[i] = g_strconcat (prefix, version != NULL ? version : "?", NULL);
        return;
      }
  g_ptr_array_add (self->versions, g_strconcat (prefix, version != NULL ? version : "?", NULL));
}

void
imzala_doctor_set_os (ImzalaDoctor *self,
                      const char   *os)
{
  g_return_if_fail (IMZALA_IS_DOCTOR (self));
  g_free (self->os);
  self->os = g_strdup (os);
}

void
imzala_doctor_set_now (ImzalaDoctor *self,
                       GDateTime    *now)
{
  g_return_if_fail (IMZALA_IS_DOCTOR (self));
  g_return_if_fail (now != NULL);
  g_date_time_unref (self->now);
  self->now = g_date_time_ref (now);
}

void
imzala_doctor_set_pcsc (ImzalaDoctor          *self,
                        ImzalaDoctorPcscState  state,
                        const char            *error_message)
{
  g_return_if_fail (IMZALA_IS_DOCTOR (self));
  self->pcsc_state = state;
  g_free (self->pcsc_error);
  self->pcsc_error = g_strdup (error_message);
}

void
imzala_doctor_take_reader (ImzalaDoctor            *self,
                           ImzalaDoctorReaderFacts *facts)
{
  g_return_if_fail (IMZALA_IS_DOCTOR (self));
  g_ptr_array_add (self->readers, facts);
}

void
imzala_doctor_take_module (ImzalaDoctor            *self,
                           ImzalaDoctorModuleFacts *facts)
{
  g_return_if_fail (IMZALA_IS_DOCTOR (self));
  g_ptr_array_add (self->modules, facts);
}

void
imzala_doctor_take_token (ImzalaDoctor           *self,
                          ImzalaDoctorTokenFacts *facts)
{
  g_return_if_fail (IMZALA_IS_DOCTOR (self));
  g_ptr_array_add (self->tokens, facts);
}

void
imzala_doctor_set_modules_error (ImzalaDoctor *self,
                                 const char   *message)
{
  g_return_if_fail (IMZALA_IS_DOCTOR (self));
  g_free (self->modules_error);
  self->modules_error = g_strdup (message);
}

void
imzala_doctor_set_tokens_error (ImzalaDoctor *self,
                                const char   *message)
{
  g_return_if_fail (IMZALA_IS_DOCTOR (self));
  g_free (self->tokens_error);
  self->tokens_error = g_strdup (message);
}

void
imzala_doctor_set_portal (ImzalaDoctor *self,
                          const char   *url,
                          GDateTime    *server_time,
                          GDateTime    *local_time,
                          const char   *error_message)
{
  g_return_if_fail (IMZALA_IS_DOCTOR (self));

  g_free (self->portal_url);
  self->portal_url = g_strdup (url);
  g_clear_pointer (&self->portal_time, g_date_time_unref);
  g_clear_pointer (&self->portal_local_time, g_date_time_unref);
  if (server_time != NULL && local_time != NULL)
    {
      self->portal_time = g_date_time_ref (server_time);
      self->portal_local_time = g_date_time_ref (local_time);
    }
  g_free (self->portal_error);
  self->portal_error = g_strdup (error_message);
}

void
imzala_doctor_add_module_set (ImzalaDoctor    *self,
                              ImzalaModuleSet *module_set)
{
  GPtrArray *modules;
  GPtrArray *load_errors;

  g_return_if_fail (IMZALA_IS_DOCTOR (self));
  g_return_if_fail (IMZALA_IS_MODULE_SET (module_set));

  modules = imzala_module_set_get_modules (module_set);
  load_errors = imzala_module_set_get_load_errors (module_set);

  for (guint i = 0; modules != NULL && i < modules->len; i++)
    {
      ImzalaModule *module = g_ptr_array_index (modules, i);
      ImzalaDoctorModuleFacts *facts = imzala_doctor_module_facts_new ();

      facts->name = g_strdup (imzala_module_get_name (module));
      facts->path = g_strdup (imzala_module_get_path (module));
      facts->description = g_strdup (imzala_module_get_description (module));
      facts->manufacturer = g_strdup (imzala_module_get_manufacturer (module));
      facts->version = g_strdup (imzala_module_get_version (module));
      facts->unmanaged = imzala_module_is_unmanaged (module);
      imzala_doctor_take_module (self, facts);
    }
  for (guint i = 0; load_errors != NULL && i < load_errors->len; i++)
    {
      ImzalaModuleLoadError *e = g_ptr_array_index (load_errors, i);
      ImzalaDoctorModuleFacts *facts = imzala_doctor_module_facts_new ();

      facts->name = g_strdup (e->name);
      facts->path = g_strdup (e->path);
      facts->load_error = g_strdup (e->error->message);
      imzala_doctor_take_module (self, facts);
    }
}

void
imzala_doctor_add_tokens (ImzalaDoctor *self,
                          GPtrArray    *tokens)
{
  g_return_if_fail (IMZALA_IS_DOCTOR (self));

  for (guint i = 0; tokens != NULL && i < tokens->len; i++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, i);
      ImzalaDoctorTokenFacts *facts = imzala_doctor_token_facts_new ();
      GPtrArray *certificates = imzala_token_get_certificates (token);

      facts->label = g_strdup (imzala_token_get_label (token));
      facts->manufacturer = g_strdup (imzala_token_get_manufacturer (token));
      facts->model = g_strdup (imzala_token_get_model (token));
      facts->serial = g_strdup (imzala_token_get_serial (token));
      facts->slot_description = g_strdup (imzala_token_get_slot_description (token));
      facts->module = g_strdup (imzala_module_get_name (imzala_token_get_module (token)));
      facts->pin_state = imzala_token_get_pin_state (token);
      facts->pin_pad = imzala_token_has_pin_pad (token);
      facts->min_pin_length = imzala_token_get_min_pin_length (token);
      facts->max_pin_length = imzala_token_get_max_pin_length (token);
      for (guint j = 0; certificates != NULL && j < certificates->len; j++)
        g_ptr_array_add (facts->certificates,
                         imzala_doctor_certificate_facts_new_for_certificate (g_ptr_array_index (certificates, j),
                                                                              self->now));
      imzala_doctor_take_token (self, facts);
      g_ptr_array_add (self->token_objects, g_object_ref (token));
    }
}

void
imzala_doctor_add_readers (ImzalaDoctor        *self,
                           ImzalaReaderMonitor *monitor)
{
  const GError *error;
  guint n;

  g_return_if_fail (IMZALA_IS_DOCTOR (self));
  g_return_if_fail (IMZALA_IS_READER_MONITOR (monitor));

  error = imzala_reader_monitor_get_error (monitor);
  if (imzala_reader_monitor_get_available (monitor))
    imzala_doctor_set_pcsc (self, IMZALA_DOCTOR_PCSC_RUNNING, NULL);
  else if (error != NULL)
    imzala_doctor_set_pcsc (self, IMZALA_DOCTOR_PCSC_NOT_RUNNING, error->message);
  else
    imzala_doctor_set_pcsc (self, IMZALA_DOCTOR_PCSC_UNKNOWN, NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (monitor));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ImzalaReader) reader = g_list_model_get_item (G_LIST_MODEL (monitor), i);
      ImzalaDoctorReaderFacts *facts = imzala_doctor_reader_facts_new ();

      facts->name = g_strdup (imzala_reader_get_name (reader));
      facts->atr = g_strdup (imzala_reader_get_atr (reader));
      facts->state_text = g_strdup (imzala_reader_get_state_text (reader));
      facts->has_card = imzala_reader_get_has_card (reader);
      for (guint j = 0; j < self->token_objects->len; j++)
        {
          ImzalaToken *token = g_ptr_array_index (self->token_objects, j);

          if (imzala_reader_matches_token (reader, token))
            {
              facts->token_label = g_strdup (imzala_token_get_label (token));
              break;
            }
        }
      imzala_doctor_take_reader (self, facts);
    }
}

/* ---- Gathering ---- */

typedef struct
{
  ImzalaModuleSet     *module_set;
  GError              *modules_error;
  ImzalaTokenList     *token_list;
  ImzalaReaderMonitor *monitor;
  ImzalaPortalClient  *portal;
  guint                pending;
  GPtrArray           *tokens;
  GError              *tokens_error;
  gulong               available_handler;
  gulong               error_handler;
  guint                pcsc_timeout;
  GDateTime           *portal_time;
  GDateTime           *portal_local_time;
  GError              *portal_error;
} Gather;

static void
gather_free (Gather *gather)
{
  if (gather->available_handler != 0)
    g_signal_handler_disconnect (gather->monitor, gather->available_handler);
  if (gather->error_handler != 0)
    g_signal_handler_disconnect (gather->monitor, gather->error_handler);
  g_clear_handle_id (&gather->pcsc_timeout, g_source_remove);
  g_clear_object (&gather->module_set);
  g_clear_error (&gather->modules_error);
  g_clear_object (&gather->token_list);
  g_clear_object (&gather->monitor);
  g_clear_object (&gather->portal);
  g_clear_pointer (&gather->tokens, g_ptr_array_unref);
  g_clear_error (&gather->tokens_error);
  g_clear_pointer (&gather->portal_time, g_date_time_unref);
  g_clear_pointer (&gather->portal_local_time, g_date_time_unref);
  g_clear_error (&gather->portal_error);
  g_free (gather);
}

/* Called once per step; the last one puts the facts together, tokens
 * before readers so that readers are matched to them. */
static void
gather_step_done (GTask *task)
{
  ImzalaDoctor *self = g_task_get_source_object (task);
  Gather *gather = g_task_get_task_data (task);

  g_assert (gather->pending > 0);
  if (--gather->pending > 0)
    return;

  if (g_task_return_error_if_cancelled (task))
    return;

  if (gather->module_set != NULL)
    imzala_doctor_add_module_set (self, gather->module_set);
  if (gather->modules_error != NULL)
    imzala_doctor_set_modules_error (self, gather->modules_error->message);

  if (gather->tokens_error != NULL)
    imzala_doctor_set_tokens_error (self, gather->tokens_error->message);
  else
    imzala_doctor_add_tokens (self, gather->tokens);

  if (gather->monitor != NULL)
    imzala_doctor_add_readers (self, gather->monitor);

  if (gather->portal != NULL)
    {
      const char *url = imzala_portal_client_get_base_url (gather->portal);

      imzala_doctor_set_portal (self, url, gather->portal_time, gather->portal_local_time,
                                gather->portal_error != NULL ? gather->portal_error->message : NULL);
    }

  g_task_return_boolean (task, TRUE);
}

static void
token_list_refreshed_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Gather *gather = g_task_get_task_data (task);

  if (imzala_token_list_refresh_finish (IMZALA_TOKEN_LIST (source), result, &gather->tokens_error))
    gather->tokens = imzala_token_list_dup_tokens (IMZALA_TOKEN_LIST (source));
  else if (g_error_matches (gather->tokens_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_clear_error (&gather->tokens_error);
  gather_step_done (task);
}

static void
pcsc_answered (GTask *task)
{
  Gather *gather = g_task_get_task_data (task);

  g_clear_signal_handler (&gather->available_handler, gather->monitor);
  g_clear_signal_handler (&gather->error_handler, gather->monitor);
  g_clear_handle_id (&gather->pcsc_timeout, g_source_remove);
  gather_step_done (task);
  g_object_unref (task);
}

static void
monitor_notify_cb (GObject    *object,
                   GParamSpec *pspec,
                   gpointer    user_data)
{
  ImzalaReaderMonitor *monitor = IMZALA_READER_MONITOR (object);

  if (imzala_reader_monitor_get_available (monitor) || imzala_reader_monitor_get_error (monitor) != NULL)
    pcsc_answered (user_data);
}

static gboolean
pcsc_timeout_cb (gpointer user_data)
{
  Gather *gather = g_task_get_task_data (user_data);

  /* The source is gone once this returns. */
  gather->pcsc_timeout = 0;
  pcsc_answered (user_data);
  return G_SOURCE_REMOVE;
}

static void
portal_time_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Gather *gather = g_task_get_task_data (task);

  gather->portal_time = imzala_portal_client_query_time_finish (IMZALA_PORTAL_CLIENT (source), result,
                                                                &gather->portal_error);
  gather->portal_local_time = g_date_time_new_now_utc ();
  gather_step_done (task);
}

void
imzala_doctor_gather_async (ImzalaDoctor        *self,
                            ImzalaModuleSet     *module_set,
                            const GError        *modules_error,
                            ImzalaTokenList     *token_list,
                            ImzalaReaderMonitor *monitor,
                            ImzalaPortalClient  *portal,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Gather *gather;

  g_return_if_fail (IMZALA_IS_DOCTOR (self));
  g_return_if_fail (module_set == NULL || IMZALA_IS_MODULE_SET (module_set));
  g_return_if_fail (token_list == NULL || IMZALA_IS_TOKEN_LIST (token_list));
  g_return_if_fail (monitor == NULL || IMZALA_IS_READER_MONITOR (monitor));
  g_return_if_fail (portal == NULL || IMZALA_IS_PORTAL_CLIENT (portal));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_doctor_gather_async);

  gather = g_new0 (Gather, 1);
  gather->module_set = module_set != NULL ? g_object_ref (module_set) : NULL;
  gather->modules_error = modules_error != NULL ? g_error_copy (modules_error) : NULL;
  gather->token_list = token_list != NULL ? g_object_ref (token_list) : NULL;
  gather->monitor = monitor != NULL ? g_object_ref (monitor) : NULL;
  gather->portal = portal != NULL ? g_object_ref (portal) : NULL;
  g_task_set_task_data (task, gather, (GDestroyNotify) gather_free);

  /* One step of our own, so that no step finishing at once ends the whole. */
  gather->pending = 1;

  if (token_list != NULL)
    {
      gather->pending++;
      imzala_token_list_refresh_async (token_list, cancellable, token_list_refreshed_cb, g_object_ref (task));
    }

  if (monitor != NULL
      && !imzala_reader_monitor_get_available (monitor)
      && imzala_reader_monitor_get_error (monitor) == NULL)
    {
      /* Not known yet: wait for the first answer, a few seconds at most. */
      GTask *ref = g_object_ref (task);

      gather->pending++;
      gather->available_handler = g_signal_connect (monitor, "notify::available",
                                                    G_CALLBACK (monitor_notify_cb), ref);
      gather->error_handler = g_signal_connect (monitor, "notify::error",
                                                G_CALLBACK (monitor_notify_cb), ref);
      gather->pcsc_timeout = g_timeout_add_seconds (PCSC_WAIT_SECONDS, pcsc_timeout_cb, ref);
    }

  if (portal != NULL)
    {
      gather->pending++;
      imzala_portal_client_query_time_async (portal, cancellable, portal_time_cb, g_object_ref (task));
    }

  gather_step_done (task);
}

gboolean
imzala_doctor_gather_finish (ImzalaDoctor  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
