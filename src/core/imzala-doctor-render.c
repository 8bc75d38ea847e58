/* imzala-doctor-render.c: an ImzalaDoctor's report: masking names and T.C.
 * kimlik numbers, the problems found and their advice (collect_problems(),
 * one place for the text, the JSON and the count), and the text and JSON
 * renderings. The facts and gathering them are in imzala-doctor.c.
 */
#define G_LOG_DOMAIN "imzala-doctor"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "imzala-doctor-private.h"
#include "imzala-tckn.h"
#include "imzala-text.h"

/* One problem found, and what the user can do about it. */
typedef struct
{
  char *problem;
  char *advice;
} Problem;

static void
problem_free (Problem *problem)
{
  g_free (problem->problem);
  g_free (problem->advice);
  g_free (problem);
}

/* ---- Masking ---- */

char *
imzala_doctor_mask_name (const char *name)
{
  g_autoptr(GString) masked = g_string_new (NULL);
  g_auto(GStrv) words = NULL;

  if (name == NULL)
    return NULL;

  words = g_strsplit_set (name, " \t", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *word = words[i];
      const char *end;

      if (*word == '\0')
        continue;
      if (masked->len > 0)
        g_string_append_c (masked, ' ');
      /* Two characters, not bytes: "ŞE" is four bytes. */
      end = word;
      for (guint n = 0; n < 2 && *end != '\0'; n++)
        end = g_utf8_next_char (end);
      g_string_append_len (masked, word, end - word);
      g_string_append (masked, "***");
    }
  return g_string_free (g_steal_pointer (&masked), FALSE);
}

char *
imzala_doctor_mask_tckn (const char *tckn)
{
  gsize length;
  g_autoptr(GString) masked = NULL;

  if (tckn == NULL)
    return NULL;
  length = strlen (tckn);
  if (length <= 4)
    return g_strnfill (length, '*');

  masked = g_string_new (NULL);
  for (gsize i = 0; i < length - 4; i++)
    g_string_append_c (masked, '*');
  g_string_append (masked, tckn + length - 4);
  return g_string_free (g_steal_pointer (&masked), FALSE);
}

char *
imzala_doctor_mask_text (const char *text)
{
  g_autoptr(GString) masked = NULL;
  const char *p;

  if (text == NULL)
    return NULL;

  masked = g_string_new (NULL);
  p = text;
  while (*p != '\0')
    {
      const char *start = p;
      gsize run;

      if (!g_ascii_isdigit (*p))
        {
          g_string_append_c (masked, *p++);
          continue;
        }
      while (g_ascii_isdigit (*p))
        p++;
      run = p - start;
      if (run == 11)
        {
          g_autofree char *digits = g_strndup (start, run);

          if (imzala_tckn_is_valid (digits))
            {
              g_autofree char *hidden = imzala_doctor_mask_tckn (digits);

              g_string_append (masked, hidden);
              continue;
            }
        }
      g_string_append_len (masked, start, run);
    }
  return g_string_free (g_steal_pointer (&masked), FALSE);
}

/* ---- Problems ---- */

static gint64
clock_offset_seconds (ImzalaDoctor *self)
{
  return g_date_time_difference (self->portal_local_time, self->portal_time) / G_TIME_SPAN_SECOND;
}

static char *
format_time (GDateTime *when)
{
  g_autoptr(GDateTime) utc = NULL;

  if (when == NULL)
    return g_strdup ("?");
  utc = g_date_time_to_utc (when);
  return g_date_time_format (utc, "%Y-%m-%d %H:%M:%S UTC");
}

static void
add_problem (GPtrArray  *problems,
             char       *problem,
             const char *advice)
{
  Problem *p = g_new0 (Problem, 1);

  p->problem = problem;
  p->advice = g_strdup (advice);
  g_ptr_array_add (problems, p);
}

static const char *
vendor_module_advice (void)
{
  return _("Install the PKCS#11 module for the card: OpenSC (“sudo apt install opensc-pkcs11”) "
           "for most cards, or the card maker’s package for AKİS cards, which installs "
           "/usr/lib/libakisp11.so. Then start İmzala again.");
}

