#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-module-set-private.h"
#include "imzala-cancel-private.h"

/* More slots than any machine has readers: a count above it is a module's
 * mistake, and believing it would make g_new0() abort the program. */
#define MAX_SLOTS 1024
/* How often C_GetSlotList is asked again after CKR_BUFFER_TOO_SMALL. */
#define MAX_SLOT_LIST_TRIES 3

/* ---- Tokens ---- */

/* C_GetSlotList with the usual two calls. A reader that appears between
 * them makes the second answer CKR_BUFFER_TOO_SMALL: ask again, a few
 * times. Never trusts a count above MAX_SLOTS or above the array. Called
 * with the module lock held. */
static CK_RV
get_slot_list_locked (ImzalaModule  *module,
                      CK_BBOOL       token_present,
                      CK_SLOT_ID   **slots_out,
                      CK_ULONG      *n_slots_out)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (module);
  g_autofree CK_SLOT_ID *slots = NULL;
  CK_ULONG n_slots = 0;
  CK_ULONG allocated = 0;
  CK_RV rv = CKR_OK;

  for (guint attempt = 0; attempt < MAX_SLOT_LIST_TRIES; attempt++)
    {
      n_slots = 0;
      rv = functions->C_GetSlotList (token_present, NULL, &n_slots);
      if (rv == CKR_OK && n_slots > MAX_SLOTS)
        {
          g_debug ("C_GetSlotList of %s claims %lu slots", imzala_module_get_name (module),
                   (gulong) n_slots);
          n_slots = MAX_SLOTS;
        }
      if (rv != CKR_OK || n_slots == 0)
        break;
      allocated = n_slots;
      g_free (slots);
      slots = g_new0 (CK_SLOT_ID, allocated);
      rv = functions->C_GetSlotList (token_present, slots, &n_slots);
      if (rv == CKR_BUFFER_TOO_SMALL)
        {
          g_debug ("C_GetSlotList of %s: the list grew; asking again", imzala_module_get_name (module));
          continue;
        }
      /* A module that answers CKR_OK with more slots than the array holds
       * (a card reader plugged in meanwhile, or a careless vendor module)
       * must not make us read past it. */
      if (rv == CKR_OK && n_slots > allocated)
        {
          g_debug ("C_GetSlotList of %s claims %lu slots in an array of %lu",
                   imzala_module_get_name (module), (gulong) n_slots, (gulong) allocated);
          n_slots = allocated;
        }
      break;
    }
  if (rv != CKR_OK)
    n_slots = 0;

  *slots_out = g_steal_pointer (&slots);
  *n_slots_out = n_slots;
  return rv;
}

/* Whether @token holds the certificate whose whole SHA-256 fingerprint is
 * @fingerprint. Only a whole fingerprint ends a listing early: a prefix
 * may match a certificate on a later card too, and two matches must stay
 * an ambiguity the user hears about rather than a silent pick. */
static gboolean
token_holds_whole_fingerprint (ImzalaToken *token,
                               const char  *fingerprint)
{
  GPtrArray *certificates;

  if (fingerprint == NULL || strlen (fingerprint) != 64)
    return FALSE;
  certificates = imzala_token_get_certificates (token);
  for (guint i = 0; i < certificates->len; i++)
    if (g_str_equal (imzala_certificate_get_fingerprint (g_ptr_array_index (certificates, i)),
                     fingerprint))
      return TRUE;
  return FALSE;
}

