#define G_LOG_DOMAIN "imzala-cli"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "imzala-cli.h"
#include "imzala-cli-terminal.h"

/* A flag of a bit set and its name in --json output. The names are what
 * scripts depend on, so they never change with the language. */
typedef struct
{
  guint       flag;
  const char *json;
  const char *text; /* N_(), for the plain text output */
} FlagName;

static const FlagName key_usages[] = {
  { IMZALA_KEY_USAGE_DIGITAL_SIGNATURE, "digital-signature", N_("digital signature") },
  { IMZALA_KEY_USAGE_NON_REPUDIATION, "non-repudiation", N_("non-repudiation") },
  { IMZALA_KEY_USAGE_KEY_ENCIPHERMENT, "key-encipherment", N_("key encipherment") },
  { IMZALA_KEY_USAGE_DATA_ENCIPHERMENT, "data-encipherment", N_("data encipherment") },
  { IMZALA_KEY_USAGE_KEY_AGREEMENT, "key-agreement", N_("key agreement") },
  { IMZALA_KEY_USAGE_KEY_CERT_SIGN, "key-cert-sign", N_("certificate signing") },
  { IMZALA_KEY_USAGE_CRL_SIGN, "crl-sign", N_("CRL signing") },
};

static const FlagName problems[] = {
  { IMZALA_CERTIFICATE_PROBLEM_NOT_QUALIFIED, "not-qualified" },
  { IMZALA_CERTIFICATE_PROBLEM_NO_NON_REPUDIATION, "no-non-repudiation" },
  { IMZALA_CERTIFICATE_PROBLEM_EXPIRED, "expired" },
  { IMZALA_CERTIFICATE_PROBLEM_NOT_YET_VALID, "not-yet-valid" },
  { IMZALA_CERTIFICATE_PROBLEM_NO_PRIVATE_KEY, "no-private-key" },
  { IMZALA_CERTIFICATE_PROBLEM_CA, "ca" },
};

static const FlagName pin_states[] = {
  { IMZALA_PIN_STATE_COUNT_LOW, "count-low" },
  { IMZALA_PIN_STATE_FINAL_TRY, "final-try" },
  { IMZALA_PIN_STATE_LOCKED, "locked" },
  { IMZALA_PIN_STATE_TO_BE_CHANGED, "to-be-changed" },
  { IMZALA_PIN_STATE_PUK_COUNT_LOW, "puk-count-low" },
  { IMZALA_PIN_STATE_PUK_FINAL_TRY, "puk-final-try" },
  { IMZALA_PIN_STATE_PUK_LOCKED, "puk-locked" },
};

/* How the token paired the certificate with its key, for the text output
 * and (the nick) for JSON's "key_pairing". */
static const char *
key_pairing_text (ImzalaKeyPairing pairing)
{
  switch (pairing)
    {
    case IMZALA_KEY_PAIRING_BY_ID:
      return _("yes (same CKA_ID)");
    case IMZALA_KEY_PAIRING_BY_PUBLIC_KEY:
      return _("yes (same public key)");
    case IMZALA_KEY_PAIRING_BY_LABEL:
      return _("yes (same label)");
    case IMZALA_KEY_PAIRING_HIDDEN:
      return _("not visible before login");
    case IMZALA_KEY_PAIRING_NONE:
    default:
      return _("no");
    }
}

static const char *
key_pairing_json (ImzalaKeyPairing pairing)
{
  switch (pairing)
    {
    case IMZALA_KEY_PAIRING_BY_ID:
      return "id";
    case IMZALA_KEY_PAIRING_BY_PUBLIC_KEY:
      return "public-key";
    case IMZALA_KEY_PAIRING_BY_LABEL:
      return "label";
    case IMZALA_KEY_PAIRING_HIDDEN:
      return "hidden";
    case IMZALA_KEY_PAIRING_NONE:
    default:
      return "none";
    }
}

static char *
format_date (GDateTime *when)
{
  g_autoptr(GDateTime) local = NULL;

  if (when == NULL)
    return g_strdup ("?");
  local = g_date_time_to_local (when);
  return g_date_time_format (local, "%Y-%m-%d %H:%M");
}

static char *
key_usage_text (ImzalaKeyUsage usage)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (key_usages); i++)
    if (usage & key_usages[i].flag)
      {
        if (text->len > 0)
          g_string_append (text, ", ");
        g_string_append (text, _(key_usages[i].text));
      }
  if (text->len == 0)
    g_string_append (text, _("none"));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static const char *
