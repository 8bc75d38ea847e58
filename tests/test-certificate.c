/* test-certificate.c: ImzalaCertificate on the fixture's certificates (as
 * files and as read from the SoftHSM tokens) and on made-up ones with unusual
 * or broken extensions. */
#include "config.h"

#include <string.h>
#include <openssl/pem.h>

#include "imzala-test.h"
#include "imzala-test-pki.h"

static GBytes *
der_of_pem_file (const char *path)
{
  BIO *bio = BIO_new_file (path, "r");
  X509 *x509;
  unsigned char *der = NULL;
  int length;
  GBytes *bytes;

  g_assert_nonnull (bio);
  x509 = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  g_assert_nonnull (x509);
  length = i2d_X509 (x509, &der);
  g_assert_cmpint (length, >, 0);
  bytes = g_bytes_new (der, length);
  OPENSSL_free (der);
  X509_free (x509);
  BIO_free (bio);
  return bytes;
}

static char *
manifest_get (GKeyFile *manifest, const char *group, const char *key)
{
  g_autoptr(GError) error = NULL;
  char *value = g_key_file_get_string (manifest, group, key, &error);

  g_assert_no_error (error);
  return value;
}

static gboolean
manifest_flag (GKeyFile *manifest, const char *name, const char *key)
{
  g_autofree char *group = g_strdup_printf ("certificate %s", name);
  g_autofree char *value = manifest_get (manifest, group, key);

  g_assert_true (g_str_equal (value, "true") || g_str_equal (value, "false"));
  return g_str_equal (value, "true");
}