static void
list_module_tokens (ImzalaModule  *module,
                    const char    *only_fingerprint,
                    const char    *only_uri,
                    GPtrArray     *tokens,
                    GCancellable  *cancellable,
                    gboolean      *found,
                    GError       **removed)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (module);
  g_autofree CK_SLOT_ID *slots = NULL;
  CK_ULONG n_slots = 0;
  gboolean every_slot = FALSE;
  CK_RV rv;

  imzala_module_lock (module);
  rv = get_slot_list_locked (module, CK_TRUE, &slots, &n_slots);
  /* Some AKİS versions answer an empty list for tokenPresent = TRUE with a
   * card inserted: then every slot is listed, and the empty readers are
   * left out by their CKF_TOKEN_PRESENT below. */
  if (rv == CKR_OK && n_slots == 0)
    {
      g_clear_pointer (&slots, g_free);
      rv = get_slot_list_locked (module, CK_FALSE, &slots, &n_slots);
      every_slot = TRUE;
    }
  if (rv == CKR_OK && every_slot)
    {
      CK_ULONG kept = 0;

      for (CK_ULONG i = 0; i < n_slots; i++)
        {
          CK_SLOT_INFO info;

          if (functions->C_GetSlotInfo (slots[i], &info) == CKR_OK &&
              (info.flags & CKF_TOKEN_PRESENT))
            slots[kept++] = slots[i];
        }
      n_slots = kept;
    }
  imzala_module_unlock (module);

  if (rv != CKR_OK)
    {
      g_debug ("C_GetSlotList of %s: %s", imzala_module_get_name (module), p11_kit_strerror (rv));
      return;
    }

  /* A card missing from this listing was pulled out: when it comes back,
   * its certificates are read again. */
  imzala_module_forget_absent_slots (module, slots, n_slots);

  for (CK_ULONG i = 0; i < n_slots; i++)
    {
      g_autoptr(GError) error = NULL;
      ImzalaToken *token;

      if (imzala_is_cancelled (cancellable))
        return;

      /* A card pulled out between C_GetSlotList and here, or one the module
       * cannot read, must not hide the other cards. */
      token = imzala_token_new_only (module, slots[i], only_fingerprint, only_uri, cancellable, &error);
      /* A card pulled out during the listing is said as such: leaving it
       * out would turn the removal into "no card" or "no certificate". */
      if (token == NULL && g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_TOKEN_REMOVED))
        {
          g_debug ("Slot %lu of %s: %s", (gulong) slots[i], imzala_module_get_name (module), error->message);
          if (*removed == NULL)
            *removed = g_steal_pointer (&error);
          continue;
        }
      if (token == NULL)
        {
          g_debug ("Skipping slot %lu of %s: %s", (gulong) slots[i],
                   imzala_module_get_name (module), error->message);
          imzala_module_forget_slot (module, slots[i]);
          continue;
        }
      g_ptr_array_add (tokens, token);
      /* The card that holds the one certificate asked for ends the listing:
       * the cards in the slots after it are not opened, searched or read
       * (issue 12; SoftHSM reads every object file of a token for a
       * session's first search). */
      if (token_holds_whole_fingerprint (token, only_fingerprint))
        {
          *found = TRUE;
          return;
        }
    }
}

typedef struct
{
  ImzalaModule *module;
  const char *only_fingerprint;
  const char *only_uri;
  GPtrArray *tokens;
  GCancellable *cancellable;
  gboolean found;       /* the card with the whole fingerprint was listed */
  GError *removed;      /* a card pulled out during the listing */
} ModuleListing;

/* On the module's thread. */
static gboolean
list_module_tokens_cb (gpointer   user_data,
                       GError   **error)
{
  ModuleListing *listing = user_data;

  list_module_tokens (listing->module, listing->only_fingerprint, listing->only_uri, listing->tokens,
                      listing->cancellable, &listing->found, &listing->removed);
  return TRUE;
}

GPtrArray *
imzala_module_set_list_tokens (ImzalaModuleSet  *self,
                               GCancellable     *cancellable,
                               GError          **error)
{
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(GError) removed = NULL;

  g_return_val_if_fail (IMZALA_IS_MODULE_SET (self), NULL);

  tokens = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->modules->len; i++)
    {
      ModuleListing listing = { g_ptr_array_index (self->modules, i), self->only_fingerprint,
                                self->only_uri, tokens, cancellable, FALSE, NULL };
      g_autoptr(GError) module_error = NULL;

      if (imzala_is_cancelled (cancellable))
        break;
      /* A closed module has no tokens any more; the others still count. */
      if (!imzala_module_call (listing.module, list_module_tokens_cb, &listing, &module_error))
        g_debug ("Listing %s: %s", imzala_module_get_name (listing.module), module_error->message);
      if (removed == NULL)
        removed = g_steal_pointer (&listing.removed);
      g_clear_error (&listing.removed);
      /* Nor are the modules after it asked. */
      if (listing.found)
        break;
    }

  if (imzala_cancelled (cancellable, error))
    return NULL;
  if (removed != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&removed));
      return NULL;
    }

  return g_steal_pointer (&tokens);
}

/* The asynchronous listing asks every module at once, each on its own
 * thread, and puts the tokens together in the modules' order when the last
 * one answered. */
typedef struct
{
  GPtrArray *per_module; /* GPtrArray of ImzalaToken, one per module */
  guint pending;
  GError *removed;       /* a card pulled out during the listing */
} ListTokensData;

static void
tokens_unref (gpointer tokens)
{
  if (tokens != NULL)
    g_ptr_array_unref (tokens);
}