yes_no (gboolean value)
{
  return value ? _("yes") : _("no");
}

/* ---- Plain text ---- */

static void
print_certificate (ImzalaToken *token, ImzalaCertificate *certificate)
{
  g_autofree char *not_before = format_date (imzala_certificate_get_not_before (certificate));
  g_autofree char *not_after = format_date (imzala_certificate_get_not_after (certificate));
  g_autofree char *usage = key_usage_text (imzala_certificate_get_key_usage (certificate));
  g_autofree char *uri = imzala_token_dup_certificate_uri (token, certificate);
  const char *tckn = imzala_certificate_get_tckn (certificate);
  /* What the card says, filtered here also for its line feeds, which the
   * print handler keeps (imzala_cli_terminal_filter_output()). */
  g_autofree char *label = imzala_text_escape_unshown (imzala_certificate_get_label (certificate));
  g_autofree char *holder = imzala_text_escape_unshown (imzala_certificate_get_holder_name (certificate));
  g_autofree char *issuer = imzala_text_escape_unshown (imzala_certificate_get_issuer_name (certificate));
  gboolean is_ca = imzala_certificate_is_ca (certificate);

  if (is_ca)
    g_print (_("  CA certificate: %s\n"), holder);
  else if (imzala_certificate_is_recommended (certificate))
    g_print (_("  Certificate: %s  [recommended]\n"), holder);
  else
    g_print (_("  Certificate: %s\n"), holder);

  if (label != NULL && *label != '\0')
    g_print (_("    Label:          %s\n"), label);
  if (tckn != NULL)
    g_print (_("    T.C. kimlik no: %s\n"), tckn);
  g_print (_("    Issuer:         %s\n"), issuer);
  g_print (_("    Valid:          %s to %s\n"), not_before, not_after);
  g_print (_("    Key:            %s\n"), imzala_certificate_get_key_description (certificate));
  g_print (_("    Key usage:      %s\n"), usage);
  g_print (_("    Qualified:      %s\n"), yes_no (imzala_certificate_is_qualified (certificate)));
  g_print (_("    Private key:    %s\n"), key_pairing_text (imzala_certificate_get_key_pairing (certificate)));

  if (!is_ca && !imzala_certificate_is_recommended (certificate))
    {
      g_auto(GStrv) reasons = imzala_certificate_describe_problems (certificate, NULL);

      g_print (_("    Not recommended:\n"));
      for (guint i = 0; reasons != NULL && reasons[i] != NULL; i++)
        g_print ("      - %s\n", reasons[i]);
    }

  g_print (_("    SHA-256:        %s\n"), imzala_certificate_get_fingerprint (certificate));
  if (uri != NULL)
    g_print (_("    URI:            %s\n"), uri);
}

static void
print_token (ImzalaToken *token)
{
  GPtrArray *certificates = imzala_token_get_certificates (token);
  ImzalaPinState state = imzala_token_get_pin_state (token);
  g_autofree char *uri = imzala_token_get_uri (token);
  /* What the card and its reader say, line feeds escaped too. */
  g_autofree char *label = imzala_text_escape_unshown (imzala_token_get_label (token));
  g_autofree char *maker = imzala_text_escape_unshown (imzala_token_get_manufacturer (token));
  g_autofree char *model = imzala_text_escape_unshown (imzala_token_get_model (token));
  g_autofree char *serial = imzala_text_escape_unshown (imzala_token_get_serial (token));
  g_autofree char *reader = imzala_text_escape_unshown (imzala_token_get_slot_description (token));

  g_print (_("Token: %s\n"), label);
  g_print (_("  Maker:          %s\n"), maker);
  g_print (_("  Model:          %s\n"), model);
  g_print (_("  Serial:         %s\n"), serial);
  g_print (_("  Reader:         %s (module %s, slot %lu)\n"),
           reader,
           imzala_module_get_name (imzala_token_get_module (token)),
           imzala_token_get_slot_id (token));
  g_print (_("  PIN:            %s\n"), imzala_cli_pin_state_text (state));
  if (state & IMZALA_PIN_STATE_PUK_LOCKED)
    g_print (_("  PUK:            PUK locked\n"));
  else if (state & IMZALA_PIN_STATE_PUK_FINAL_TRY)
    g_print (_("  PUK:            final try\n"));
  else if (state & IMZALA_PIN_STATE_PUK_COUNT_LOW)
    g_print (_("  PUK:            few tries left\n"));
  if (imzala_token_has_pin_pad (token))
    g_print (_("  PIN pad:        yes, the PIN is entered on the reader\n"));
  if (uri != NULL)
    g_print (_("  URI:            %s\n"), uri);

  if (certificates == NULL || certificates->len == 0)
    g_print (_("  No certificates.\n"));
  /* A card that wants the PIN before it shows anything (imzala-cli list
   * --pin-fd logs in first). */
  if (imzala_token_needs_login_to_list (token))
    g_print ("  %s\n", _("The certificates on this card are shown after the PIN is entered."));
  for (guint i = 0; certificates != NULL && i < certificates->len; i++)
    print_certificate (token, g_ptr_array_index (certificates, i));
  g_print ("\n");
}