static GPtrArray *
collect_problems (ImzalaDoctor *self)
{
  GPtrArray *problems = g_ptr_array_new_with_free_func ((GDestroyNotify) problem_free);
  guint n_loaded = 0;
  gboolean unknown_card = FALSE;

  if (self->pcsc_state == IMZALA_DOCTOR_PCSC_NOT_RUNNING)
    add_problem (problems, g_strdup (_("The smart card service (pcscd) is not running, so no card reader can be used.")),
                 _("Start it with “sudo systemctl start pcscd”; if it is not installed, install it with "
                   "“sudo apt install pcscd”."));

  for (guint i = 0; i < self->modules->len; i++)
    {
      ImzalaDoctorModuleFacts *module = g_ptr_array_index (self->modules, i);

      if (module->load_error == NULL)
        {
          n_loaded++;
          continue;
        }
      add_problem (problems,
                   g_strdup_printf (_("The module %s could not be loaded: %s"),
                                    module->path != NULL ? module->path : module->name,
                                    module->load_error),
                   _("Check that the file exists and was made for this computer "
                     "(64-bit); reinstalling the package that provides it usually helps."));
    }
  if (n_loaded == 0 || self->modules_error != NULL)
    add_problem (problems,
                 self->modules_error != NULL ? g_strdup (self->modules_error)
                                             : g_strdup (_("No PKCS#11 module is loaded, so no card can be used.")),
                 vendor_module_advice ());

  /* A card that pcscd sees but no module turned into a token. */
  for (guint i = 0; i < self->readers->len; i++)
    {
      ImzalaDoctorReaderFacts *reader = g_ptr_array_index (self->readers, i);

      if (!reader->has_card || reader->token_label != NULL || self->tokens_error != NULL || n_loaded == 0)
        continue;
      unknown_card = TRUE;
      add_problem (problems,
                   g_strdup_printf (_("The card in “%s” was not recognised (Kart tanınmadı): no loaded module knows it."),
                                    reader->name),
                   vendor_module_advice ());
    }

  if (self->tokens_error != NULL)
    add_problem (problems, g_strdup (self->tokens_error),
                 _("Take the card out, put it back in and run the report again."));
  else if (self->tokens->len == 0 && !unknown_card && n_loaded > 0)
    {
      if (self->pcsc_state == IMZALA_DOCTOR_PCSC_RUNNING && self->readers->len == 0)
        add_problem (problems, g_strdup (_("No card reader is connected.")),
                     _("Connect the card reader, insert the card and run the report again."));
      else
        add_problem (problems, g_strdup (_("No card was found.")),
                     _("Insert the card into the reader (chip first, contacts up) and run the report again."));
    }

  for (guint i = 0; i < self->tokens->len; i++)
    {
      ImzalaDoctorTokenFacts *token = g_ptr_array_index (self->tokens, i);
      guint n_personal = 0;
      guint n_usable = 0;

      if (token->pin_state & IMZALA_PIN_STATE_LOCKED)
        add_problem (problems, g_strdup_printf (_("The PIN of the card “%s” is locked."), token->label),
                     _("Unblock it with the PUK (Unblock PIN in the menu) or through your certificate "
                       "provider’s portal."));

      for (guint j = 0; j < token->certificates->len; j++)
        {
          ImzalaDoctorCertificateFacts *certificate = g_ptr_array_index (token->certificates, j);
          g_autofree char *holder = NULL;
          g_autofree char *until = NULL;

          if (certificate->ca)
            continue;
          n_personal++;
          if (certificate->usable)
            n_usable++;
          if (!certificate->expired)
            continue;
          holder = imzala_doctor_mask_name (certificate->holder);
          until = format_time (certificate->not_after);
          add_problem (problems,
                       g_strdup_printf (_("The certificate of %s on the card “%s” expired on %s."),
                                        holder, token->label, until),
                       _("Apply to your certificate provider for a new certificate; an expired one "
                         "cannot sign."));
        }

      if (n_personal == 0)
        add_problem (problems, g_strdup_printf (_("The card “%s” shows no certificate."), token->label),
                     _("Some cards show their certificates only after the PIN is entered; if signing "
                       "also finds none, the card holds no certificate yet."));
      else if (n_usable == 0)
        add_problem (problems,
                     g_strdup_printf (_("No certificate on the card “%s” can be used for signing."), token->label),
                     _("The reasons are listed under the card above."));
    }

  if (self->portal_url != NULL && self->portal_error != NULL)
    add_problem (problems, g_strdup (self->portal_error),
                 _("Check the portal’s address, the network connection, and --portal-ca for a "
                   "portal with its own certificate authority."));
  else if (self->portal_time != NULL)
    {
      gint64 offset = clock_offset_seconds (self);
      int minutes = (int) MIN (ABS (offset) / 60, G_MAXINT);

      if (ABS (offset) > IMZALA_DOCTOR_CLOCK_TOLERANCE_MINUTES * 60)
        add_problem (problems,
                     offset > 0
                     ? g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                     "This computer’s clock is %d minute ahead of the portal’s.",
                                                     "This computer’s clock is %d minutes ahead of the portal’s.",
                                                     minutes), minutes)
                     : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                     "This computer’s clock is %d minute behind the portal’s.",
                                                     "This computer’s clock is %d minutes behind the portal’s.",
                                                     minutes), minutes),
                     _("Set the clock right, best by letting the computer follow network time: "
                       "“sudo timedatectl set-ntp true”. Signing times come from this clock."));
    }

  return problems;
}

