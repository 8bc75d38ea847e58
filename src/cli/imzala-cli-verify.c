#define G_LOG_DOMAIN "imzala-cli"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <unistd.h>
#include <gio/gunixinputstream.h>
#include <json-glib/json-glib.h>

#include "imzala-cli.h"
#include "imzala-cli-terminal.h"

/* "SHA256" (OpenSSL's name) as people write it: "SHA-256". */
static char *
digest_display_name (const char *digest)
{
  if (digest == NULL)
    return g_strdup (_("unknown"));
  if (g_str_has_prefix (digest, "SHA") && g_ascii_isdigit (digest[3]))
    return g_strdup_printf ("SHA-%s", digest + 3);
  return g_strdup (digest);
}

static char *
format_time (GDateTime *when)
{
  g_autoptr(GDateTime) local = NULL;

  if (when == NULL)
    return g_strdup (_("unknown"));
  local = g_date_time_to_local (when);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S %Z");
}

static const char *
yes_no (gboolean value)
{
  return value ? _("yes") : _("no");
}

static const char *
validation_sentence (ImzalaValidation status)
{
  switch (status)
    {
    case IMZALA_VALIDATION_VALID:
      return _("valid");
    case IMZALA_VALIDATION_INVALID:
      return _("invalid");
    case IMZALA_VALIDATION_INDETERMINATE:
    default:
      return _("indeterminate");
    }
}

static const char *
check_mark (ImzalaCheckResult result)
{
  switch (result)
    {
    case IMZALA_CHECK_PASSED:
      return _("passed");
    case IMZALA_CHECK_FAILED:
      return _("FAILED");
    case IMZALA_CHECK_INDETERMINATE:
      return _("open");
    case IMZALA_CHECK_SKIPPED:
    default:
      return _("skipped");
    }
}

/* A file (seekable, so that an attached signature's content is read only
 * where it lies) or standard input ("-"). @size is the file's size, for
 * progress; 0 for standard input or when it is not known. */
static GInputStream *
open_input (const char *path, guint64 *size, GError **error)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInfo) info = NULL;
  GFileInputStream *stream;
  GError *local = NULL;

  *size = 0;
  if (g_str_equal (path, "-"))
    return g_unix_input_stream_new (STDIN_FILENO, FALSE);
  file = g_file_new_for_path (path);
  stream = g_file_read (file, NULL, &local);
  if (stream == NULL)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED, _("“%s” cannot be read: %s"), path,
                   local->message);
      g_error_free (local);
      return NULL;
    }
  info = g_file_input_stream_query_info (stream, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, NULL);
  if (info != NULL && g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_STANDARD_SIZE))
    *size = (guint64) g_file_info_get_size (info);
  return G_INPUT_STREAM (stream);
}

/* What comes from the signature (the reason and the checks may quote a
 * name from a certificate) is filtered where it is printed: a line feed in
 * a holder's name must not add a line of its own to the report. */