static GKeyFile *
load_manifest (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (imzala_test_fixture_pristine_dir (), "fixture.ini", NULL);
  GKeyFile *manifest = g_key_file_new ();

  g_key_file_load_from_file (manifest, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  return manifest;
}

/* Every end-entity certificate the fixture puts on a token. */
static GStrv
fixture_certificate_names (GKeyFile *manifest)
{
  g_autofree char *tokens = manifest_get (manifest, "fixture", "tokens");
  g_auto(GStrv) labels = g_strsplit (tokens, ";", -1);
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();

  for (guint i = 0; labels[i] != NULL; i++)
    {
      g_autofree char *group = g_strdup_printf ("token %s", labels[i]);
      g_autofree char *list = manifest_get (manifest, group, "certificates");
      g_auto(GStrv) on_token = g_strsplit (list, ";", -1);

      for (guint j = 0; on_token[j] != NULL; j++)
        if (on_token[j][0] != '\0')
          g_strv_builder_add (names, on_token[j]);
    }
  return g_strv_builder_end (names);
}

static ImzalaCertificateProblem
expected_problems (GKeyFile *manifest, const char *name)
{
  ImzalaCertificateProblem problems = IMZALA_CERTIFICATE_PROBLEM_NONE;

  if (!manifest_flag (manifest, name, "qualified"))
    problems |= IMZALA_CERTIFICATE_PROBLEM_NOT_QUALIFIED;
  if (!manifest_flag (manifest, name, "non-repudiation"))
    problems |= IMZALA_CERTIFICATE_PROBLEM_NO_NON_REPUDIATION;
  if (manifest_flag (manifest, name, "expired"))
    problems |= IMZALA_CERTIFICATE_PROBLEM_EXPIRED;
  return problems;
}

static guint
count_bits (guint flags)
{
  guint count = 0;

  for (; flags != 0; flags &= flags - 1)
    count++;
  return count;
}

static void
check_against_manifest (ImzalaCertificate *certificate, GKeyFile *manifest, const char *name)
{
  g_autofree char *group = g_strdup_printf ("certificate %s", name);
  g_autofree char *holder = manifest_get (manifest, group, "holder");
  g_autofree char *tckn = manifest_get (manifest, group, "tckn");
  g_autofree char *key = manifest_get (manifest, group, "key");
  g_autofree char *fingerprint = manifest_get (manifest, group, "fingerprint");
  g_autofree char *serial_entry = g_strdup_printf ("serialNumber=%s", tckn);
  g_autofree char *cn_entry = g_strdup_printf ("CN=%s", holder);
  gboolean qualified = manifest_flag (manifest, name, "qualified");
  gboolean non_repudiation = manifest_flag (manifest, name, "non-repudiation");
  gboolean expired = manifest_flag (manifest, name, "expired");
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  g_test_message ("Checking %s: %s", name, imzala_certificate_get_subject (certificate));
  g_assert_cmpstr (imzala_certificate_get_holder_name (certificate), ==, holder);
  g_assert_cmpstr (imzala_certificate_get_tckn (certificate), ==, tckn);
  g_assert_cmpstr (imzala_certificate_get_key_description (certificate), ==, key);
  g_assert_cmpstr (imzala_certificate_get_fingerprint (certificate), ==, fingerprint);
  g_assert_cmpstr (imzala_certificate_get_issuer_name (certificate), ==, "İmzala Test NES SM");
  g_assert_nonnull (strstr (imzala_certificate_get_subject (certificate), cn_entry));
  g_assert_nonnull (strstr (imzala_certificate_get_subject (certificate), serial_entry));
  g_assert_nonnull (strstr (imzala_certificate_get_issuer (certificate), "CN=İmzala Test NES SM"));
  g_assert_true (g_utf8_validate (imzala_certificate_get_subject (certificate), -1, NULL));

  if (g_str_equal (key, "RSA 2048"))
    {
      g_assert_cmpint (imzala_certificate_get_key_type (certificate), ==, IMZALA_KEY_TYPE_RSA);
      g_assert_cmpuint (imzala_certificate_get_key_bits (certificate), ==, 2048);
    }
  else if (g_str_equal (key, "EC P-256"))
    {
      g_assert_cmpint (imzala_certificate_get_key_type (certificate), ==, IMZALA_KEY_TYPE_EC_P256);
      g_assert_cmpuint (imzala_certificate_get_key_bits (certificate), ==, 256);
    }
  else if (g_str_equal (key, "EC P-384"))
    {
      g_assert_cmpint (imzala_certificate_get_key_type (certificate), ==, IMZALA_KEY_TYPE_EC_P384);
      g_assert_cmpuint (imzala_certificate_get_key_bits (certificate), ==, 384);
    }
  else
    g_assert_not_reached ();

  g_assert_cmpint (imzala_certificate_is_qualified (certificate), ==, qualified);
  g_assert_cmpint (!!(imzala_certificate_get_key_usage (certificate)
                      & IMZALA_KEY_USAGE_NON_REPUDIATION), ==, non_repudiation);
  g_assert_false (imzala_certificate_is_ca (certificate));
  g_assert_cmpint (imzala_certificate_is_valid_at (certificate, now), ==, !expired);
  g_assert_cmpint (g_date_time_compare (imzala_certificate_get_not_before (certificate),
                                        imzala_certificate_get_not_after (certificate)), <, 0);

  /* Upper-case hex, no separators. */
  g_assert_cmpuint (strlen (imzala_certificate_get_serial (certificate)), >, 0);
  for (const char *c = imzala_certificate_get_serial (certificate); *c; c++)
    g_assert_true (g_ascii_isdigit (*c) || (*c >= 'A' && *c <= 'F'));
}

static void
test_fixture_files (void)
{
  g_autoptr(GKeyFile) manifest = load_manifest ();
  g_auto(GStrv) names = fixture_certificate_names (manifest);

  g_assert_cmpuint (g_strv_length (names), ==, 6);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *group = g_strdup_printf ("certificate %s", names[i]);
      g_autofree char *file = manifest_get (manifest, group, "file");
      g_autofree char *path = g_build_filename (imzala_test_fixture_pristine_dir (), file, NULL);
      g_autoptr(GBytes) der = der_of_pem_file (path);
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaCertificate) certificate = imzala_certificate_new_from_der (der, &error);
      g_autoptr(GBytes) id = g_bytes_new_static ("\xa1", 1);
      ImzalaCertificateProblem problems = expected_problems (manifest, names[i]);
      g_auto(GStrv) sentences = NULL;

      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (imzala_certificate_get_der (certificate), der));
      check_against_manifest (certificate, manifest, names[i]);

      /* A file has no key: never recommended. */
      g_assert_cmpint (imzala_certificate_get_problems (certificate, NULL), ==,
                       problems | IMZALA_CERTIFICATE_PROBLEM_NO_PRIVATE_KEY);
      g_assert_false (imzala_certificate_is_recommended (certificate));
      g_assert_null (imzala_certificate_get_id (certificate));

      /* With a key (as a token would bind it) it is what the fixture says. */
      imzala_certificate_set_object_info (certificate, id, "LABEL", TRUE);
      g_assert_cmpint (imzala_certificate_get_problems (certificate, NULL), ==, problems);
      g_assert_cmpint (imzala_certificate_is_recommended (certificate), ==,
                       manifest_flag (manifest, names[i], "recommended"));
      sentences = imzala_certificate_describe_problems (certificate, NULL);
      g_assert_cmpuint (g_strv_length (sentences), ==, count_bits (problems));
    }
}