guint
imzala_doctor_count_problems (ImzalaDoctor *self)
{
  g_autoptr(GPtrArray) problems = NULL;

  g_return_val_if_fail (IMZALA_IS_DOCTOR (self), 0);
  problems = collect_problems (self);
  return problems->len;
}

/* ---- Text ---- */

static const char *
yes_no (gboolean value)
{
  return value ? _("yes") : _("no");
}

static void
heading (GString    *text,
         const char *title)
{
  g_string_append_printf (text, "\n== %s ==\n", title);
}

static char *
pin_state_text (ImzalaPinState state)
{
  if (state & IMZALA_PIN_STATE_LOCKED)
    return g_strdup (_("locked"));
  if (state & IMZALA_PIN_STATE_FINAL_TRY)
    return g_strdup (_("final try"));
  if (state & IMZALA_PIN_STATE_COUNT_LOW)
    return g_strdup (_("few tries left"));
  if (state & IMZALA_PIN_STATE_TO_BE_CHANGED)
    return g_strdup (_("must be changed"));
  return g_strdup (_("OK"));
}

/* Appends one line: @format (which ends with its line feed) with its
 * arguments, every character of the result that is not shown as itself
 * written as an escape (imzala_text_escape_unshown()). The strings in the
 * report come from cards, readers, modules and certificates; a line feed
 * in a card's label must not add a line of its own ("No problem found."). */
static void G_GNUC_PRINTF (2, 3)
append_line (GString    *text,
             const char *format,
             ...)
{
  g_autofree char *line = NULL;
  g_autofree char *safe = NULL;
  gsize length;
  va_list args;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  length = strlen (line);
  if (length > 0 && line[length - 1] == '\n')
    line[length - 1] = '\0';
  safe = imzala_text_escape_unshown (line);
  g_string_append (text, safe);
  g_string_append_c (text, '\n');
}

static void
render_certificate (GString                      *text,
                    ImzalaDoctorCertificateFacts *certificate)
{
  g_autofree char *holder = imzala_doctor_mask_name (certificate->holder);
  g_autofree char *tckn = imzala_doctor_mask_tckn (certificate->tckn);
  g_autofree char *from = format_time (certificate->not_before);
  g_autofree char *until = format_time (certificate->not_after);

  if (certificate->ca)
    append_line (text, _("  CA certificate: %s\n"), certificate->holder);
  else
    append_line (text, _("  Certificate: %s\n"), holder);
  if (tckn != NULL)
    append_line (text, _("    T.C. kimlik no:   %s\n"), tckn);
  if (certificate->issuer != NULL)
    append_line (text, _("    Issuer:           %s\n"), certificate->issuer);
  append_line (text, _("    Valid:            %s to %s\n"), from, until);
  if (certificate->key != NULL)
    append_line (text, _("    Key:              %s\n"), certificate->key);
  if (certificate->ca)
    return;
  append_line (text, _("    Qualified:        %s\n"), yes_no (certificate->qualified));
  append_line (text, _("    Private key:      %s\n"), yes_no (certificate->has_private_key));
  if (certificate->usable)
    append_line (text, _("    Usable to sign:   %s\n"), _("yes"));
  else
    {
      append_line (text, _("    Usable to sign:   %s\n"), _("no"));
      for (guint i = 0; certificate->problems != NULL && certificate->problems[i] != NULL; i++)
        append_line (text, "      - %s\n", certificate->problems[i]);
    }
}