static void
print_text (ImzalaVerification *verification)
{
  g_autofree char *reason = imzala_text_escape_unshown (verification->reason);

  switch (verification->status)
    {
    case IMZALA_VALIDATION_VALID:
      g_print (_("The signature is valid.\n"));
      break;
    case IMZALA_VALIDATION_INVALID:
      g_print (_("The signature is NOT valid: %s\n"), reason);
      break;
    case IMZALA_VALIDATION_INDETERMINATE:
    default:
      g_print (_("The signature could not be validated: %s\n"), reason);
      break;
    }
  g_print (_("  Level:           %s\n"), imzala_signature_level_to_string (verification->level));
  g_print (_("  Detached:        %s\n"), yes_no (verification->detached));
  g_print (_("  Signers:         %u\n"), verification->signers->len);

  for (guint i = 0; i < verification->signers->len; i++)
    {
      ImzalaSignerReport *report = g_ptr_array_index (verification->signers, i);
      ImzalaCertificate *signer = report->certificate;
      g_autofree char *when = format_time (report->signing_time);
      g_autofree char *digest = digest_display_name (report->digest);

      g_print (_("Signer %u: %s\n"), i + 1, validation_sentence (report->status));
      if (signer != NULL)
        {
          const char *tckn = imzala_certificate_get_tckn (signer);
          g_autofree char *holder = imzala_text_escape_unshown (imzala_certificate_get_holder_name (signer));
          g_autofree char *issuer = imzala_text_escape_unshown (imzala_certificate_get_issuer_name (signer));

          g_print (_("  Signer:          %s\n"), holder);
          g_print (_("  T.C. kimlik no:  %s\n"), tckn != NULL ? tckn : _("none"));
          g_print (_("  Issuer:          %s\n"), issuer);
        }
      g_print (_("  Signing time:    %s\n"), when);
      if (report->timestamp_time != NULL)
        {
          g_autofree char *stamped = format_time (report->timestamp_time);

          g_print (_("  Time-stamp:      %s\n"), stamped);
        }
      g_print (_("  Level:           %s\n"), imzala_signature_level_to_string (report->level));
      g_print (_("  Qualified:       %s\n"), yes_no (report->qualified));
      g_print (_("  Digest:          %s\n"), digest);
      if (signer != NULL)
        g_print (_("  Certificate:     %s\n"), imzala_certificate_get_fingerprint (signer));
      for (guint j = 0; j < report->checks->len; j++)
        {
          ImzalaCheck *check = g_ptr_array_index (report->checks, j);
          g_autofree char *message = imzala_text_escape_unshown (check->message);

          g_print ("    [%s] %s\n", check_mark (check->result), message);
        }
      for (guint j = 0; report->counter_signers != NULL && j < report->counter_signers->len; j++)
        {
          ImzalaSignerReport *counter = g_ptr_array_index (report->counter_signers, j);

          g_print (_("  Counter-signature %u: %s\n"), j + 1, validation_sentence (counter->status));
          if (counter->certificate != NULL)
            {
              g_autofree char *holder = imzala_text_escape_unshown (imzala_certificate_get_holder_name (counter->certificate));

              g_print (_("    Signer:        %s\n"), holder);
            }
          for (guint k = 0; k < counter->checks->len; k++)
            {
              ImzalaCheck *check = g_ptr_array_index (counter->checks, k);
              g_autofree char *message = imzala_text_escape_unshown (check->message);

              g_print ("      [%s] %s\n", check_mark (check->result), message);
            }
        }
    }
}

static void
add_time (JsonBuilder *builder, const char *name, GDateTime *when)
{
  g_autofree char *text = when != NULL ? g_date_time_format_iso8601 (when) : NULL;

  json_builder_set_member_name (builder, name);
  if (text != NULL)
    json_builder_add_string_value (builder, text);
  else
    json_builder_add_null_value (builder);
}

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
add_certificate (JsonBuilder *builder, ImzalaCertificate *signer)
{
  add_string (builder, "holder", imzala_certificate_get_holder_name (signer));
  add_string (builder, "tckn", imzala_certificate_get_tckn (signer));
  add_string (builder, "subject", imzala_certificate_get_subject (signer));
  add_string (builder, "issuer", imzala_certificate_get_issuer (signer));
  add_string (builder, "sha256", imzala_certificate_get_fingerprint (signer));
}

static gboolean
check_passed (ImzalaSignerReport *report, const char *name)
{
  for (guint i = 0; i < report->checks->len; i++)
    {
      ImzalaCheck *check = g_ptr_array_index (report->checks, i);

      if (g_str_equal (check->name, name))
        return check->result == IMZALA_CHECK_PASSED;
    }
  return FALSE;
}