static void
test_fixture_ca (void)
{
  g_autoptr(GKeyFile) manifest = load_manifest ();
  const char *keys[] = { "root-ca", "sub-ca" };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autofree char *file = manifest_get (manifest, "fixture", keys[i]);
      g_autofree char *path = g_build_filename (imzala_test_fixture_pristine_dir (), file, NULL);
      g_autoptr(GBytes) der = der_of_pem_file (path);
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaCertificate) certificate = imzala_certificate_new_from_der (der, &error);
      ImzalaKeyUsage usage;

      g_assert_no_error (error);
      usage = imzala_certificate_get_key_usage (certificate);
      g_assert_true (imzala_certificate_is_ca (certificate));
      g_assert_true (imzala_certificate_get_problems (certificate, NULL)
                     & IMZALA_CERTIFICATE_PROBLEM_CA);
      g_assert_cmpint (imzala_certificate_get_key_type (certificate), ==, IMZALA_KEY_TYPE_EC_P384);
      g_assert_true (usage & IMZALA_KEY_USAGE_KEY_CERT_SIGN);
      g_assert_true (usage & IMZALA_KEY_USAGE_CRL_SIGN);
      g_assert_false (usage & IMZALA_KEY_USAGE_NON_REPUDIATION);
      g_assert_null (imzala_certificate_get_tckn (certificate));
      g_assert_false (imzala_certificate_is_recommended (certificate));
    }
}

static char *
hex_of (GBytes *bytes)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  GString *hex = g_string_new (NULL);

  for (gsize i = 0; i < size; i++)
    g_string_append_printf (hex, "%02x", data[i]);
  return g_string_free (hex, FALSE);
}

static void
test_on_tokens (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaModuleSet) modules = imzala_test_fixture_load (fixture, &error);
  g_autoptr(GPtrArray) tokens = NULL;
  g_auto(GStrv) names = NULL;
  guint found = 0;
  guint ca_found = 0;

  g_assert_no_error (error);
  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  names = fixture_certificate_names (fixture->manifest);

  for (guint t = 0; t < tokens->len; t++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, t);
      GPtrArray *certificates = imzala_token_get_certificates (token);

      for (guint c = 0; c < certificates->len; c++)
        {
          ImzalaCertificate *certificate = g_ptr_array_index (certificates, c);
          const char *fingerprint = imzala_certificate_get_fingerprint (certificate);
          g_autofree char *uri = imzala_token_dup_certificate_uri (token, certificate);
          g_autofree char *token_label = g_uri_escape_string (imzala_token_get_label (token), NULL,
                                                              FALSE);
          g_autoptr(ImzalaCertificate) again = NULL;
          g_autoptr(ImzalaToken) again_token = NULL;
          const char *name = NULL;

          g_assert_true (imzala_token_has_certificate (token, certificate));
          g_assert_true (imzala_module_set_find_token (tokens, certificate) == token);
          g_assert_nonnull (uri);
          g_assert_true (g_str_has_prefix (uri, "pkcs11:"));
          g_assert_nonnull (strstr (uri, "type=cert"));
          g_test_message ("%s", uri);

          /* The URI finds this very certificate again. */
          again = imzala_module_set_find_certificate (tokens, uri, &again_token, &error);
          g_assert_no_error (error);
          g_assert_true (again == certificate);
          g_assert_true (again_token == token);

          if (imzala_certificate_is_ca (certificate))
            {
              g_assert_cmpstr (imzala_certificate_get_holder_name (certificate), ==,
                               "İmzala Test NES SM");
              g_assert_false (imzala_certificate_is_recommended (certificate));
              ca_found++;
              continue;
            }

          for (guint i = 0; names[i] != NULL; i++)
            {
              g_autofree char *expected = imzala_test_fixture_cert_get (fixture, names[i],
                                                                        "fingerprint");
              if (g_str_equal (expected, fingerprint))
                name = names[i];
            }
          g_assert_nonnull (name);
          found++;

          check_against_manifest (certificate, fixture->manifest, name);
          {
            g_autofree char *id = imzala_test_fixture_cert_get (fixture, name, "id");
            g_autofree char *label = imzala_test_fixture_cert_get (fixture, name, "label");
            g_autofree char *token_name = imzala_test_fixture_cert_get (fixture, name, "token");
            g_autofree char *id_hex = hex_of (imzala_certificate_get_id (certificate));

            g_assert_cmpstr (id_hex, ==, id);
            g_assert_cmpstr (imzala_certificate_get_label (certificate), ==, label);
            g_assert_cmpstr (imzala_token_get_label (token), ==, token_name);
          }
          g_assert_true (imzala_certificate_has_private_key (certificate));
          g_assert_cmpint (imzala_certificate_get_problems (certificate, NULL), ==,
                           expected_problems (fixture->manifest, name));
          g_assert_cmpint (imzala_certificate_is_recommended (certificate), ==,
                           manifest_flag (fixture->manifest, name, "recommended"));
        }
    }

  g_assert_cmpuint (found, ==, g_strv_length (names));
  /* The issuing CA is on tokens 1 and 2. */
  g_assert_cmpuint (ca_found, ==, 2);
}