/* Why no card shows, or why one does not: the message may name a reader
 * or a card, whose strings the reader's driver or the card gives. */
static void
print_cause (const GError *cause)
{
  g_autofree char *message = imzala_text_escape_unshown (cause->message);

  g_print ("%s\n", message);
}

static void
print_text (ImzalaModuleSet *set, GPtrArray *tokens, const GError *cause)
{
  GPtrArray *modules = set != NULL ? imzala_module_set_get_modules (set) : NULL;
  GPtrArray *load_errors = set != NULL ? imzala_module_set_get_load_errors (set) : NULL;

  for (guint i = 0; modules != NULL && i < modules->len; i++)
    {
      ImzalaModule *module = g_ptr_array_index (modules, i);
      const char *path = imzala_module_get_path (module);
      /* The description and the version are the module's own CK_INFO. */
      g_autofree char *where = imzala_text_escape_unshown (path != NULL ? path : imzala_module_get_description (module));
      g_autofree char *version = imzala_text_escape_unshown (imzala_module_get_version (module));

      g_print (_("Module: %s (%s), version %s\n"), imzala_module_get_name (module), where, version);
    }
  for (guint i = 0; load_errors != NULL && i < load_errors->len; i++)
    {
      ImzalaModuleLoadError *e = g_ptr_array_index (load_errors, i);
      g_autofree char *message = imzala_text_escape_unshown (e->error->message);

      g_print (_("Module not loaded: %s: %s\n"), e->path != NULL ? e->path : e->name, message);
    }
  g_print ("\n");

  if (tokens == NULL)
    return;
  if (tokens->len == 0)
    {
      if (cause != NULL)
        print_cause (cause);
      else
        g_print (_("No token found. Is the card in the reader?\n"));
      return;
    }
  for (guint i = 0; i < tokens->len; i++)
    print_token (g_ptr_array_index (tokens, i));
  /* A card that no module shows, beside the tokens that are there. */
  if (cause != NULL)
    print_cause (cause);
}

/* ---- JSON ---- */

static void
add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_date (JsonBuilder *builder, const char *name, GDateTime *value)
{
  g_autofree char *text = value != NULL ? g_date_time_format_iso8601 (value) : NULL;

  add_string (builder, name, text);
}

static void
add_bool (JsonBuilder *builder, const char *name, gboolean value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

static void
add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

/* An array of the names of the flags set in @flags. */
static void
add_flag_names (JsonBuilder    *builder,
                const char     *name,
                guint           flags,
                const FlagName *table,
                gsize           n_table)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (gsize i = 0; i < n_table; i++)
    if (flags & table[i].flag)
      json_builder_add_string_value (builder, table[i].json);
  json_builder_end_array (builder);
}