static void
add_signer (JsonBuilder *builder, ImzalaSignerReport *report)
{
  g_autofree char *digest = report->digest != NULL ? g_ascii_strdown (report->digest, -1) : NULL;

  json_builder_begin_object (builder);
  add_string (builder, "status", imzala_validation_to_string (report->status));
  add_string (builder, "reason", report->reason);
  add_string (builder, "level", imzala_signature_level_to_string (report->level));
  json_builder_set_member_name (builder, "qualified");
  json_builder_add_boolean_value (builder, report->qualified);
  if (report->certificate != NULL)
    add_certificate (builder, report->certificate);
  add_time (builder, "signing_time", report->signing_time);
  add_time (builder, "timestamp_time", report->timestamp_time);
  add_time (builder, "content_timestamp_time", report->content_timestamp_time);
  add_time (builder, "validation_time", report->validation_time);
  add_string (builder, "digest", digest);

  json_builder_set_member_name (builder, "certificate_status");
  if (report->cert_status != NULL)
    {
      json_builder_begin_object (builder);
      add_string (builder, "status", imzala_cert_status_value_to_string (report->cert_status->status));
      add_string (builder, "source", imzala_cert_status_source_to_string (report->cert_status->source));
      add_string (builder, "url", report->cert_status->url);
      add_time (builder, "revocation_time", report->cert_status->revocation_time);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "chain");
  json_builder_begin_array (builder);
  for (guint i = 0; report->chain != NULL && i < report->chain->len; i++)
    json_builder_add_string_value (builder,
                                   imzala_certificate_get_subject (g_ptr_array_index (report->chain, i)));
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "checks");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->checks->len; i++)
    {
      ImzalaCheck *check = g_ptr_array_index (report->checks, i);

      json_builder_begin_object (builder);
      add_string (builder, "name", check->name);
      add_string (builder, "result", imzala_check_result_to_string (check->result));
      add_string (builder, "message", check->message);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "counter_signers");
  json_builder_begin_array (builder);
  for (guint i = 0; report->counter_signers != NULL && i < report->counter_signers->len; i++)
    add_signer (builder, g_ptr_array_index (report->counter_signers, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

static void
print_json (ImzalaVerification *verification, const GError *error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  ImzalaSignerReport *first = verification != NULL && verification->signers->len > 0
    ? g_ptr_array_index (verification->signers, 0) : NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "valid");
  json_builder_add_boolean_value (builder, verification != NULL
                                  && verification->status == IMZALA_VALIDATION_VALID);
  add_string (builder, "status", verification != NULL
              ? imzala_validation_to_string (verification->status) : "invalid");

  if (verification != NULL)
    {
      g_autofree char *digest = first != NULL && first->digest != NULL
        ? g_ascii_strdown (first->digest, -1) : NULL;

      add_string (builder, "reason", verification->reason);
      add_string (builder, "level", imzala_signature_level_to_string (verification->level));
      json_builder_set_member_name (builder, "qualified");
      json_builder_add_boolean_value (builder, verification->qualified);
      json_builder_set_member_name (builder, "detached");
      json_builder_add_boolean_value (builder, verification->detached);
      json_builder_set_member_name (builder, "content_length");
      json_builder_add_int_value (builder, (gint64) verification->content_length);

      /* The first signer's facts at the top level, as before multiple
       * signers were reported. */
      if (first != NULL && first->certificate != NULL)
        {
          json_builder_set_member_name (builder, "signer");
          json_builder_begin_object (builder);
          add_certificate (builder, first->certificate);
          json_builder_end_object (builder);
        }
      add_time (builder, "signing_time", first != NULL ? first->signing_time : NULL);
      add_string (builder, "digest", digest);
      json_builder_set_member_name (builder, "signing_certificate_v2");
      json_builder_add_boolean_value (builder, first != NULL
                                      && check_passed (first, "signing-certificate"));

      json_builder_set_member_name (builder, "signers");
      json_builder_begin_array (builder);
      for (guint i = 0; i < verification->signers->len; i++)
        add_signer (builder, g_ptr_array_index (verification->signers, i));
      json_builder_end_array (builder);

      if (verification->status != IMZALA_VALIDATION_VALID)
        {
          json_builder_set_member_name (builder, "error");
          json_builder_begin_object (builder);
          add_string (builder, "code", imzala_validation_to_string (verification->status));
          add_string (builder, "message", verification->reason);
          json_builder_end_object (builder);
        }
    }

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

int
imzala_cli_verify (int argc, char **argv)
{
  g_auto(GStrv) ca_paths = NULL;
  g_autofree char *content_path = NULL;
  g_autofree char *portal_ca = NULL;
  gboolean json = FALSE;
  gboolean offline = FALSE;
  gboolean show_progress = FALSE;
  const GOptionEntry entries[] = {
    { "ca", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ca_paths,
      N_("Trust the CA certificates in FILE (PEM or DER) or in the folder DIR; repeatable, at "
         "least one"), N_("FILE|DIR") },
    { "content", 0, 0, G_OPTION_ARG_FILENAME, &content_path,
      N_("The signed content, for a detached signature (or give it after the signature)"),
      N_("FILE") },
    { "offline", 0, 0, G_OPTION_ARG_NONE, &offline,
      N_("Fetch nothing: no issuer certificates, no OCSP, no CRLs"), NULL },
    { "portal-ca", 0, 0, G_OPTION_ARG_FILENAME, &portal_ca,
      N_("Also trust the CA in FILE (PEM or DER) for the HTTPS of the status services and issuer "
         "certificates (a portal's own CA); the signatures are checked against --ca only"),
      N_("FILE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON instead of text"), NULL },
    { "progress", 0, 0, G_OPTION_ARG_NONE, &show_progress,
      N_("Show progress on standard error while the content is hashed (shown on a terminal for large files anyway)"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(ImzalaTrust) trust = NULL;
  g_autoptr(GInputStream) signature = NULL;
  g_autoptr(GInputStream) content = NULL;
  g_autoptr(ImzalaVerification) verification = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaCliProgress progress = { 0 };
  guint64 signature_size = 0;
  guint64 content_size = 0;

  context = imzala_cli_option_context_new ("verify", _("SIGNATURE [CONTENT]"),
                                           _("Validates a CMS/CAdES signature file (DER or PEM; BES, EPES, T, C, X "
                                             "or X-L; any number of signers) at the time its time-stamp proves, "
                                             "else now: the signatures, the content, the chain to the CA "
                                             "certificates given with --ca (missing issuers fetched from the "
                                             "certificates' AIA), the certificates' status (OCSP or CRL, "
                                             "embedded or fetched) and the time-stamps. The result is valid, "
                                             "invalid or indeterminate."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!imzala_cli_parse_options (context, "verify", &argc, &argv))
    return IMZALA_CLI_EXIT_USAGE;

  if (argc < 2 || argc > 3)
    {
      imzala_cli_usage_error ("verify", _("Give one signature file, and the content for a detached one."));
      return IMZALA_CLI_EXIT_USAGE;
    }
  if (argc == 3)
    {
      if (content_path != NULL)
        {
          imzala_cli_usage_error ("verify", _("Give the content either with --content or after the signature, not both."));
          return IMZALA_CLI_EXIT_USAGE;
        }
      content_path = g_strdup (argv[2]);
    }
  if (ca_paths == NULL || ca_paths[0] == NULL)
    {
      imzala_cli_usage_error ("verify", _("Name the trusted CA certificates with --ca FILE or --ca DIR."));
      return IMZALA_CLI_EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "-") && content_path != NULL && g_str_equal (content_path, "-"))
    {
      imzala_cli_usage_error ("verify", _("The signature and the content cannot both come from standard input."));
      return IMZALA_CLI_EXIT_USAGE;
    }

  trust = imzala_trust_new ();
  imzala_trust_set_offline (trust, offline);
  if (portal_ca != NULL)
    {
      g_autoptr(GTlsDatabase) fetch_ca = imzala_trust_new_tls_database (portal_ca, NULL);

      if (fetch_ca == NULL)
        {
          g_set_error (&error, IMZALA_ERROR, IMZALA_ERROR_TLS,
                       _("The CA file “%s” does not hold a readable certificate."), portal_ca);
          return imzala_cli_report_error (error);
        }
      imzala_trust_set_fetch_ca (trust, fetch_ca);
    }
  for (guint i = 0; ca_paths[i] != NULL; i++)
    if (!imzala_trust_add_path (trust, ca_paths[i], &error))
      return imzala_cli_report_error (error);

  /* Streams, not files read whole: the content is hashed in chunks and an
   * attached signature's content is never copied, so a signature of a big
   * file costs no more memory than a small one (docs/cli.md, "Big
   * files"). */
  signature = open_input (argv[1], &signature_size, &error);
  if (signature == NULL)
    return imzala_cli_report_error (error);
  if (content_path != NULL)
    {
      content = open_input (content_path, &content_size, &error);
      if (content == NULL)
        return imzala_cli_report_error (error);
    }

  /* The content's size decides whether a terminal shows progress: the
   * signed file's, or the signature file's for an attached one (the content
   * is most of it); not known from standard input. */
  if (content_path != NULL)
    imzala_cli_progress_init (&progress, show_progress, !g_str_equal (content_path, "-"), content_size);
  else
    imzala_cli_progress_init (&progress, show_progress, !g_str_equal (argv[1], "-"), signature_size);
  imzala_cli_progress_start (&progress, IMZALA_CLI_PROGRESS_VERIFY);
  verification = imzala_verifier_verify_stream (signature, content, content_size, trust,
                                                imzala_cli_progress_cb, &progress, NULL, &error);
  imzala_cli_progress_end (&progress);
  if (json)
    print_json (verification, error);
  if (verification == NULL)
    {
      /* Whatever the reason, the file did not verify: one exit code for it,
       * the message says why. */
      imzala_cli_report_error (error);
      return IMZALA_CLI_EXIT_VERIFY;
    }

  if (!json)
    print_text (verification);
  if (verification->status != IMZALA_VALIDATION_VALID)
    {
      imzala_cli_printerr ("%s", verification->reason);
      return IMZALA_CLI_EXIT_VERIFY;
    }
  return IMZALA_CLI_EXIT_OK;
}