static void
test_garbage (void)
{
  g_autoptr(GKeyFile) manifest = load_manifest ();
  g_autofree char *file = manifest_get (manifest, "certificate ayse-rsa", "file");
  g_autofree char *path = g_build_filename (imzala_test_fixture_pristine_dir (), file, NULL);
  g_autoptr(GBytes) der = der_of_pem_file (path);
  gsize size;
  const guint8 *data = g_bytes_get_data (der, &size);
  static const char *const junk[] = { "", "\x30", "\x30\x82\xff\xff", "not a certificate" };

  for (gsize i = 0; i < G_N_ELEMENTS (junk); i++)
    {
      g_autoptr(GBytes) input = g_bytes_new_static (junk[i], strlen (junk[i]));
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaCertificate) certificate = imzala_certificate_new_from_der (input, &error);

      g_assert_null (certificate);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID);
    }

  /* Every truncation, and a trailing byte. */
  for (gsize length = 0; length < size; length++)
    {
      g_autoptr(GBytes) input = g_bytes_new (data, length);
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaCertificate) certificate = imzala_certificate_new_from_der (input, &error);

      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID);
    }
  {
    g_autoptr(GByteArray) longer = g_byte_array_new ();
    g_autoptr(GBytes) input = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(ImzalaCertificate) certificate = NULL;

    g_byte_array_append (longer, data, size);
    g_byte_array_append (longer, (const guint8 *) "", 1);
    input = g_byte_array_free_to_bytes (g_steal_pointer (&longer));
    certificate = imzala_certificate_new_from_der (input, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID);
  }

  /* Flipped bits: parsed or refused, never a crash, always UTF-8. */
  for (gsize offset = 0; offset < size; offset++)
    {
      guint8 *copy = g_memdup2 (data, size);
      g_autoptr(GBytes) input = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaCertificate) certificate = NULL;

      copy[offset] ^= 0x80;
      input = g_bytes_new_take (copy, size);
      certificate = imzala_certificate_new_from_der (input, &error);
      g_assert_true ((certificate == NULL) == (error != NULL));
      if (certificate != NULL)
        {
          g_assert_true (g_utf8_validate (imzala_certificate_get_subject (certificate), -1, NULL));
          g_assert_true (g_utf8_validate (imzala_certificate_get_holder_name (certificate), -1,
                                          NULL));
          imzala_certificate_get_problems (certificate, NULL);
        }
    }
}

static ImzalaCertificate *
made_up (const char *serial_number, const char *common_name, const char *key,
         const char *key_usage, const char *qc_statements_hex, gint64 not_before,
         gint64 not_after)
{
  ImzalaTestCertSpec spec = {
    .common_name = common_name,
    .serial_number = serial_number,
    .key = key,
    .key_usage = key_usage,
    .qc_statements_hex = qc_statements_hex,
    .not_before = not_before,
    .not_after = not_after,
  };
  g_autoptr(ImzalaTestIdentity) identity = imzala_test_identity_new (&spec, NULL);
  unsigned char *der = NULL;
  int length = i2d_X509 (identity->x509, &der);
  g_autoptr(GBytes) bytes = g_bytes_new (der, length);
  g_autoptr(GError) error = NULL;
  ImzalaCertificate *certificate;

  OPENSSL_free (der);
  /* Through DER, as certificates from a token come. */
  certificate = imzala_certificate_new_from_der (bytes, &error);
  g_assert_no_error (error);
  return certificate;
}