static void
list_tokens_data_free (ListTokensData *data)
{
  g_ptr_array_unref (data->per_module);
  g_clear_error (&data->removed);
  g_free (data);
}

static void
list_module_tokens_thread (GTask        *task,
                           gpointer      source_object,
                           gpointer      task_data,
                           GCancellable *cancellable)
{
  GPtrArray *tokens = g_ptr_array_new_with_free_func (g_object_unref);
  GError *removed = NULL;
  gboolean found = FALSE;

  /* The window lists every certificate: no imzala_module_set_only_certificate(). */
  list_module_tokens (source_object, NULL, NULL, tokens, cancellable, &found, &removed);
  if (removed != NULL)
    {
      g_ptr_array_unref (tokens);
      g_task_return_error (task, removed);
      return;
    }
  g_task_return_pointer (task, tokens, (GDestroyNotify) g_ptr_array_unref);
}

static void
list_module_tokens_cb_async (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ListTokensData *data = g_task_get_task_data (task);
  guint index = GPOINTER_TO_UINT (g_task_get_task_data (G_TASK (result)));
  g_autoptr(GError) error = NULL;
  GPtrArray *tokens;
  g_autoptr(GPtrArray) all = NULL;

  tokens = g_task_propagate_pointer (G_TASK (result), &error);
  if (tokens == NULL && g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_TOKEN_REMOVED) &&
      data->removed == NULL)
    data->removed = g_steal_pointer (&error);
  else if (tokens == NULL)
    g_debug ("Listing %s: %s", imzala_module_get_name (IMZALA_MODULE (object)), error->message);
  else
    g_ptr_array_index (data->per_module, index) = tokens;

  if (--data->pending > 0)
    return;

  if (g_task_return_error_if_cancelled (task))
    return;
  /* A card pulled out during the listing is said as such, as in
   * imzala_module_set_list_tokens(). */
  if (data->removed != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->removed));
      return;
    }

  all = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < data->per_module->len; i++)
    {
      GPtrArray *module_tokens = g_ptr_array_index (data->per_module, i);

      for (guint j = 0; module_tokens != NULL && j < module_tokens->len; j++)
        g_ptr_array_add (all, g_object_ref (g_ptr_array_index (module_tokens, j)));
    }
  g_task_return_pointer (task, g_steal_pointer (&all), (GDestroyNotify) g_ptr_array_unref);
}

void
imzala_module_set_list_tokens_async (ImzalaModuleSet     *self,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ListTokensData *data;

  g_return_if_fail (IMZALA_IS_MODULE_SET (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_module_set_list_tokens_async);

  if (self->modules->len == 0)
    {
      if (!g_task_return_error_if_cancelled (task))
        g_task_return_pointer (task, g_ptr_array_new_with_free_func (g_object_unref),
                               (GDestroyNotify) g_ptr_array_unref);
      return;
    }

  data = g_new0 (ListTokensData, 1);
  data->per_module = g_ptr_array_new_full (self->modules->len, tokens_unref);
  g_ptr_array_set_size (data->per_module, self->modules->len);
  data->pending = self->modules->len;
  g_task_set_task_data (task, data, (GDestroyNotify) list_tokens_data_free);

  for (guint i = 0; i < self->modules->len; i++)
    {
      ImzalaModule *module = g_ptr_array_index (self->modules, i);
      g_autoptr(GTask) module_task = NULL;

      module_task = g_task_new (module, cancellable, list_module_tokens_cb_async, g_object_ref (task));
      g_task_set_source_tag (module_task, imzala_module_set_list_tokens_async);
      g_task_set_task_data (module_task, GUINT_TO_POINTER (i), NULL);
      imzala_module_run_task (module, module_task, list_module_tokens_thread);
    }
}

GPtrArray *
imzala_module_set_list_tokens_finish (ImzalaModuleSet  *self,
                                      GAsyncResult     *result,
                                      GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- Finding a certificate ---- */

/* "“SIGN0” (AYŞE YILMAZ)": how a certificate is named in a message. */
static char *
describe_certificate (ImzalaCertificate *certificate)
{
  const char *label = imzala_certificate_get_label (certificate);

  if (label != NULL && *label != '\0')
    /* Translators: a certificate named in a list: its label on the card and
     * the holder's name. */
    return g_strdup_printf (_("“%s” (%s)"), label, imzala_certificate_get_holder_name (certificate));
  return g_strdup (imzala_certificate_get_holder_name (certificate));
}

static void
set_ambiguous_error (GError    **error,
                     GPtrArray  *candidates)
{
  g_autoptr(GString) names = g_string_new (NULL);

  for (guint i = 0; i < candidates->len; i++)
    {
      g_autofree char *name = describe_certificate (g_ptr_array_index (candidates, i));

      if (i > 0)
        g_string_append (names, ", ");
      g_string_append (names, name);
    }

  g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_AMBIGUOUS_CERTIFICATE,
               ngettext ("%u certificate can sign: %s. Choose one of them.",
                         "%u certificates can sign: %s. Choose one of them.",
                         candidates->len),
               candidates->len, names->str);
}

/* Lower-case hex without separators, or NULL if @text is not hex. */
static char *
normalize_fingerprint (const char *text)
{
  g_autoptr(GString) hex = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == ':' || *p == ' ' || *p == '-')
        continue;
      if (!g_ascii_isxdigit (*p))
        return NULL;
      g_string_append_c (hex, g_ascii_tolower (*p));
    }
  if (hex->len == 0)
    return NULL;
  return g_string_free (g_steal_pointer (&hex), FALSE);
}

