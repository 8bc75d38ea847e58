#define G_LOG_DOMAIN "imzala-cli"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <openssl/x509_vfy.h>

#include "imzala-cli.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE, X509_STORE_free)

static const char *
digest_name (ImzalaDigest digest)
{
  switch (digest)
    {
    case IMZALA_DIGEST_SHA384:
      return "SHA-384";
    case IMZALA_DIGEST_SHA256:
    default:
      return "SHA-256";
    }
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

static void
print_text (ImzalaVerifyResult *result)
{
  ImzalaCertificate *signer = result->signer;
  const char *tckn = imzala_certificate_get_tckn (signer);
  g_autofree char *when = format_time (result->signing_time);

  g_print (_("The signature is valid.\n"));
  g_print (_("  Signer:          %s\n"), imzala_certificate_get_holder_name (signer));
  g_print (_("  T.C. kimlik no:  %s\n"), tckn != NULL ? tckn : _("none"));
  g_print (_("  Issuer:          %s\n"), imzala_certificate_get_issuer_name (signer));
  g_print (_("  Signing time:    %s\n"), when);
  g_print (_("  Qualified:       %s\n"), imzala_certificate_is_qualified (signer) ? _("yes") : _("no"));
  g_print (_("  Digest:          %s\n"), digest_name (result->digest));
  g_print (_("  Detached:        %s\n"), result->detached ? _("yes") : _("no"));
  g_print (_("  Certificate:     %s\n"), imzala_certificate_get_fingerprint (signer));
}

static void
print_json (ImzalaVerifyResult *result, const GError *error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "valid");
  json_builder_add_boolean_value (builder, result != NULL);

  if (result != NULL)
    {
      ImzalaCertificate *signer = result->signer;
      const char *tckn = imzala_certificate_get_tckn (signer);
      g_autofree char *when = result->signing_time != NULL
        ? g_date_time_format_iso8601 (result->signing_time) : NULL;

      json_builder_set_member_name (builder, "signer");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "holder");
      json_builder_add_string_value (builder, imzala_certificate_get_holder_name (signer));
      json_builder_set_member_name (builder, "tckn");
      if (tckn != NULL)
        json_builder_add_string_value (builder, tckn);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "subject");
      json_builder_add_string_value (builder, imzala_certificate_get_subject (signer));
      json_builder_set_member_name (builder, "issuer");
      json_builder_add_string_value (builder, imzala_certificate_get_issuer (signer));
      json_builder_set_member_name (builder, "sha256");
      json_builder_add_string_value (builder, imzala_certificate_get_fingerprint (signer));
      json_builder_end_object (builder);

      json_builder_set_member_name (builder, "signing_time");
      if (when != NULL)
        json_builder_add_string_value (builder, when);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "qualified");
      json_builder_add_boolean_value (builder, imzala_certificate_is_qualified (signer));
      json_builder_set_member_name (builder, "digest");
      json_builder_add_string_value (builder, result->digest == IMZALA_DIGEST_SHA384 ? "sha384" : "sha256");
      json_builder_set_member_name (builder, "detached");
      json_builder_add_boolean_value (builder, result->detached);
      json_builder_set_member_name (builder, "signing_certificate_v2");
      json_builder_add_boolean_value (builder, result->has_signing_certificate_v2);
      json_builder_set_member_name (builder, "content_length");
      json_builder_add_int_value (builder, result->content != NULL ? (gint64) g_bytes_get_size (result->content) : 0);
    }

  if (error != NULL)
    {
      json_builder_set_member_name (builder, "error");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "code");
      json_builder_add_string_value (builder, error->domain == IMZALA_ERROR
                                     ? imzala_error_code_to_string (error->code) : "failed");
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, error->message);
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
  g_autofree char *ca_path = NULL;
  g_autofree char *content_path = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca_path,
      N_("Trust the CA certificates in FILE (PEM); required"), N_("FILE") },
    { "content", 0, 0, G_OPTION_ARG_FILENAME, &content_path,
      N_("The signed content, for a detached signature"), N_("FILE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON instead of text"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(X509_STORE) trust = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GBytes) content = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;
  g_autoptr(GError) error = NULL;

  context = imzala_cli_option_context_new ("verify", _("SIGNATURE"),
                                           _("Verifies a CMS signature file (DER or PEM): the signature, the content, "
                                             "the chain to the CA certificates given with --ca, the validity of the "
                                             "signer's certificate at signing time and its signing-certificate-v2 attribute."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!imzala_cli_parse_options (context, "verify", &argc, &argv))
    return IMZALA_CLI_EXIT_USAGE;

  if (argc != 2)
    {
      imzala_cli_usage_error ("verify", _("Give one signature file."));
      return IMZALA_CLI_EXIT_USAGE;
    }
  if (ca_path == NULL)
    {
      imzala_cli_usage_error ("verify", _("Name the trusted CA certificates with --ca FILE."));
      return IMZALA_CLI_EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "-") && content_path != NULL && g_str_equal (content_path, "-"))
    {
      imzala_cli_usage_error ("verify", _("The signature and the content cannot both come from standard input."));
      return IMZALA_CLI_EXIT_USAGE;
    }

  trust = imzala_cms_load_trust_file (ca_path, &error);
  if (trust == NULL)
    return imzala_cli_report_error (error);

  cms = imzala_cli_read_input (argv[1], &error);
  if (cms == NULL)
    return imzala_cli_report_error (error);

  if (content_path != NULL)
    {
      content = imzala_cli_read_input (content_path, &error);
      if (content == NULL)
        return imzala_cli_report_error (error);
    }

  result = imzala_cms_verify (cms, content, trust, IMZALA_VERIFY_NONE, &error);
  if (json)
    print_json (result, error);
  if (result == NULL)
    {
      /* Whatever the reason, the file did not verify: one exit code for it,
       * the message says why. */
      imzala_cli_report_error (error);
      return IMZALA_CLI_EXIT_VERIFY;
    }

  if (!json)
    print_text (result);
  return IMZALA_CLI_EXIT_OK;
}