char *
imzala_doctor_render_text (ImzalaDoctor *self)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GPtrArray) problems = NULL;
  g_autofree char *now = NULL;

  g_return_val_if_fail (IMZALA_IS_DOCTOR (self), NULL);

  problems = collect_problems (self);
  now = format_time (self->now);

  g_string_append (text, _("İmzala support report"));
  g_string_append_c (text, '\n');
  append_line (text, _("Made on %s. It holds no PIN, and names and T.C. kimlik "
                       "numbers are masked.\n"), now);

  heading (text, _("System"));
  append_line (text, _("Operating system: %s\n"), self->os != NULL ? self->os : "?");
  for (guint i = 0; i < self->versions->len; i++)
    {
      g_auto(GStrv) parts = g_strsplit (g_ptr_array_index (self->versions, i), "\t", 2);

      append_line (text, "%s: %s\n", parts[0], parts[1]);
    }

  heading (text, _("Smart card service (pcscd)"));
  switch (self->pcsc_state)
    {
    case IMZALA_DOCTOR_PCSC_RUNNING:
      g_string_append (text, _("Running.\n"));
      break;
    case IMZALA_DOCTOR_PCSC_NOT_RUNNING:
      append_line (text, _("Not running: %s\n"),
                   self->pcsc_error != NULL ? self->pcsc_error : "?");
      break;
    case IMZALA_DOCTOR_PCSC_UNKNOWN:
    default:
      g_string_append (text, _("Unknown: pcscd was not asked, or did not answer in time.\n"));
      break;
    }

  heading (text, _("Readers"));
  if (self->readers->len == 0)
    g_string_append (text, _("No reader.\n"));
  for (guint i = 0; i < self->readers->len; i++)
    {
      ImzalaDoctorReaderFacts *reader = g_ptr_array_index (self->readers, i);

      append_line (text, "%s\n", reader->name);
      append_line (text, _("  State: %s\n"), reader->state_text != NULL ? reader->state_text : "?");
      if (reader->atr != NULL)
        append_line (text, _("  ATR:   %s\n"), reader->atr);
      if (reader->token_label != NULL)
        append_line (text, _("  Card:  %s\n"), reader->token_label);
      else if (reader->has_card)
        g_string_append (text, _("  Card:  not recognised by any loaded module\n"));
    }

  heading (text, _("PKCS#11 modules"));
  if (self->modules_error != NULL)
    append_line (text, "%s\n", self->modules_error);
  if (self->modules->len == 0)
    g_string_append (text, _("No module.\n"));
  for (guint i = 0; i < self->modules->len; i++)
    {
      ImzalaDoctorModuleFacts *module = g_ptr_array_index (self->modules, i);

      append_line (text, "%s\n", module->name);
      if (module->path != NULL)
        append_line (text, _("  Path:    %s\n"), module->path);
      if (module->load_error != NULL)
        {
          append_line (text, _("  Not loaded: %s\n"), module->load_error);
          continue;
        }
      append_line (text, _("  Library: %s %s (%s)\n"),
                   module->description != NULL ? module->description : "?",
                   module->version != NULL ? module->version : "?",
                   module->manufacturer != NULL ? module->manufacturer : "?");
      append_line (text, _("  Loaded:  %s\n"),
                   module->unmanaged
                   ? _("unmanaged (C_Initialize without locking arguments)")
                   : _("managed by p11-kit"));
    }

  heading (text, _("Cards and certificates"));
  if (self->tokens_error != NULL)
    append_line (text, "%s\n", self->tokens_error);
  else if (self->tokens->len == 0)
    g_string_append (text, _("No card.\n"));
  for (guint i = 0; i < self->tokens->len; i++)
    {
      ImzalaDoctorTokenFacts *token = g_ptr_array_index (self->tokens, i);
      g_autofree char *pin = pin_state_text (token->pin_state);

      append_line (text, "%s\n", token->label);
      append_line (text, _("  Card:   %s %s, serial %s\n"),
                   token->manufacturer, token->model, token->serial);
      append_line (text, _("  Slot:   %s (module %s)\n"), token->slot_description, token->module);
      append_line (text, _("  PIN:    %s, %u to %u digits%s\n"), pin,
                   token->min_pin_length, token->max_pin_length,
                   token->pin_pad ? _(", typed on the reader’s pin pad") : "");
      if (token->certificates->len == 0)
        g_string_append (text, _("  No certificate.\n"));
      for (guint j = 0; j < token->certificates->len; j++)
        render_certificate (text, g_ptr_array_index (token->certificates, j));
    }

  if (self->portal_url != NULL)
    {
      heading (text, _("Clock"));
      append_line (text, _("Portal: %s\n"), self->portal_url);
      if (self->portal_time != NULL)
        {
          g_autofree char *portal = format_time (self->portal_time);
          g_autofree char *local = format_time (self->portal_local_time);

          append_line (text, _("Portal’s time:   %s\n"), portal);
          append_line (text, _("This computer:   %s\n"), local);
          g_autofree char *offset = g_strdup_printf ("%+" G_GINT64_FORMAT " s", clock_offset_seconds (self));

          append_line (text, _("Difference:      %s\n"), offset);
        }
      else
        append_line (text, _("Not reached: %s\n"),
                     self->portal_error != NULL ? self->portal_error : "?");
    }

  heading (text, _("Problems and advice"));
  if (problems->len == 0)
    g_string_append (text, _("No problem found.\n"));
  for (guint i = 0; i < problems->len; i++)
    {
      Problem *problem = g_ptr_array_index (problems, i);

      append_line (text, "%u. %s\n", i + 1, problem->problem);
      append_line (text, "   → %s\n", problem->advice);
    }

  /* The last line of defence: a T.C. kimlik no in a label or a message. */
  return imzala_doctor_mask_text (text->str);
}