void
imzala_module_set_only_certificate (ImzalaModuleSet *self,
                                    const char      *selector)
{
  g_autofree char *fingerprint = NULL;

  g_return_if_fail (IMZALA_IS_MODULE_SET (self));

  /* The same test as find_certificate(): what it would not take for a
   * fingerprint restricts nothing, and fails there with its own message. */
  if (selector != NULL && !g_str_has_prefix (selector, "pkcs11:"))
    fingerprint = normalize_fingerprint (selector);
  if (fingerprint != NULL && (strlen (fingerprint) < 8 || strlen (fingerprint) > 64))
    g_clear_pointer (&fingerprint, g_free);
  g_free (self->only_fingerprint);
  self->only_fingerprint = g_steal_pointer (&fingerprint);
  g_free (self->only_uri);
  self->only_uri = selector != NULL && g_str_has_prefix (selector, "pkcs11:") ? g_strdup (selector) : NULL;
}

static gboolean
uri_matches (P11KitUri         *uri,
             ImzalaToken       *token,
             ImzalaCertificate *certificate)
{
  return imzala_token_matches_uri (token, uri)
         && imzala_pkcs11_uri_names_object (uri, imzala_certificate_get_id (certificate),
                                            imzala_certificate_get_label (certificate));
}

ImzalaToken *
imzala_module_set_find_named_token (GPtrArray  *tokens,
                                    const char *selector)
{
  P11KitUri *uri;
  ImzalaToken *named = NULL;
  guint n_named = 0;

  g_return_val_if_fail (tokens != NULL, NULL);

  uri = imzala_pkcs11_uri_parse (selector);
  if (uri == NULL)
    return NULL;
  for (guint i = 0; i < tokens->len; i++)
    if (imzala_token_matches_uri (g_ptr_array_index (tokens, i), uri))
      {
        named = g_ptr_array_index (tokens, i);
        n_named++;
      }
  p11_kit_uri_free (uri);
  return n_named == 1 ? named : NULL;
}

/* The one certificate of @candidates, preferring the single recommended one
 * when there are several. */
static ImzalaCertificate *
pick_one (GPtrArray   *candidates,
          const char  *selector,
          GError     **error)
{
  g_autoptr(GPtrArray) recommended = NULL;

  if (candidates->len == 1)
    return g_object_ref (g_ptr_array_index (candidates, 0));

  if (candidates->len == 0)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE,
                   _("No certificate on the inserted cards matches “%s”."), selector);
      return NULL;
    }

  recommended = g_ptr_array_new ();
  for (guint i = 0; i < candidates->len; i++)
    if (imzala_certificate_is_recommended (g_ptr_array_index (candidates, i)))
      g_ptr_array_add (recommended, g_ptr_array_index (candidates, i));

  if (recommended->len == 1)
    return g_object_ref (g_ptr_array_index (recommended, 0));

  set_ambiguous_error (error, recommended->len > 1 ? recommended : candidates);
  return NULL;
}