static void
test_tckn (void)
{
  static const struct { const char *serial_number; const char *tckn; } cases[] = {
    { "12345678950", "12345678950" },
    { "TCKN12345678950", "12345678950" },
    { "tckn12345678950", "12345678950" },
    { "TC12345678950", "12345678950" },
    { "TCKN:10000000146", "10000000146" },
    { "12345678951", NULL },        /* wrong check digit */
    { "02345678950", NULL },        /* leading zero */
    { "1234567895", NULL },         /* ten digits */
    { "TCKN1234567895X", NULL },
    { "PASSTR-U12345678", NULL },
    { NULL, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(ImzalaCertificate) certificate =
        made_up (cases[i].serial_number, "KİŞİ", "p256", "critical,nonRepudiation", NULL, 0, 0);

      g_assert_cmpstr (imzala_certificate_get_tckn (certificate), ==, cases[i].tckn);
    }
}

static void
test_qc_statements (void)
{
  static const struct { const char *hex; gboolean qualified; } cases[] = {
    { IMZALA_TEST_QC_COMPLIANCE, TRUE },
    /* QcSSCD, QcType with statementInfo, then QcCompliance. */
    { "30293008060604008E4601043013060604008E4601063009060704008E460106013008060604008E460101", TRUE },
    /* QcSSCD and QcType only. */
    { "301F3008060604008E4601043013060604008E4601063009060704008E46010601", FALSE },
    /* An OID that starts like QcCompliance but is longer. */
    { "300B3009060704008E46010100", FALSE },
    /* QcCompliance not wrapped in a QCStatement. */
    { "060604008E460101", FALSE },
    /* The right bytes with a context tag instead of OBJECT IDENTIFIER. */
    { "300A3008860604008E460101", FALSE },
    /* Malformed: lengths beyond the end, indefinite length, nonsense. */
    { "300A3008060604008E4601", FALSE },
    { "30803008060604008E4601010000", FALSE },
    { "3004300206FF", FALSE },
    { "30FF", FALSE },
    { "30023000", FALSE },
    { "3000", FALSE },
    { "05", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(ImzalaCertificate) certificate =
        made_up ("12345678950", "KİŞİ", "p256", "critical,nonRepudiation", cases[i].hex, 0, 0);

      g_test_message ("qcStatements %s", cases[i].hex);
      g_assert_cmpint (imzala_certificate_is_qualified (certificate), ==, cases[i].qualified);
    }
}

static void
test_key_types_and_usage (void)
{
  g_autoptr(ImzalaCertificate) rsa = made_up (NULL, "A", "rsa2048", NULL, NULL, 0, 0);
  g_autoptr(ImzalaCertificate) p256 =
    made_up (NULL, "B", "p256", "critical,digitalSignature,keyAgreement", NULL, 0, 0);
  g_autoptr(ImzalaCertificate) p384 =
    made_up (NULL, "C", "p384", "nonRepudiation,keyEncipherment,dataEncipherment", NULL, 0, 0);

  g_assert_cmpstr (imzala_certificate_get_key_description (rsa), ==, "RSA 2048");
  g_assert_cmpstr (imzala_certificate_get_key_description (p256), ==, "EC P-256");
  g_assert_cmpstr (imzala_certificate_get_key_description (p384), ==, "EC P-384");

  /* No keyUsage extension: nothing is granted for our purposes. */
  g_assert_cmpint (imzala_certificate_get_key_usage (rsa), ==, IMZALA_KEY_USAGE_NONE);
  g_assert_cmpint (imzala_certificate_get_key_usage (p256), ==,
                   IMZALA_KEY_USAGE_DIGITAL_SIGNATURE | IMZALA_KEY_USAGE_KEY_AGREEMENT);
  g_assert_cmpint (imzala_certificate_get_key_usage (p384), ==,
                   IMZALA_KEY_USAGE_NON_REPUDIATION | IMZALA_KEY_USAGE_KEY_ENCIPHERMENT
                   | IMZALA_KEY_USAGE_DATA_ENCIPHERMENT);
}

static void
test_names (void)
{
  g_autoptr(ImzalaCertificate) no_cn = made_up ("12345678950", NULL, "p256", NULL, NULL, 0, 0);
  g_autoptr(ImzalaCertificate) special =
    made_up (NULL, "ÇĞİÖŞÜ çğıöşü, \"Ltd\"; +=", "p256", NULL, NULL, 0, 0);

  /* Without a commonName the one-line subject stands in. */
  g_assert_cmpstr (imzala_certificate_get_holder_name (no_cn), ==,
                   imzala_certificate_get_subject (no_cn));
  g_assert_nonnull (strstr (imzala_certificate_get_subject (no_cn), "serialNumber=12345678950"));
  /* Self-signed: the issuer is the subject. */
  g_assert_cmpstr (imzala_certificate_get_issuer (no_cn), ==,
                   imzala_certificate_get_subject (no_cn));

  /* UTF-8 as it is, RFC 2253 escapes only for the special characters. */
  g_assert_cmpstr (imzala_certificate_get_holder_name (special), ==, "ÇĞİÖŞÜ çğıöşü, \"Ltd\"; +=");
  g_assert_nonnull (strstr (imzala_certificate_get_subject (special), "ÇĞİÖŞÜ çğıöşü"));
}

static void
test_problem_sentences (void)
{
  /* 2020-06-01 .. 2021-01-01 12:00 UTC. */
  g_autoptr(ImzalaCertificate) expired =
    made_up ("12345678950", "X", "p256", "critical,nonRepudiation", IMZALA_TEST_QC_COMPLIANCE,
             1590969600, 1609502400);
  /* 2099-03-05 .. 2100-01-01 UTC. */
  g_autoptr(ImzalaCertificate) future =
    made_up ("12345678950", "X", "p256", "critical,keyEncipherment", NULL, 4076409600,
             4102444800);
  g_autoptr(GDateTime) inside = g_date_time_new_utc (2020, 7, 1, 0, 0, 0);
  g_autoptr(GBytes) id = g_bytes_new_static ("\x01", 1);
  g_auto(GStrv) expired_sentences = NULL;
  g_auto(GStrv) future_sentences = NULL;
  const char *const expected_future[] = {
    "Not valid before 5 March 2099.",
    "Not a qualified certificate.",
    "Not meant for electronic signatures (no non-repudiation key usage).",
    "No private key for this certificate on the card.",
    NULL,
  };

  imzala_certificate_set_object_info (expired, id, "OLD", TRUE);
  g_assert_cmpint (imzala_certificate_get_problems (expired, NULL), ==,
                   IMZALA_CERTIFICATE_PROBLEM_EXPIRED);
  g_assert_cmpint (imzala_certificate_get_problems (expired, inside), ==,
                   IMZALA_CERTIFICATE_PROBLEM_NONE);
  g_assert_true (imzala_certificate_is_valid_at (expired, inside));
  g_assert_false (imzala_certificate_is_valid_at (expired, NULL));
  expired_sentences = imzala_certificate_describe_problems (expired, NULL);
  g_assert_cmpstrv (expired_sentences, ((const char *const[]) { "Expired on 1 January 2021.", NULL }));

  future_sentences = imzala_certificate_describe_problems (future, NULL);
  g_assert_cmpstrv (future_sentences, expected_future);
}

/* A certificate is pure OpenSSL: one that no token ever saw (no token, no
 * SoftHSM, no PKCS#11) signs a CAdES-BES through the CMS builder's sign
 * callback with a key held in this process, and the signature verifies. */
static void
test_signs_without_token (void)
{
  ImzalaTestCertSpec root_spec = { .common_name = "Kök", .key = "p256", .ca = TRUE };
  g_autoptr(ImzalaTestIdentity) root = imzala_test_identity_new (&root_spec, NULL);
  ImzalaTestCertSpec leaf_spec = {
    .common_name = "TEST KİŞİ",
    .serial_number = "12345678950",
    .key = "rsa2048",
    .key_usage = "critical,nonRepudiation",
    .qc_statements_hex = IMZALA_TEST_QC_COMPLIANCE,
  };
  g_autoptr(ImzalaTestIdentity) leaf = imzala_test_identity_new (&leaf_spec, root);
  g_autoptr(ImzalaCertificate) certificate = imzala_test_identity_certificate (leaf);
  g_autoptr(GBytes) content = g_bytes_new_static ("e-onay", 6);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;
  X509_STORE *trust = imzala_test_identity_store (root);

  g_assert_null (imzala_certificate_get_id (certificate));
  g_assert_null (imzala_certificate_get_label (certificate));
  g_assert_false (imzala_certificate_has_private_key (certificate));

  cms = imzala_cms_sign (certificate, NULL, content, IMZALA_CMS_NONE, NULL,
                         imzala_test_identity_sign, leaf, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cms);

  result = imzala_cms_verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_no_error (error);
  g_assert_true (result->has_signing_certificate_v2);
  g_assert_cmpint (result->digest, ==, imzala_digest_for_certificate (certificate));
  g_assert_cmpstr (imzala_certificate_get_fingerprint (result->signer), ==,
                   imzala_certificate_get_fingerprint (certificate));
  g_assert_cmpstr (imzala_certificate_get_tckn (result->signer), ==, "12345678950");
  X509_STORE_free (trust);
}

/* The portal names the requester by a masked T.C. kimlik no; the sign page
 * puts the certificates that fit it first. */
static void
test_tckn_hint (void)
{
  g_autoptr(ImzalaCertificate) ayse =
    made_up ("12345678950", "AYŞE YILMAZ", "p256", "critical,nonRepudiation", NULL, 0, 0);
  g_autoptr(ImzalaCertificate) mehmet =
    made_up ("10000000146", "MEHMET DEMİR", "p256", "critical,nonRepudiation", NULL, 0, 0);
  g_autoptr(ImzalaCertificate) foreign =
    made_up ("PASSTR-U12345678", "JOHN SMITH", "p256", "critical,nonRepudiation", NULL, 0, 0);

  g_assert_true (imzala_certificate_matches_tckn_hint (ayse, "123******50"));
  g_assert_true (imzala_certificate_matches_tckn_hint (ayse, "12345678950"));
  g_assert_true (imzala_certificate_matches_tckn_hint (ayse, "1**********"));
  g_assert_false (imzala_certificate_matches_tckn_hint (mehmet, "123******50"));
  /* 100******46 against 123456789 50: the first digits already differ. */
  g_assert_false (imzala_certificate_matches_tckn_hint (ayse, "100******46"));
  g_assert_true (imzala_certificate_matches_tckn_hint (mehmet, "100******46"));
  /* Only the last digit differs. */
  g_assert_false (imzala_certificate_matches_tckn_hint (ayse, "123******51"));
  /* Nothing shown, the wrong length, no hint, no T.C. kimlik no. */
  g_assert_false (imzala_certificate_matches_tckn_hint (ayse, "***********"));
  g_assert_false (imzala_certificate_matches_tckn_hint (ayse, "123*****50"));
  g_assert_false (imzala_certificate_matches_tckn_hint (ayse, "123*******50"));
  g_assert_false (imzala_certificate_matches_tckn_hint (ayse, ""));
  g_assert_false (imzala_certificate_matches_tckn_hint (ayse, NULL));
  g_assert_false (imzala_certificate_matches_tckn_hint (foreign, "123******50"));
}

int
main (int argc, char **argv)
{
  /* Dates in sentences are local time; make them predictable. */
  g_setenv ("TZ", "UTC", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/certificate/fixture-files", test_fixture_files);
  g_test_add_func ("/certificate/fixture-ca", test_fixture_ca);
  g_test_add_func ("/certificate/on-tokens", test_on_tokens);
  g_test_add_func ("/certificate/garbage", test_garbage);
  g_test_add_func ("/certificate/tckn", test_tckn);
  g_test_add_func ("/certificate/qc-statements", test_qc_statements);
  g_test_add_func ("/certificate/key-types-and-usage", test_key_types_and_usage);
  g_test_add_func ("/certificate/names", test_names);
  g_test_add_func ("/certificate/problem-sentences", test_problem_sentences);
  g_test_add_func ("/certificate/signs-without-token", test_signs_without_token);
  g_test_add_func ("/certificate/tckn-hint", test_tckn_hint);

  return g_test_run ();
}