/* ---- JSON ---- */

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_bool (JsonBuilder *builder,
          const char  *name,
          gboolean     value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

static void
add_int (JsonBuilder *builder,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
add_time (JsonBuilder *builder,
          const char  *name,
          GDateTime   *value)
{
  g_autofree char *text = value != NULL ? g_date_time_format_iso8601 (value) : NULL;

  add_string (builder, name, text);
}

static void
build_certificate (JsonBuilder                  *builder,
                   ImzalaDoctorCertificateFacts *certificate)
{
  g_autofree char *holder = certificate->ca ? g_strdup (certificate->holder)
                                            : imzala_doctor_mask_name (certificate->holder);
  g_autofree char *tckn = imzala_doctor_mask_tckn (certificate->tckn);

  json_builder_begin_object (builder);
  add_string (builder, "holder", holder);
  add_string (builder, "tckn", tckn);
  add_string (builder, "issuer", certificate->issuer);
  add_string (builder, "key", certificate->key);
  add_time (builder, "not_before", certificate->not_before);
  add_time (builder, "not_after", certificate->not_after);
  add_bool (builder, "qualified", certificate->qualified);
  add_bool (builder, "ca", certificate->ca);
  add_bool (builder, "has_private_key", certificate->has_private_key);
  add_bool (builder, "usable", certificate->usable);
  add_bool (builder, "expired", certificate->expired);
  json_builder_set_member_name (builder, "problems");
  json_builder_begin_array (builder);
  for (guint i = 0; certificate->problems != NULL && certificate->problems[i] != NULL; i++)
    json_builder_add_string_value (builder, certificate->problems[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

char *
imzala_doctor_render_json (ImzalaDoctor *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autofree char *json = NULL;
  static const char *const pcsc_states[] = { "unknown", "running", "not-running" };

  g_return_val_if_fail (IMZALA_IS_DOCTOR (self), NULL);

  problems = collect_problems (self);

  json_builder_begin_object (builder);
  add_time (builder, "time", self->now);
  add_string (builder, "os", self->os);

  json_builder_set_member_name (builder, "versions");
  json_builder_begin_object (builder);
  for (guint i = 0; i < self->versions->len; i++)
    {
      g_auto(GStrv) parts = g_strsplit (g_ptr_array_index (self->versions, i), "\t", 2);

      add_string (builder, parts[0], parts[1]);
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "pcscd");
  json_builder_begin_object (builder);
  add_string (builder, "state", pcsc_states[self->pcsc_state]);
  add_string (builder, "message", self->pcsc_error);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "readers");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->readers->len; i++)
    {
      ImzalaDoctorReaderFacts *reader = g_ptr_array_index (self->readers, i);

      json_builder_begin_object (builder);
      add_string (builder, "name", reader->name);
      add_string (builder, "state", reader->state_text);
      add_bool (builder, "has_card", reader->has_card);
      add_string (builder, "atr", reader->atr);
      add_string (builder, "token", reader->token_label);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "modules");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->modules->len; i++)
    {
      ImzalaDoctorModuleFacts *module = g_ptr_array_index (self->modules, i);

      json_builder_begin_object (builder);
      add_string (builder, "name", module->name);
      add_string (builder, "path", module->path);
      add_bool (builder, "loaded", module->load_error == NULL);
      add_string (builder, "load_error", module->load_error);
      add_string (builder, "description", module->description);
      add_string (builder, "manufacturer", module->manufacturer);
      add_string (builder, "version", module->version);
      if (module->load_error == NULL)
        add_string (builder, "loaded_by", module->unmanaged ? "unmanaged" : "p11-kit");
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  add_string (builder, "modules_error", self->modules_error);

  json_builder_set_member_name (builder, "tokens");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->tokens->len; i++)
    {
      ImzalaDoctorTokenFacts *token = g_ptr_array_index (self->tokens, i);
      g_autofree char *pin = pin_state_text (token->pin_state);

      json_builder_begin_object (builder);
      add_string (builder, "label", token->label);
      add_string (builder, "manufacturer", token->manufacturer);
      add_string (builder, "model", token->model);
      add_string (builder, "serial", token->serial);
      add_string (builder, "slot_description", token->slot_description);
      add_string (builder, "module", token->module);
      add_string (builder, "pin_state", pin);
      add_bool (builder, "pin_pad", token->pin_pad);
      add_int (builder, "min_pin_length", token->min_pin_length);
      add_int (builder, "max_pin_length", token->max_pin_length);
      json_builder_set_member_name (builder, "certificates");
      json_builder_begin_array (builder);
      for (guint j = 0; j < token->certificates->len; j++)
        build_certificate (builder, g_ptr_array_index (token->certificates, j));
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  add_string (builder, "tokens_error", self->tokens_error);

  json_builder_set_member_name (builder, "portal");
  if (self->portal_url == NULL)
    json_builder_add_null_value (builder);
  else
    {
      json_builder_begin_object (builder);
      add_string (builder, "url", self->portal_url);
      add_time (builder, "server_time", self->portal_time);
      add_time (builder, "local_time", self->portal_local_time);
      if (self->portal_time != NULL)
        add_int (builder, "clock_offset_seconds", clock_offset_seconds (self));
      add_string (builder, "error", self->portal_error);
      json_builder_end_object (builder);
    }

  json_builder_set_member_name (builder, "problems");
  json_builder_begin_array (builder);
  for (guint i = 0; i < problems->len; i++)
    {
      Problem *problem = g_ptr_array_index (problems, i);

      json_builder_begin_object (builder);
      add_string (builder, "problem", problem->problem);
      add_string (builder, "advice", problem->advice);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json = json_generator_to_data (generator, NULL);
  return imzala_doctor_mask_text (json);
}