static ImzalaCertificate *
find_recommended (GPtrArray  *tokens,
                  GError    **error)
{
  g_autoptr(GPtrArray) recommended = g_ptr_array_new ();
  g_autoptr(GString) reasons = g_string_new (NULL);
  guint n_certificates = 0;

  for (guint i = 0; i < tokens->len; i++)
    {
      GPtrArray *certificates = imzala_token_get_certificates (g_ptr_array_index (tokens, i));

      for (guint j = 0; j < certificates->len; j++)
        {
          ImzalaCertificate *certificate = g_ptr_array_index (certificates, j);
          g_auto(GStrv) problems = NULL;
          g_autofree char *name = NULL;
          g_autofree char *joined = NULL;

          /* CA certificates sit on cards for the chain; they are nobody's
           * signing certificate and need no explanation. */
          if (imzala_certificate_is_ca (certificate))
            continue;
          n_certificates++;

          if (imzala_certificate_is_recommended (certificate))
            {
              g_ptr_array_add (recommended, certificate);
              continue;
            }

          problems = imzala_certificate_describe_problems (certificate, NULL);
          name = describe_certificate (certificate);
          joined = g_strjoinv (" ", problems);
          if (reasons->len > 0)
            g_string_append_c (reasons, ' ');
          /* Translators: a certificate and why it cannot be used, e.g.
           * "“SIGN0” (AYŞE YILMAZ): It has expired." */
          g_string_append_printf (reasons, _("%s: %s"), name, joined);
        }
    }

  if (recommended->len == 1)
    return g_object_ref (g_ptr_array_index (recommended, 0));

  if (recommended->len > 1)
    {
      set_ambiguous_error (error, recommended);
      return NULL;
    }

  if (tokens->len == 0)
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                         _("No card was found. Insert your card into the reader."));
  else if (n_certificates == 0)
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE,
                         _("There is no signing certificate on the inserted card."));
  else
    g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE,
                 _("No certificate on the inserted card can make a qualified electronic signature. %s"),
                 reasons->str);
  return NULL;
}

static ImzalaCertificate *
find_certificate (GPtrArray   *tokens,
                  const char  *selector,
                  GError     **error)
{
  g_autoptr(GPtrArray) candidates = NULL;
  g_autofree char *fingerprint = NULL;
  P11KitUri *uri = NULL;

  g_return_val_if_fail (tokens != NULL, NULL);

  if (selector == NULL)
    return find_recommended (tokens, error);

  if (g_str_has_prefix (selector, "pkcs11:"))
    {
      uri = imzala_pkcs11_uri_parse (selector);
      if (uri == NULL)
        {
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE,
                       _("“%s” is not a PKCS#11 URI that İmzala understands."), selector);
          return NULL;
        }
    }
  else
    {
      fingerprint = normalize_fingerprint (selector);
      /* A unique prefix of at least 8 hex digits is enough, as with git
       * commit ids; anything shorter is too easy to mistype into a match. */
      if (fingerprint == NULL || strlen (fingerprint) < 8 || strlen (fingerprint) > 64)
        {
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE,
                       _("“%s” is neither a PKCS#11 URI nor a SHA-256 certificate fingerprint."),
                       selector);
          return NULL;
        }
    }

  candidates = g_ptr_array_new ();
  for (guint i = 0; i < tokens->len; i++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, i);
      GPtrArray *certificates = imzala_token_get_certificates (token);

      for (guint j = 0; j < certificates->len; j++)
        {
          ImzalaCertificate *certificate = g_ptr_array_index (certificates, j);
          gboolean match;

          if (uri != NULL)
            match = uri_matches (uri, token, certificate);
          else
            match = g_str_has_prefix (imzala_certificate_get_fingerprint (certificate), fingerprint);
          if (match)
            g_ptr_array_add (candidates, certificate);
        }
    }

  if (uri != NULL)
    p11_kit_uri_free (uri);

  return pick_one (candidates, selector, error);
}

ImzalaCertificate *
imzala_module_set_find_certificate (GPtrArray    *tokens,
                                    const char   *selector,
                                    ImzalaToken **token_out,
                                    GError      **error)
{
  g_autoptr(ImzalaCertificate) certificate = NULL;

  g_return_val_if_fail (tokens != NULL, NULL);
  g_return_val_if_fail (token_out == NULL || *token_out == NULL, NULL);

  certificate = find_certificate (tokens, selector, error);
  if (certificate != NULL && token_out != NULL)
    *token_out = g_object_ref (imzala_module_set_find_token (tokens, certificate));
  return g_steal_pointer (&certificate);
}

ImzalaToken *
imzala_module_set_find_token (GPtrArray         *tokens,
                              ImzalaCertificate *certificate)
{
  g_return_val_if_fail (tokens != NULL, NULL);
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (certificate), NULL);

  for (guint i = 0; i < tokens->len; i++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, i);

      if (imzala_token_has_certificate (token, certificate))
        return token;
    }
  return NULL;
}