static void
build_certificate (JsonBuilder *builder, ImzalaToken *token, ImzalaCertificate *certificate)
{
  ImzalaKeyUsage usage = imzala_certificate_get_key_usage (certificate);
  ImzalaCertificateProblem problem_flags = imzala_certificate_get_problems (certificate, NULL);
  g_auto(GStrv) reasons = imzala_certificate_describe_problems (certificate, NULL);
  g_autofree char *uri = imzala_token_dup_certificate_uri (token, certificate);

  json_builder_begin_object (builder);
  add_string (builder, "label", imzala_certificate_get_label (certificate));
  add_string (builder, "holder", imzala_certificate_get_holder_name (certificate));
  add_string (builder, "tckn", imzala_certificate_get_tckn (certificate));
  add_string (builder, "subject", imzala_certificate_get_subject (certificate));
  add_string (builder, "issuer", imzala_certificate_get_issuer (certificate));
  add_string (builder, "issuer_name", imzala_certificate_get_issuer_name (certificate));
  add_string (builder, "serial", imzala_certificate_get_serial (certificate));
  add_date (builder, "not_before", imzala_certificate_get_not_before (certificate));
  add_date (builder, "not_after", imzala_certificate_get_not_after (certificate));
  add_string (builder, "key", imzala_certificate_get_key_description (certificate));
  add_int (builder, "key_bits", imzala_certificate_get_key_bits (certificate));

  add_flag_names (builder, "key_usage", usage, key_usages, G_N_ELEMENTS (key_usages));

  add_bool (builder, "qualified", imzala_certificate_is_qualified (certificate));
  add_bool (builder, "ca", imzala_certificate_is_ca (certificate));
  add_bool (builder, "has_private_key", imzala_certificate_has_private_key (certificate));
  add_string (builder, "key_pairing", key_pairing_json (imzala_certificate_get_key_pairing (certificate)));
  add_bool (builder, "recommended", imzala_certificate_is_recommended (certificate));

  add_flag_names (builder, "problems", problem_flags, problems, G_N_ELEMENTS (problems));

  json_builder_set_member_name (builder, "problem_descriptions");
  json_builder_begin_array (builder);
  for (guint i = 0; reasons != NULL && reasons[i] != NULL; i++)
    json_builder_add_string_value (builder, reasons[i]);
  json_builder_end_array (builder);

  add_string (builder, "sha256", imzala_certificate_get_fingerprint (certificate));
  add_string (builder, "uri", uri);
  json_builder_end_object (builder);
}

static void
build_token (JsonBuilder *builder, ImzalaToken *token)
{
  GPtrArray *certificates = imzala_token_get_certificates (token);
  ImzalaPinState state = imzala_token_get_pin_state (token);
  g_autofree char *uri = imzala_token_get_uri (token);

  json_builder_begin_object (builder);
  add_string (builder, "label", imzala_token_get_label (token));
  add_string (builder, "manufacturer", imzala_token_get_manufacturer (token));
  add_string (builder, "model", imzala_token_get_model (token));
  add_string (builder, "serial", imzala_token_get_serial (token));
  add_string (builder, "slot_description", imzala_token_get_slot_description (token));
  add_int (builder, "slot_id", (gint64) imzala_token_get_slot_id (token));
  add_string (builder, "module", imzala_module_get_name (imzala_token_get_module (token)));
  add_string (builder, "uri", uri);

  add_flag_names (builder, "pin_state", state, pin_states, G_N_ELEMENTS (pin_states));
  add_string (builder, "pin_state_text", imzala_cli_pin_state_text (state));
  add_bool (builder, "pin_pad", imzala_token_has_pin_pad (token));
  add_int (builder, "min_pin_length", imzala_token_get_min_pin_length (token));
  add_int (builder, "max_pin_length", imzala_token_get_max_pin_length (token));
  add_bool (builder, "certificates_after_login", imzala_token_needs_login_to_list (token));

  json_builder_set_member_name (builder, "certificates");
  json_builder_begin_array (builder);
  for (guint i = 0; certificates != NULL && i < certificates->len; i++)
    build_certificate (builder, token, g_ptr_array_index (certificates, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

static void
print_json (ImzalaModuleSet *set, GPtrArray *tokens, const GError *cause, const GError *error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  GPtrArray *modules = set != NULL ? imzala_module_set_get_modules (set) : NULL;
  GPtrArray *load_errors = set != NULL ? imzala_module_set_get_load_errors (set) : NULL;

  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, "modules");
  json_builder_begin_array (builder);
  for (guint i = 0; modules != NULL && i < modules->len; i++)
    {
      ImzalaModule *module = g_ptr_array_index (modules, i);

      json_builder_begin_object (builder);
      add_string (builder, "name", imzala_module_get_name (module));
      add_string (builder, "path", imzala_module_get_path (module));
      add_string (builder, "description", imzala_module_get_description (module));
      add_string (builder, "manufacturer", imzala_module_get_manufacturer (module));
      add_string (builder, "version", imzala_module_get_version (module));
      add_bool (builder, "unmanaged", imzala_module_is_unmanaged (module));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "load_errors");
  json_builder_begin_array (builder);
  for (guint i = 0; load_errors != NULL && i < load_errors->len; i++)
    {
      ImzalaModuleLoadError *e = g_ptr_array_index (load_errors, i);

      json_builder_begin_object (builder);
      add_string (builder, "name", e->name);
      add_string (builder, "path", e->path);
      add_string (builder, "code", e->error->domain == IMZALA_ERROR
                  ? imzala_error_code_to_string (e->error->code) : "failed");
      add_string (builder, "message", e->error->message);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "tokens");
  json_builder_begin_array (builder);
  for (guint i = 0; tokens != NULL && i < tokens->len; i++)
    build_token (builder, g_ptr_array_index (tokens, i));
  json_builder_end_array (builder);

  /* Why there is no token, or a card in a reader that no token stands
   * for: the same code and sentence as an error would have. */
  json_builder_set_member_name (builder, "cause");
  if (cause != NULL)
    {
      json_builder_begin_object (builder);
      add_string (builder, "code", imzala_error_code_to_string (cause->code));
      add_string (builder, "message", cause->message);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);

  if (error != NULL)
    {
      json_builder_set_member_name (builder, "error");
      json_builder_begin_object (builder);
      add_string (builder, "code", error->domain == IMZALA_ERROR
                  ? imzala_error_code_to_string (error->code) : "failed");
      add_string (builder, "message", error->message);
      json_builder_end_object (builder);
    }

  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

static void
logout_all (GPtrArray *tokens)
{
  for (guint i = 0; i < tokens->len; i++)
    imzala_token_logout (g_ptr_array_index (tokens, i));
}

int
imzala_cli_list (int argc, char **argv)
{
  ImzalaCliModuleOptions module_options = { NULL, FALSE };
  gboolean json = FALSE;
  int pin_fd = -1;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON instead of text"), NULL },
    { "pin-fd", 0, 0, G_OPTION_ARG_INT, &pin_fd,
      N_("Log in first to every card that shows its certificates only after the PIN, with one PIN line per card from file descriptor N"),
      N_("N") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(ImzalaModuleSet) set = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) cause = NULL;

  context = imzala_cli_option_context_new ("list", NULL,
                                           _("Lists the PKCS#11 modules, the tokens in them and the certificates on the tokens, without asking for a PIN (unless --pin-fd is given)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  imzala_cli_add_module_options (context, &module_options);
  if (!imzala_cli_parse_options (context, "list", &argc, &argv))
    {
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }
  if (argc > 1)
    {
      imzala_cli_usage_error ("list", _("“list” takes no file arguments."));
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }

  /* Every card call of the listing is a blocking one, made in turn on this
   * thread: no thread is started for the modules. */
  module_options.single_thread = TRUE;
  set = imzala_cli_module_set_new (&module_options);
  imzala_cli_module_options_clear (&module_options);
  /* Load errors are part of the listing, not complaints on stderr; when
   * nothing loaded at all they are still shown, with the overall error. */
  if (!imzala_module_set_load (set, NULL, &error))
    {
      if (json)
        print_json (set, NULL, NULL, error);
      else
        print_text (set, NULL, NULL);
      return imzala_cli_report_error (error);
    }

  tokens = imzala_module_set_list_tokens (set, NULL, &error);
  if (tokens == NULL)
    {
      if (json)
        print_json (set, NULL, NULL, error);
      else
        print_text (set, NULL, NULL);
      return imzala_cli_report_error (error);
    }

  /* The cards that show their certificates only after the PIN: logged in
   * to one after another (a PIN line each), so that the listing shows what
   * they hold. The sessions end before the command does. */
  if (pin_fd >= 0)
    for (guint i = 0; i < tokens->len; i++)
      {
        ImzalaToken *token = g_ptr_array_index (tokens, i);

        if (!imzala_token_needs_login_to_list (token))
          continue;
        if (!imzala_cli_log_in (token, pin_fd, NULL, &error))
          {
            logout_all (tokens);
            return imzala_cli_report_error (error);
          }
      }

  cause = imzala_cli_explain_tokens (tokens);
  if (json)
    print_json (set, tokens, cause, NULL);
  else
    print_text (set, tokens, cause);

  logout_all (tokens);
  return IMZALA_CLI_EXIT_OK;
}
